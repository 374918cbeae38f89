#include "models/neumf.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/autograd.h"
#include "core/parallel.h"
#include "nn/init.h"
#include "nn/mlp.h"
#include "ops/concat.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace curec::models {

NeuMF::NeuMF(const NeuMFConfig& c, Generator& gen) : config_(c) {
  CUREC_CHECK(c.num_users > 0 && c.num_items > 0 && c.factors > 0, "neumf: needs positive users, items and factors, got ",
              c.num_users, ", ", c.num_items, ", ", c.factors);
  CUREC_CHECK(!c.hidden.empty(), "neumf: the MLP branch needs at least one hidden layer");
  gmf_users_ = register_module("gmf_users", std::make_shared<nn::Embedding>(c.num_users, c.factors, EmbeddingOptions{}, gen));
  gmf_items_ = register_module("gmf_items", std::make_shared<nn::Embedding>(c.num_items, c.factors, EmbeddingOptions{}, gen));
  mlp_users_ = register_module("mlp_users", std::make_shared<nn::Embedding>(c.num_users, c.factors, EmbeddingOptions{}, gen));
  mlp_items_ = register_module("mlp_items", std::make_shared<nn::Embedding>(c.num_items, c.factors, EmbeddingOptions{}, gen));
  std::vector<int64_t> sizes{2 * c.factors};
  for (int64_t h : c.hidden) {
    CUREC_CHECK(h > 0, "neumf: hidden layer sizes must be positive, got ", h);
    sizes.push_back(h);
  }
  mlp_ = register_module("mlp", nn::mlp(sizes, {.activation = nn::Activation::relu, .activation_on_last = true}, gen));
  if (c.final_linear)
    predict_ = register_module("predict", std::make_shared<nn::Linear>(c.factors + c.hidden.back(), 1, nn::LinearOptions{.bias = false}, gen));
  for (auto& [name, p] : named_parameters()) nn::normal_(p, 0.0f, c.init_std, gen);
}

Tensor NeuMF::score_embeddings(const Tensor& p, const Tensor& q, const Tensor& uv) {
  Tensor joint = concat({p * q, mlp_->forward(uv)}, 1);
  if (predict_) return squeeze(predict_->forward(joint), -1);
  return sum(joint, 1);
}

Tensor NeuMF::forward(const Tensor& users, const Tensor& items) {
  CUREC_CHECK(users.defined() && items.defined() && users.dim() == 1 && items.dim() == 1 &&
                  users.numel() == items.numel(),
              "neumf: users and items must be 1-D and of equal length, got ", users.defined() ? users.str() : "none",
              " and ", items.defined() ? items.str() : "none");
  return score_embeddings(gmf_users_->forward(users), gmf_items_->forward(items),
                          concat({mlp_users_->forward(users), mlp_items_->forward(items)}, 1));
}

namespace {
// Pairs scored together on the CPU: small enough that a block's activations (about a dozen
// [block, factors] tensors) stay in a core's cache, large enough that a block's dozen op calls
// cost little beside their work.
constexpr int64_t kCpuPairBlock = 2048;

// dst row r = src row first + r / items for a user-side table ([n, k] -> one row per pair), or
// src row (first + r) % items for an item-side table (the whole item table, cycled).
void spread_rows(const float* src, int64_t k, int64_t items, int64_t first, int64_t len, bool by_user, float* dst,
                 int64_t dst_stride) {
  for (int64_t r = 0; r < len; ++r) {
    const int64_t pair = first + r;
    const float* row = src + (by_user ? pair / items : pair % items) * k;
    std::memcpy(dst + r * dst_stride, row, static_cast<size_t>(k) * sizeof(float));
  }
}
}  // namespace

// The CPU path: the n * items pairs in blocks of kCpuPairBlock, blocks spread over the threads
// (each block's ops then run whole on its thread). The embedding rows are copied straight from
// the tables (the users' looked up once), and every op is row by row, so each score has the bits
// the whole batch gives; tests/test_ranking_scores.cpp holds it to forward() bit for bit.
Tensor NeuMF::score_pairs_cpu(const Tensor& users) {
  const int64_t n = users.numel(), items = config_.num_items, k = config_.factors, pairs = n * items;
  const Tensor p_users = gmf_users_->forward(users), u_users = mlp_users_->forward(users);
  const float *pu = p_users.data<float>(), *uu = u_users.data<float>();
  const float *qi = gmf_items_->weight.data<float>(), *vi = mlp_items_->weight.data<float>();
  Tensor scores = Tensor::empty({pairs}, DType::f32, users.device());
  const int64_t blocks = (pairs + kCpuPairBlock - 1) / kCpuPairBlock;
  parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    NoGradGuard ng;  // grad mode is per thread
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t first = b * kCpuPairBlock, len = std::min(kCpuPairBlock, pairs - first);
      Tensor p = Tensor::empty({len, k}), q = Tensor::empty({len, k}), uv = Tensor::empty({len, 2 * k});
      spread_rows(pu, k, items, first, len, true, p.data<float>(), k);
      spread_rows(qi, k, items, first, len, false, q.data<float>(), k);
      spread_rows(uu, k, items, first, len, true, uv.data<float>(), 2 * k);
      spread_rows(vi, k, items, first, len, false, uv.data<float>() + k, 2 * k);
      scores.rows(first, len).copy_from(score_embeddings(p, q, uv));
    }
  });
  return reshape(scores, {n, items});
}

Tensor NeuMF::score_all_items(const Tensor& users) {
  CUREC_CHECK(users.defined() && users.dim() == 1, "neumf: score_all_items needs 1-D user ids, got ",
              users.defined() ? users.str() : "none");
  const int64_t n = users.numel(), items = config_.num_items, pairs = n * items;
  if (n == 0) return Tensor::zeros({0, items}, DType::f32, users.device());
  if (!users.is_cuda()) {
    NoGradGuard ng;
    return score_pairs_cpu(users);
  }
  if (!pair_user_.defined() || pair_user_.numel() < pairs || pair_user_.device() != users.device()) {
    std::vector<int32_t> pu(pairs), pi(pairs);
    for (int64_t p = 0; p < pairs; ++p) {
      pu[p] = static_cast<int32_t>(p / items);
      pi[p] = static_cast<int32_t>(p % items);
    }
    pair_user_ = Tensor::from_vector(pu, {pairs}, users.device());
    pair_item_ = Tensor::from_vector(pi, {pairs}, users.device());
  }
  Tensor rows = pair_user_.rows(0, pairs), cols = pair_item_.rows(0, pairs);
  // Look the users up once, then spread their rows over the pairs.
  Tensor p = embedding(gmf_users_->forward(users), rows), u = embedding(mlp_users_->forward(users), rows);
  Tensor scores = score_embeddings(p, gmf_items_->forward(cols), concat({u, mlp_items_->forward(cols)}, 1));
  return reshape(scores, {n, items});
}

}  // namespace curec::models

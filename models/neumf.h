#pragma once
// Neural matrix factorization (D2L §15.5, He et al. 2017): two branches with their own
// user/item embeddings. GMF: p_u ⊙ q_i. MLP: ReLU layers over [u_u ; v_i]. The score is
//   ŷ_ui = Σ [p_u ⊙ q_i ; MLP(u_u ; v_i)]
// i.e. the sum of the concatenated branch outputs, as the PyTorch anchor
// (shared/anchors/pytorch_book.py) computes it. The book's Gluon code instead ends with a
// Dense(1) prediction layer; with final_linear = true the model does that (weights init
// like every other parameter) — the reproduction uses the anchor's sum.
#include <memory>
#include <string>
#include <vector>

#include "core/generator.h"
#include "models/ranking_model.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/sequential.h"

namespace curec::models {

struct NeuMFConfig {
  int64_t num_users = 0;
  int64_t num_items = 0;
  int64_t factors = 10;                 // width of every embedding
  std::vector<int64_t> hidden{10, 10, 10};  // MLP tower, ReLU after every layer
  float init_std = 0.01f;               // every parameter ~ N(0, init_std²), as the book
  bool final_linear = false;            // Dense(1) over the concatenation instead of its sum
};

class NeuMF : public RankingModel {
 public:
  explicit NeuMF(const NeuMFConfig& config, Generator& gen = default_generator());

  // users, items: i32/i64 [n] on the model's device -> f32 [n] scores.
  Tensor forward(const Tensor& users, const Tensor& items);
  // Scores of every item for each user: i32/i64 [n] -> f32 [n, num_items], each the bits
  // forward() gives for that pair. Builds no autograd history. On the CPU the pairs are scored
  // in cache-sized blocks over the threads; on CUDA at once, from cached pair index tensors.
  Tensor score_all_items(const Tensor& users);

  // RankingModel: NeuMF takes no context.
  std::pair<Tensor, Tensor> score_pairs(const Tensor& users, const Tensor&, const Tensor& positives,
                                        const Tensor& negatives) override {
    return {forward(users, positives), forward(users, negatives)};
  }
  Tensor score_all_items(const Tensor& users, const Tensor&) override { return score_all_items(users); }

  std::string name() const override { return "neumf"; }
  const NeuMFConfig& config() const { return config_; }

 private:
  // p, q: the GMF embeddings of each pair; uv: the MLP's input [u_u ; v_i].
  Tensor score_embeddings(const Tensor& p, const Tensor& q, const Tensor& uv);
  Tensor score_pairs_cpu(const Tensor& users);

  NeuMFConfig config_;
  std::shared_ptr<nn::Embedding> gmf_users_, gmf_items_, mlp_users_, mlp_items_;
  std::shared_ptr<nn::Sequential> mlp_;
  std::shared_ptr<nn::Linear> predict_;  // only with final_linear
  // CUDA: pair p of score_all_items is (row p / num_items of the users, item p % num_items).
  Tensor pair_user_, pair_item_;
};

}  // namespace curec::models

// nn::MultiHeadAttention, nn::TransformerBlock and nn::PositionalEmbedding: shapes, the formula
// each computes, masks (a future or padded position never changes an output it must not see),
// gradients through the module, and the fused and composed attention paths agreeing.
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "nn/multi_head_attention.h"
#include "nn/positional_embedding.h"
#include "nn/transformer_block.h"
#include "ops/bmm.h"
#include "ops/elementwise.h"
#include "ops/linear.h"
#include "ops/permute.h"
#include "ops/shape.h"
#include "ops/softmax.h"
#include "tests/testing.h"

using namespace curec;
using testing::randn;

namespace {

// x with row t of every batch entry replaced by fresh values.
Tensor with_row_changed(const Tensor& x, int64_t t, uint64_t seed) {
  std::vector<float> v = x.to_vector<float>(), fresh = randn({x.numel()}, seed).to_vector<float>();
  const int64_t B = x.size(0), L = x.size(1), d = x.size(2);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < d; ++c) v[(b * L + t) * d + c] = fresh[(b * L + t) * d + c];
  return Tensor::from_vector(v, x.shape());
}

// Rows [0, upto) of every batch entry of y must equal z's.
void check_rows_equal(const Tensor& y, const Tensor& z, int64_t upto, const std::string& what) {
  const int64_t B = y.size(0), L = y.size(1), d = y.size(2);
  std::vector<float> a = y.to_vector<float>(), b = z.to_vector<float>();
  for (int64_t n = 0; n < B; ++n)
    for (int64_t t = 0; t < upto; ++t)
      for (int64_t c = 0; c < d; ++c) {
        const size_t i = static_cast<size_t>((n * L + t) * d + c);
        INFO(what, ": batch ", n, ", position ", t, ", feature ", c);
        REQUIRE(a[i] == b[i]);
      }
}

// Softmax attention of one head written with matmuls per batch entry: [L, d] inputs, causal.
Tensor reference_head(const Tensor& q, const Tensor& k, const Tensor& v, bool causal) {
  const int64_t L = q.size(0), d = q.size(1);
  std::vector<float> s = (bmm(reshape(q, {1, L, d}), reshape(k, {1, L, d}), false, true) *
                          (1.0f / std::sqrt(static_cast<float>(d))))
                             .to_vector<float>();
  std::vector<float> p(s.size());
  for (int64_t i = 0; i < L; ++i) {
    double mx = -1e30, z = 0;
    for (int64_t j = 0; j <= (causal ? i : L - 1); ++j) mx = std::max(mx, static_cast<double>(s[i * L + j]));
    for (int64_t j = 0; j <= (causal ? i : L - 1); ++j) z += std::exp(s[i * L + j] - mx);
    for (int64_t j = 0; j < L; ++j)
      p[i * L + j] = (!causal || j <= i) ? static_cast<float>(std::exp(s[i * L + j] - mx) / z) : 0.0f;
  }
  return reshape(bmm(Tensor::from_vector(p, {1, L, L}), reshape(v, {1, L, d})), {L, d});
}

}  // namespace

TEST_CASE("MultiHeadAttention: one head without output projection is softmax(QKᵀ/√d)V of the projections") {
  Generator gen(3);
  nn::MultiHeadAttention mha(4, {.heads = 1, .out_projection = false}, gen);
  CHECK(mha.out_proj == nullptr);
  CHECK(mha.named_parameters().size() == 6);  // q, k, v weights and biases
  mha.eval();
  Tensor xq = randn({2, 5, 4}, 10), xkv = randn({2, 5, 4}, 11);
  Tensor y = mha.forward(xq, xkv, {.causal = true});
  REQUIRE(y.shape() == Shape{2, 5, 4});
  NoGradGuard ng;
  for (int64_t b = 0; b < 2; ++b) {
    Tensor q = linear(reshape(xq, {10, 4}).rows(b * 5, 5), mha.q_proj.weight, mha.q_proj.bias);
    Tensor k = linear(reshape(xkv, {10, 4}).rows(b * 5, 5), mha.k_proj.weight, mha.k_proj.bias);
    Tensor v = linear(reshape(xkv, {10, 4}).rows(b * 5, 5), mha.v_proj.weight, mha.v_proj.bias);
    testing::check_close(reshape(y, {10, 4}).rows(b * 5, 5), reference_head(q, k, v, true), 1e-5f, 1e-4f,
                         "batch entry " + std::to_string(b));
  }
}

TEST_CASE("MultiHeadAttention: heads, masks, the two paths, gradients") {
  Generator gen(4);
  nn::MultiHeadAttention fused(8, {.heads = 2}, gen);
  Generator gen2(4);
  nn::MultiHeadAttention composed(8, {.heads = 2, .fused = false}, gen2);
  fused.eval();
  composed.eval();
  REQUIRE(fused.out_proj != nullptr);
  Tensor x = randn({3, 6, 8}, 20);
  std::vector<uint8_t> pad(18, 0);
  pad[0] = pad[1] = 1;  // entry 0: two padded keys on the left
  pad[6] = 1;           // entry 1: one
  Tensor pad_mask = Tensor::from_vector(pad, {3, 6});
  const nn::AttentionMasks masks{.causal = true, .key_padding_mask = pad_mask};
  Tensor y = fused(x, masks);
  REQUIRE(y.shape() == Shape{3, 6, 8});

  SUBCASE("the fused op and the composed path agree") {
    testing::check_close(composed(x, masks), y, 1e-5f, 1e-4f, "composed vs fused");
  }
  SUBCASE("a future position never changes an earlier output") {
    for (int64_t t = 1; t < 6; ++t) check_rows_equal(fused(with_row_changed(x, t, 30 + t), masks), y, t, "causal");
  }
  SUBCASE("a padded key never changes a real query's output") {
    Tensor z = fused(with_row_changed(x, 0, 40), masks);  // entries 0 and 1 have position 0 padded
    std::vector<float> a = z.to_vector<float>(), b = y.to_vector<float>();
    for (int64_t t = 2; t < 6; ++t)  // entry 0's real positions
      for (int64_t c = 0; c < 8; ++c) CHECK(a[(0 * 6 + t) * 8 + c] == b[(0 * 6 + t) * 8 + c]);
    for (int64_t t = 1; t < 6; ++t)  // entry 1's
      for (int64_t c = 0; c < 8; ++c) CHECK(a[(1 * 6 + t) * 8 + c] == b[(1 * 6 + t) * 8 + c]);
  }
  SUBCASE("without masks every position sees every other") {
    Tensor open = fused(x);
    Tensor z = fused(with_row_changed(x, 5, 50));
    CHECK(open.to_vector<float>()[0] != z.to_vector<float>()[0]);
  }
  SUBCASE("gradients through the module, both paths") {
    for (nn::MultiHeadAttention* m : {&fused, &composed}) {
      Tensor xs = randn({2, 3, 8}, 60).set_requires_grad();
      Tensor ps = Tensor::from_vector<uint8_t>({1, 0, 0, 0, 0, 0}, {2, 3});
      testing::check_gradients(
          [m, ps](const std::vector<Tensor>& in) { return (*m)(in[0], {.causal = true, .key_padding_mask = ps}); }, {xs});
    }
  }
}

TEST_CASE("MultiHeadAttention: attention dropout draws while training only; bad settings are errors") {
  Generator gen(5);
  nn::MultiHeadAttention mha(4, {.heads = 2, .dropout = 0.5f}, gen);
  Tensor x = randn({2, 8, 4}, 70);
  mha.eval();
  Tensor a = mha(x), b = mha(x);
  testing::check_close(a, b, 0, 0, "eval is deterministic");
  mha.train();
  CHECK(mha(x).to_vector<float>() != a.to_vector<float>());
  CHECK(testing::error_of([] { nn::MultiHeadAttention bad(6, {.heads = 4}); }).find("divide") != std::string::npos);
  CHECK(testing::error_of([&] { mha(randn({2, 8, 5}, 71)); }).find("[B, Lq, 4]") != std::string::npos);
}

TEST_CASE("TransformerBlock: the pre-norm and SASRec formulas, causality, gradients") {
  Tensor x = randn({2, 5, 8}, 80);
  SUBCASE("pre-norm: x + MHA(LN(x)), then + FFN(LN(.)), in eval mode") {
    Generator gen(6);
    nn::TransformerBlock block(8, {.heads = 2, .ff_dim = 16, .dropout = 0.1f, .activation = nn::Activation::gelu}, gen);
    block.eval();
    Tensor y = block(x, {.causal = true});
    Tensor h = x + block.attn(block.attn_norm(x), {.causal = true});
    Tensor f = reshape(block.ff_norm(h), {10, 8});
    Tensor expect = h + reshape(block.ff2(gelu(block.ff1(f))), {2, 5, 8});
    testing::check_close(y, expect, 1e-6f, 1e-5f, "pre-norm block");
  }
  SUBCASE("SASRec: q = LN(x), x = q + MHA(q, x); f = LN(x), x = f + FFN(f); no output projection") {
    Generator gen(7);
    nn::TransformerBlock block(8, {.heads = 1, .ff_dim = 8, .dropout = 0.2f, .eps = 1e-8f, .sasrec = true}, gen);
    CHECK(block.attn.out_proj == nullptr);
    block.eval();
    Tensor y = block(x, {.causal = true});
    Tensor q = block.attn_norm(x);
    Tensor h = q + block.attn.forward(q, x, {.causal = true});
    Tensor f = reshape(block.ff_norm(h), {10, 8});
    Tensor expect = reshape(f + block.ff2(relu(block.ff1(f))), {2, 5, 8});
    testing::check_close(y, expect, 1e-6f, 1e-5f, "sasrec block");
    for (int64_t t = 1; t < 5; ++t) check_rows_equal(block(with_row_changed(x, t, 90 + t), {.causal = true}), y, t, "causal");
    Tensor xs = randn({2, 3, 8}, 95).set_requires_grad();
    testing::check_gradients([&block](const std::vector<Tensor>& in) { return block(in[0], {.causal = true}); }, {xs});
  }
  SUBCASE("bad input") {
    CHECK(testing::error_of([] { nn::TransformerBlock b(8, {.activation = nn::Activation::tanh}); }).find("relu or gelu") !=
          std::string::npos);
    CHECK(testing::error_of([] { nn::TransformerBlock b(8, {.heads = 3}); }).find("divide") != std::string::npos);
  }
}

TEST_CASE("PositionalEmbedding: adds position t's row to every entry's row t; gradients reach the table") {
  Generator gen(8);
  nn::PositionalEmbedding pos(6, 3, gen);
  Tensor x = randn({2, 4, 3}, 100);
  Tensor y = pos(x);
  std::vector<float> xv = x.to_vector<float>(), yv = y.to_vector<float>(), w = pos.weight.to_vector<float>();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t t = 0; t < 4; ++t)
      for (int64_t c = 0; c < 3; ++c) CHECK(yv[(b * 4 + t) * 3 + c] == xv[(b * 4 + t) * 3 + c] + w[t * 3 + c]);
  testing::check_gradients([&pos](const std::vector<Tensor>& in) { return pos(in[0]); },
                           {randn({2, 6, 3}, 101).set_requires_grad()});
  {  // the table's gradient: each used row gets the sum over the batch
    Tensor g = randn({2, 4, 3}, 102);
    pos.zero_grad();
    pos(x).backward(g);
    std::vector<float> gw = pos.weight.grad().to_vector<float>(), gv = g.to_vector<float>();
    for (int64_t t = 0; t < 6; ++t)
      for (int64_t c = 0; c < 3; ++c) {
        const float expect = t < 4 ? gv[t * 3 + c] + gv[(4 + t) * 3 + c] : 0.0f;
        CHECK(gw[t * 3 + c] == doctest::Approx(expect));
      }
  }
  CHECK(testing::error_of([&] { pos(randn({1, 7, 3}, 103)); }).find("L <= 6") != std::string::npos);
}

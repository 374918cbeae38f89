#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "ops/attention.h"
#include "ops/dropout.h"
#include "ops/shape.h"
#include "ops/softmax.h"
#include "tests/testing.h"

using namespace curec;
using testing::all_finite;
using testing::randn;

namespace {

// softmax(q kᵀ / √D + mask) v composed from the softmax op and loops: what the fused op must equal.
Tensor composed(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& o) {
  const int64_t B = q.size(0), H = q.size(1), Lq = q.size(2), Lk = k.size(2), D = q.size(3);
  std::vector<float> qv = q.to_vector<float>(), kv = k.to_vector<float>(), vv = v.to_vector<float>();
  std::vector<float> s(static_cast<size_t>(B * H * Lq * Lk));
  for (int64_t bh = 0; bh < B * H; ++bh)
    for (int64_t i = 0; i < Lq; ++i)
      for (int64_t j = 0; j < Lk; ++j) {
        double dot = 0;
        for (int64_t c = 0; c < D; ++c) dot += qv[(bh * Lq + i) * D + c] * kv[(bh * Lk + j) * D + c];
        s[(bh * Lq + i) * Lk + j] = static_cast<float>(dot / std::sqrt(static_cast<double>(D)));
      }
  Tensor mask = attention_mask(o, B, Lq, Lk, Device::cpu());
  std::vector<float> p =
      attention_dropout(softmax(Tensor::from_vector(s, {B, H, Lq, Lk}), mask), o).to_vector<float>();
  std::vector<float> out(static_cast<size_t>(B * H * Lq * D), 0.0f);
  for (int64_t bh = 0; bh < B * H; ++bh)
    for (int64_t i = 0; i < Lq; ++i)
      for (int64_t j = 0; j < Lk; ++j)
        for (int64_t c = 0; c < D; ++c)
          out[(bh * Lq + i) * D + c] += p[(bh * Lq + i) * Lk + j] * vv[(bh * Lk + j) * D + c];
  return Tensor::from_vector(out, {B, H, Lq, D});
}

Tensor padding(std::vector<uint8_t> v, int64_t batch) {
  const auto lk = static_cast<int64_t>(v.size()) / batch;
  return Tensor::from_vector<uint8_t>(v, {batch, lk});
}

}  // namespace

TEST_CASE("attention: softmax(q kᵀ / √D + mask) v, with no mask, causal, key padding and both") {
  Tensor q = randn({2, 3, 5, 4}, 1), k = randn({2, 3, 6, 4}, 2), v = randn({2, 3, 6, 4}, 3);
  Tensor pad = padding({0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0}, 2);
  for (AttentionOptions o : {AttentionOptions{}, AttentionOptions{.causal = true},
                             AttentionOptions{.key_padding_mask = pad},
                             AttentionOptions{.causal = true, .key_padding_mask = pad}}) {
    CAPTURE(o.causal);
    CAPTURE(o.key_padding_mask.defined());
    testing::check_close(attention(q, k, v, o), composed(q, k, v, o), 1e-5f, 1e-4f, "attention");
  }
  CHECK(attention(q, k, v).shape() == Shape{2, 3, 5, 4});
}

TEST_CASE("attention dropout: the composed path with attention_dropout draws the fused op's mask") {
  Tensor q = randn({3, 2, 7, 5}, 30), k = randn({3, 2, 6, 5}, 31), v = randn({3, 2, 6, 5}, 32);
  Tensor pad = padding(std::vector<uint8_t>(18, 0), 3);
  pad.data<uint8_t>()[4] = 1;
  for (bool causal : {false, true}) {
    Generator fused_gen(9), composed_gen(9);
    const AttentionOptions base{.causal = causal, .key_padding_mask = pad, .dropout = 0.35f, .training = true};
    AttentionOptions fused = base, comp = base;
    fused.generator = &fused_gen;
    comp.generator = &composed_gen;
    testing::check_close(attention(q, k, v, fused), composed(q, k, v, comp), 1e-5f, 1e-4f, "fused vs composed");
    CHECK(fused_gen.offset() == composed_gen.offset());
  }
  Tensor x = randn({1, 1, 2, 3}, 33);
  CHECK(attention_dropout(x, {.dropout = 0.5f}).impl() == x.impl());  // not training: the input itself
  CHECK(testing::error_of([&] { attention_dropout(randn({2, 3}, 34), {.dropout = 0.5f, .training = true}); })
            .find("[B, H, Lq, Lk]") != std::string::npos);
}

TEST_CASE("attention_mask: 0 where a query sees a key, -inf where not, shaped for the composed path") {
  CHECK_FALSE(attention_mask({}, 2, 3, 3, Device::cpu()).defined());
  Tensor causal = attention_mask({.causal = true}, 2, 2, 3, Device::cpu());
  CHECK(causal.shape() == Shape{2, 3});
  CHECK(causal.to_vector<float>() == std::vector<float>{0, -INFINITY, -INFINITY, 0, 0, -INFINITY});
  Tensor padded = attention_mask({.key_padding_mask = padding({0, 1, 1, 0}, 2)}, 2, 1, 2, Device::cpu());
  CHECK(padded.shape() == Shape{2, 1, 1, 2});
  CHECK(padded.to_vector<float>() == std::vector<float>{0, -INFINITY, -INFINITY, 0});
}

TEST_CASE("attention: a query that sees no key gets zeros and zero gradients, never NaN") {
  // Causal, and batch row 1's key 0 is padding: its query 0 sees nothing.
  Tensor q = randn({2, 1, 3, 4}, 4).set_requires_grad(), k = randn({2, 1, 3, 4}, 5).set_requires_grad();
  Tensor v = randn({2, 1, 3, 4}, 6).set_requires_grad();
  Tensor pad = padding({0, 0, 0, 1, 0, 0}, 2);
  Tensor out = attention(q, k, v, {.causal = true, .key_padding_mask = pad});
  std::vector<float> o = out.to_vector<float>();
  for (int c = 0; c < 4; ++c) CHECK(o[12 + c] == 0.0f);
  CHECK(all_finite(out));
  out.backward(randn(out.shape(), 7));
  std::vector<float> dq = q.grad().to_vector<float>(), dk = k.grad().to_vector<float>();
  for (int c = 0; c < 4; ++c) CHECK(dq[12 + c] == 0.0f);
  for (int c = 0; c < 4; ++c) CHECK(dk[12 + c] == 0.0f);  // the padded key gets nothing
  CHECK(all_finite(q.grad()));
  CHECK(all_finite(k.grad()));
  CHECK(all_finite(v.grad()));
}

TEST_CASE("attention dropout: probabilities dropped with probability p, kept ones scaled by 1 / (1 - p)") {
  // v = identity (D = Lk): each output row is the row of dropped probabilities itself.
  const int64_t L = 16;
  std::vector<float> eye(L * L, 0.0f);
  for (int64_t j = 0; j < L; ++j) eye[j * L + j] = 1.0f;
  Tensor v = Tensor::from_vector(eye, {1, 1, L, L});
  Tensor q = randn({1, 1, L, L}, 8), k = randn({1, 1, L, L}, 9);
  std::vector<float> p = attention(q, k, v).to_vector<float>();
  Generator gen(3);
  std::vector<float> z = attention(q, k, v, {.dropout = 0.25f, .training = true, .generator = &gen}).to_vector<float>();
  int dropped = 0;
  for (size_t e = 0; e < p.size(); ++e) {
    if (z[e] == 0.0f) ++dropped;
    else CHECK(z[e] == doctest::Approx(p[e] / 0.75f).epsilon(1e-5));
  }
  CHECK(dropped > 256 * 0.15);
  CHECK(dropped < 256 * 0.35);
  // Evaluation and p = 0 draw nothing and drop nothing.
  const uint64_t position = gen.offset();
  testing::check_close(attention(q, k, v, {.dropout = 0.25f, .training = false, .generator = &gen}),
                       Tensor::from_vector(p, {1, 1, L, L}), 0.0f, 0.0f, "eval");
  CHECK(gen.offset() == position);
  // The generator moves on: the next call draws another mask.
  std::vector<float> z2 = attention(q, k, v, {.dropout = 0.25f, .training = true, .generator = &gen}).to_vector<float>();
  CHECK(z2 != z);
}

TEST_CASE("attention dropout: ranks holding shards of a batch draw the masks one rank draws for it") {
  Tensor q = randn({4, 2, 5, 3}, 10), k = randn({4, 2, 5, 3}, 11), v = randn({4, 2, 5, 3}, 12);
  Generator whole_gen(21);
  Tensor whole = attention(q, k, v, {.dropout = 0.4f, .training = true, .generator = &whole_gen});
  for (int64_t first : {0, 2}) {
    Generator gen(21);
    DropoutRows rows(first, 4);
    Tensor shard = attention(q.rows(first, 2), k.rows(first, 2), v.rows(first, 2),
                             {.dropout = 0.4f, .training = true, .generator = &gen});
    testing::check_close(shard, whole.rows(first, 2), 0.0f, 0.0f, "shard");
    CHECK(gen.offset() == whole_gen.offset());  // each rank's generator moves as the whole batch's
  }
}

TEST_CASE("attention: bad input is a clear error") {
  Tensor q = randn({2, 1, 3, 4}, 13), k = randn({2, 1, 5, 4}, 14), v = randn({2, 1, 5, 4}, 15);
  CHECK(testing::error_of([&] { attention(reshape(q, {2, 3, 4}), k, v); }).find("[B, H, L, D]") != std::string::npos);
  CHECK(testing::error_of([&] { attention(q, k, randn({2, 1, 4, 4}, 16)); }).find("share B, H and D") !=
        std::string::npos);
  CHECK(testing::error_of([&] { attention(q, randn({2, 1, 5, 3}, 17), randn({2, 1, 5, 3}, 18)); })
            .find("share B, H and D") != std::string::npos);
  CHECK(testing::error_of([] {
          Tensor big = randn({1, 1, 2, 129}, 19);
          attention(big, big, big);
        }).find("D = 129 must lie in [1, 128]") != std::string::npos);
  CHECK(testing::error_of([&] { attention(q, k, v, {.dropout = 1.0f, .training = true}); }).find("[0, 1)") !=
        std::string::npos);
  CHECK(testing::error_of([&] { attention(q, k, v, {.key_padding_mask = Tensor::zeros({2, 3}, DType::u8)}); })
            .find("must be [B, Lk] = [2, 5]") != std::string::npos);
  CHECK(testing::error_of([&] { attention(q, k, v, {.key_padding_mask = Tensor::zeros({2, 5})}); })
            .find("key_padding_mask") != std::string::npos);
}

TEST_SUITE("cuda") {
  TEST_CASE("attention on CUDA: parity at several tiles, every mask, dropout, head sizes 1 to 128") {
    struct Case {
      int64_t b, h, lq, lk, d;
      bool causal, pad;
      float p;
    };
    for (Case c : {Case{2, 2, 70, 70, 64, true, true, 0.2f}, Case{1, 2, 40, 33, 50, false, true, 0.0f},
                   Case{2, 1, 20, 20, 1, true, false, 0.5f}, Case{1, 1, 33, 40, 100, false, false, 0.1f}}) {
      CAPTURE(c.lq);
      CAPTURE(c.d);
      std::vector<uint8_t> pad(static_cast<size_t>(c.b * c.lk), 0);
      for (int64_t b = 0; b < c.b; ++b)
        for (int64_t j = c.lk - 1 - 3 * b; j < c.lk; ++j) pad[b * c.lk + j] = 1;  // a row's last keys are padding
      pad[0] = 1;  // and row 0's first: under the causal mask its query 0 sees nothing
      const bool causal = c.causal, with_pad = c.pad;
      const float p = c.p;
      testing::check_parity(
          [causal, with_pad, p](const std::vector<Tensor>& in) {
            Generator gen(5);
            return attention(in[0], in[1], in[2],
                             {.causal = causal, .key_padding_mask = with_pad ? in[3] : Tensor(), .dropout = p,
                              .training = true, .generator = &gen});
          },
          {randn({c.b, c.h, c.lq, c.d}, 20).set_requires_grad(), randn({c.b, c.h, c.lk, c.d}, 21).set_requires_grad(),
           randn({c.b, c.h, c.lk, c.d}, 22).set_requires_grad(), Tensor::from_vector(pad, {c.b, c.lk})},
          1e-5f, 1e-4f);
    }
  }
}

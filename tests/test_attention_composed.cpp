// The composed attention path (ops/attention_composed.h) against the fused op (ops/attention.h):
// the same outputs and the same gradients of q, k and v, with and without masks, with a query
// that sees no key, with several heads, and with dropout (the same mask, drawn at the same
// generator position, for any key count). On a GPU (the cuda suite) the same, both on cuda:0.
#include <vector>

#include "ops/attention.h"
#include "ops/attention_composed.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "tests/testing.h"

using namespace curec;
using testing::randn;

namespace {

struct Grads {
  Tensor out, dq, dk, dv;
};

Grads run(bool fused, const Shape& qs, const Shape& ks, const AttentionOptions& o, Device device, uint64_t seed) {
  Tensor q = randn(qs, seed).to(device).set_requires_grad(), k = randn(ks, seed + 1).to(device).set_requires_grad();
  Tensor v = randn(ks, seed + 2).to(device).set_requires_grad();
  Tensor out = fused ? attention(q, k, v, o) : attention_composed(q, k, v, o);
  sum(out * randn(out.shape(), seed + 3).to(device)).backward();
  return {out.cpu(), q.grad().cpu(), k.grad().cpu(), v.grad().cpu()};
}

void check_paths_agree(const Shape& qs, const Shape& ks, AttentionOptions o, Device device, uint64_t seed) {
  if (o.key_padding_mask.defined()) o.key_padding_mask = o.key_padding_mask.to(device);
  Generator g1(5), g2(5);
  o.generator = &g1;
  Grads f = run(true, qs, ks, o, device, seed);
  o.generator = &g2;
  Grads c = run(false, qs, ks, o, device, seed);
  testing::check_close(c.out, f.out, 2e-5f, 1e-4f, "output");
  testing::check_close(c.dq, f.dq, 2e-5f, 1e-4f, "dq");
  testing::check_close(c.dk, f.dk, 2e-5f, 1e-4f, "dk");
  testing::check_close(c.dv, f.dv, 2e-5f, 1e-4f, "dv");
  CHECK(g1.offset() == g2.offset());  // both advanced the generator alike
}

Tensor padding(int64_t batch, int64_t lk, std::vector<int64_t> padded) {
  Tensor pad = Tensor::zeros({batch, lk}, DType::u8);
  for (int64_t i : padded) static_cast<uint8_t*>(pad.raw_data())[i] = 1;
  return pad;
}

void all_cases(Device device) {
  SUBCASE("no mask, Lq != Lk") { check_paths_agree({2, 3, 5, 8}, {2, 3, 7, 8}, {}, device, 10); }
  SUBCASE("causal with left padding; a query that sees no key gets zeros") {
    check_paths_agree({2, 2, 6, 4}, {2, 2, 6, 4}, {.causal = true, .key_padding_mask = padding(2, 6, {0, 1, 6})}, device,
                      20);
  }
  SUBCASE("dropout 0.3 while training, Lk = 9 (not a multiple of 4)") {
    check_paths_agree({3, 2, 9, 5}, {3, 2, 9, 5}, {.causal = true, .dropout = 0.3f, .training = true}, device, 30);
  }
  SUBCASE("dropout outside training draws nothing") {
    check_paths_agree({1, 1, 4, 3}, {1, 1, 4, 3}, {.dropout = 0.5f, .training = false}, device, 40);
  }
}

}  // namespace

TEST_CASE("attention_composed equals the fused op, outputs and gradients (CPU)") { all_cases(Device::cpu()); }

TEST_CASE("attention_composed: bad shapes are errors naming them") {
  std::string e = testing::error_of([] { attention_composed(randn({2, 3, 4}, 1), randn({2, 3, 4}, 2), randn({2, 3, 4}, 3)); });
  CHECK(e.find("[B, H, Lq, D]") != std::string::npos);
}

TEST_SUITE("cuda") {
  TEST_CASE("attention_composed equals the fused op on cuda:0") { all_cases(Device::cuda(0)); }
}

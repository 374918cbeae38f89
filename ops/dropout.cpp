#include "ops/dropout.h"

#include "core/autograd.h"

namespace curec {
namespace {

// The same mask for the forward (on x) and the backward (on the output gradient).
Tensor apply_mask(const Tensor& x, float p, float scale, uint64_t seed, uint64_t offset) {
  Tensor y = Tensor::empty(x.shape(), DType::f32, x.device());
  const int64_t n = x.numel();
  if (x.is_cuda()) {
#if CUREC_WITH_CUDA
    cuda::dropout_apply(x.data<float>(), y.data<float>(), n, p, scale, seed, offset, x.device().index);
#endif
    return y;
  }
  const float* px = x.data<float>();
  float* py = y.data<float>();
  // One Philox call gives the four draws of elements 4c .. 4c+3 (philox::uniform's layout).
  for (int64_t c = 0; c * 4 < n; ++c) {
    philox::U32x4 b = philox::bits(seed, offset + static_cast<uint64_t>(c));
    for (int k = 0; k < 4 && c * 4 + k < n; ++k) {
      const int64_t i = c * 4 + k;
      py[i] = dropout_math::apply(px[i], philox::to_unit(b.v[k]), p, scale);
    }
  }
  return y;
}

}  // namespace

Tensor dropout(const Tensor& x, float p, bool training, Generator& gen) {
  check_defined("dropout", x, "input");
  check_dtype("dropout", x, DType::f32, "input");
  CUREC_CHECK(p >= 0.0f && p < 1.0f, "dropout: drop probability p = ", p,
              " must lie in [0, 1); p = 1 would drop everything and divide by zero");
  if (!training || p == 0.0f) return x;
  const uint64_t seed = gen.seed();
  const uint64_t offset = gen.advance(philox::uniform_counters(static_cast<uint64_t>(x.numel())));
  const float scale = 1.0f / (1.0f - p);
  Tensor y = apply_mask(x, p, scale, seed, offset);
  return record(y, "dropout", {x}, [=](const Tensor& g) -> std::vector<Grad> {
    return {apply_mask(g, p, scale, seed, offset)};
  });
}

}  // namespace curec

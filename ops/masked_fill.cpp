#include "ops/masked_fill.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "ops/broadcast.h"

namespace curec {
namespace {

template <class M>
void masked_fill_cpu(const float* x, const M* mask, float* out, int64_t n, const ew::NdIndex& ix, float value) {
  for_each_broadcast(ix, n, [&](int64_t i, int64_t, int64_t im) { out[i] = mask[im] != M(0) ? value : x[i]; });
}

// Not recorded: the forward and, with value 0, the backward.
Tensor fill(const Tensor& x, const Tensor& mask, float value) {
  Tensor out = Tensor::empty(x.shape(), DType::f32, x.device());
  const int64_t n = x.numel();
  const ew::NdIndex ix = nd_index(x.shape(), x.shape(), mask.shape());
  const bool u8 = mask.dtype() == DType::u8;
  const float* px = x.data<float>();
  float* po = out.data<float>();
  dispatch(
      "masked_fill", x.device(),
      [&] {
        if (u8) masked_fill_cpu(px, mask.data<uint8_t>(), po, n, ix, value);
        else masked_fill_cpu(px, mask.data<float>(), po, n, ix, value);
      },
      [&](int dev) { cuda::masked_fill(px, mask.raw_data(), u8, po, n, ix, value, dev); });
  return out;
}

}  // namespace

Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
  check_defined("masked_fill", x, "x");
  check_defined("masked_fill", mask, "mask");
  check_dtype("masked_fill", x, DType::f32, "x");
  CUREC_CHECK(mask.dtype() == DType::u8 || mask.dtype() == DType::f32, "masked_fill: the mask ", mask.str(),
              " must be u8 or f32 (nonzero: fill)");
  check_same_device("masked_fill", x, mask);
  CUREC_CHECK(broadcast_shape("masked_fill", x, mask) == x.shape(), "masked_fill: the mask ", mask.str(),
              " does not broadcast to x's shape ", x.str(), "; the result keeps x's shape");
  Tensor out = fill(x, mask, value);
  return record(out, "masked_fill", {x}, [mask](const Tensor& g) -> std::vector<Grad> { return {fill(g, mask, 0.0f)}; });
}

}  // namespace curec

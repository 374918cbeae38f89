#pragma once
// NumPy broadcasting rules for binary ops and masks (shapes aligned from the right, a size-1 dim
// stretched to the other's size), and the reverse for gradients: summing over stretched dims.
#include <algorithm>
#include <type_traits>

#include "core/parallel.h"
#include "core/tensor.h"
#include "ops/broadcast_math.h"

namespace curec {

// Whether NumPy's rule broadcasts shapes a and b (of any rank) together.
bool broadcastable(const Shape& a, const Shape& b);
// The shape a and b broadcast to; fails naming op and both shapes when a pair of aligned dims
// differs with neither 1, or when the result has more than 4 dims.
Shape broadcast_shape(const char* op, const Tensor& a, const Tensor& b);
// How the output's elements read a (shape sa) and b (shape sb), both broadcastable to `out`.
ew::NdIndex nd_index(const Shape& out, const Shape& sa, const Shape& sb);
// g (of a broadcast output's shape) summed over the dims where `shape` was stretched, viewed as
// `shape`: the gradient of an operand of that shape. Not differentiable.
Tensor sum_to(const Tensor& g, const Shape& shape);

// Runs body(i, ia, ib) for the n output elements of x and their operands' offsets, split over
// the CPU threads by output rows (the offsets computed once a row). Along a row each operand
// steps by 1 or stays (stretched): both steps are compile-time constants, so the loop vectorises.
template <class F>
void for_each_broadcast(const ew::NdIndex& x, int64_t n, F&& body) {
  constexpr int last = ew::kMaxBroadcastRank - 1;
  const int64_t cols = x.size[last];
  if (n == 0) return;
  auto rows = [&](auto step_a, auto step_b) {
    parallel_for(0, n / cols, std::max<int64_t>(1, kCpuGrain / cols), [&](int64_t rb, int64_t re) {
      for (int64_t r = rb; r < re; ++r) {
        int64_t ia, ib;
        ew::nd_row_offsets(x, r, &ia, &ib);
        for (int64_t c = 0; c < cols; ++c) body(r * cols + c, ia + c * step_a(), ib + c * step_b());
      }
    });
  };
  using One = std::integral_constant<int64_t, 1>;
  using Zero = std::integral_constant<int64_t, 0>;
  const bool a_steps = x.stride_a[last] != 0, b_steps = x.stride_b[last] != 0;
  if (a_steps && b_steps) rows(One{}, One{});
  else if (a_steps) rows(One{}, Zero{});
  else if (b_steps) rows(Zero{}, One{});
  else rows(Zero{}, Zero{});
}

}  // namespace curec

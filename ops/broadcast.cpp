#include "ops/broadcast.h"

#include <algorithm>

#include "ops/reduce.h"

namespace curec {
namespace {

// `s` padded on the left with 1s to `rank` dims.
Shape left_padded(const Shape& s, size_t rank) {
  Shape p(rank - s.size(), 1);
  p.insert(p.end(), s.begin(), s.end());
  return p;
}

// Row-major strides of `s` padded to 4 dims, 0 along the dims `s` is stretched in `out`.
void broadcast_strides(const Shape& out4, const Shape& s, int64_t* stride) {
  Shape p = left_padded(s, ew::kMaxBroadcastRank);
  int64_t step = 1;
  for (int d = ew::kMaxBroadcastRank - 1; d >= 0; --d) {
    stride[d] = p[d] == 1 && out4[d] != 1 ? 0 : step;
    step *= p[d];
  }
}

}  // namespace

bool broadcastable(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape pa = left_padded(a, rank), pb = left_padded(b, rank);
  for (size_t d = 0; d < rank; ++d)
    if (pa[d] != pb[d] && pa[d] != 1 && pb[d] != 1) return false;
  return true;
}

Shape broadcast_shape(const char* op, const Tensor& a, const Tensor& b) {
  const size_t rank = std::max(a.shape().size(), b.shape().size());
  auto fail = [&](const char* why) {
    CUREC_FAIL(op, ": cannot broadcast ", a.str(), " with ", b.str(), ": ", why,
               "; shapes are aligned from the right and each pair of dims must be equal or contain a 1");
  };
  Shape pa = left_padded(a.shape(), rank), pb = left_padded(b.shape(), rank), out(rank);
  for (size_t d = 0; d < rank; ++d) {
    if (pa[d] != pb[d] && pa[d] != 1 && pb[d] != 1) fail("dims differ");
    out[d] = pa[d] == 1 ? pb[d] : pa[d];
  }
  if (rank > static_cast<size_t>(ew::kMaxBroadcastRank)) fail("broadcasting takes at most 4 dims");
  return out;
}

ew::NdIndex nd_index(const Shape& out, const Shape& sa, const Shape& sb) {
  ew::NdIndex x{};
  Shape out4 = left_padded(out, ew::kMaxBroadcastRank);
  for (int d = 0; d < ew::kMaxBroadcastRank; ++d) x.size[d] = out4[d];
  broadcast_strides(out4, sa, x.stride_a);
  broadcast_strides(out4, sb, x.stride_b);
  return x;
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  Shape cur = g.shape(), target = left_padded(shape, cur.size());
  Tensor t = g;
  // Each run of adjacent stretched dims is one reduction of t viewed as [outer, run, inner].
  for (size_t d = 0; d < cur.size();) {
    if (target[d] != 1 || cur[d] == 1) {
      ++d;
      continue;
    }
    size_t end = d;
    while (end < cur.size() && target[end] == 1) ++end;
    int64_t outer = 1, run = 1, inner = 1;
    for (size_t i = 0; i < d; ++i) outer *= cur[i];
    for (size_t i = d; i < end; ++i) run *= cur[i], cur[i] = 1;
    for (size_t i = end; i < cur.size(); ++i) inner *= cur[i];
    t = reduce_sum_3d(t, outer, run, inner);
    d = end;
  }
  return t.view(shape);
}

}  // namespace curec

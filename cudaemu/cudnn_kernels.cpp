// The cuDNN stand-in's 2-D convolution loops (forward, backward data, backward filter), written
// from the definitions in the cuDNN docs: indexing through the descriptors' strides, zero padding,
// stride, dilation, groups, and CUDNN_CONVOLUTION applying the filter rotated by 180 degrees
// (cross-correlation as stored). Sums run in double and are rounded once. The argument checks
// are cudnn_convolution.cpp's; these loops trust them.
#include "cudnn_internal.h"

namespace curec_emu::dnn {
namespace {

// The weight the convolution applies at tap (tr, ts) of output channel k and group-local input
// channel c.
struct Taps {
  const float* base;
  Layout layout;
  bool flip;

  double at(int64_t k, int64_t c, int64_t tr, int64_t ts) const {
    if (flip) {
      tr = layout.dim[2] - 1 - tr;
      ts = layout.dim[3] - 1 - ts;
    }
    return base[layout.at(k, c, tr, ts)];
  }
};

Layout dense(int64_t a, int64_t b, int64_t c, int64_t d) { return {{a, b, c, d}, {b * c * d, c * d, d, 1}}; }

// The staged algorithms first lay the applied taps out densely in the workspace (cuDNN's
// "precomputed" variants likewise stage data there), then read the weights from it, so the
// workspace they ask for is really used.
Taps stage(const Taps& taps, const Geometry& g, float* workspace) {
  const Layout to = dense(g.k, g.cg, g.r, g.s);
  for (int64_t k = 0; k < g.k; ++k)
    for (int64_t c = 0; c < g.cg; ++c)
      for (int64_t tr = 0; tr < g.r; ++tr)
        for (int64_t ts = 0; ts < g.s; ++ts) workspace[to.at(k, c, tr, ts)] = static_cast<float>(taps.at(k, c, tr, ts));
  return {workspace, to, false};
}

// The input row (or column) that output position o reads at tap t; may be outside [0, size).
int64_t input_index(int64_t o, int64_t t, int64_t stride, int64_t pad, int64_t dilation) {
  return o * stride - pad + t * dilation;
}

// The output position whose tap t reads input position i, or -1 when none does.
int64_t output_index(int64_t i, int64_t t, int64_t stride, int64_t pad, int64_t dilation, int64_t size) {
  const int64_t o = i + pad - t * dilation;
  if (o < 0 || o % stride != 0 || o / stride >= size) return -1;
  return o / stride;
}

// dy[n, k, :, :] correlated with x[n, group's channel c, ...] at tap (tr, ts): dL/dw for that tap.
double tap_gradient(const Geometry& g, const Operand& x, const Operand& dy, int64_t k, int64_t c, int64_t tr,
                    int64_t ts) {
  const int64_t ch = k / g.kg * g.cg + c;
  double sum = 0;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oh = 0; oh < g.oh; ++oh) {
      const int64_t ih = input_index(oh, tr, g.stride_h, g.pad_h, g.dilation_h);
      if (ih < 0 || ih >= g.h) continue;
      for (int64_t ow = 0; ow < g.ow; ++ow) {
        const int64_t iw = input_index(ow, ts, g.stride_w, g.pad_w, g.dilation_w);
        if (iw < 0 || iw >= g.w) continue;
        sum += static_cast<double>(dy.data[dy.layout.at(n, k, oh, ow)]) * x.data[x.layout.at(n, ch, ih, iw)];
      }
    }
  return sum;
}

}  // namespace

void convolve_forward(const Geometry& g, bool staged, Scaling s, const Operand& x, const Operand& w, void* workspace,
                      const Output& y) {
  Taps taps{w.data, w.layout, g.flip};
  if (staged) taps = stage(taps, g, static_cast<float*>(workspace));
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t k = 0; k < g.k; ++k) {
      const int64_t first = k / g.kg * g.cg;  // the group's first input channel
      for (int64_t oh = 0; oh < g.oh; ++oh)
        for (int64_t ow = 0; ow < g.ow; ++ow) {
          double sum = 0;
          for (int64_t c = 0; c < g.cg; ++c)
            for (int64_t tr = 0; tr < g.r; ++tr) {
              const int64_t ih = input_index(oh, tr, g.stride_h, g.pad_h, g.dilation_h);
              if (ih < 0 || ih >= g.h) continue;
              for (int64_t ts = 0; ts < g.s; ++ts) {
                const int64_t iw = input_index(ow, ts, g.stride_w, g.pad_w, g.dilation_w);
                if (iw < 0 || iw >= g.w) continue;
                sum += x.data[x.layout.at(n, first + c, ih, iw)] * taps.at(k, c, tr, ts);
              }
            }
          float& out = y.data[y.layout.at(n, k, oh, ow)];
          out = blend(sum, s.alpha, s.beta, out);
        }
    }
}

// Each dx element gathers every dy element whose forward sum read it, with the same weight: the
// exact adjoint of convolve_forward.
void convolve_backward_data(const Geometry& g, bool staged, Scaling s, const Operand& w, const Operand& dy,
                            void* workspace, const Output& dx) {
  Taps taps{w.data, w.layout, g.flip};
  if (staged) taps = stage(taps, g, static_cast<float*>(workspace));
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t ch = 0; ch < g.c; ++ch) {
      const int64_t group = ch / g.cg, c = ch % g.cg;
      for (int64_t ih = 0; ih < g.h; ++ih)
        for (int64_t iw = 0; iw < g.w; ++iw) {
          double sum = 0;
          for (int64_t k = group * g.kg; k < (group + 1) * g.kg; ++k)
            for (int64_t tr = 0; tr < g.r; ++tr) {
              const int64_t oh = output_index(ih, tr, g.stride_h, g.pad_h, g.dilation_h, g.oh);
              if (oh < 0) continue;
              for (int64_t ts = 0; ts < g.s; ++ts) {
                const int64_t ow = output_index(iw, ts, g.stride_w, g.pad_w, g.dilation_w, g.ow);
                if (ow < 0) continue;
                sum += dy.data[dy.layout.at(n, k, oh, ow)] * taps.at(k, c, tr, ts);
              }
            }
          float& out = dx.data[dx.layout.at(n, ch, ih, iw)];
          out = blend(sum, s.alpha, s.beta, out);
        }
    }
}

// dw at a stored position is the gradient of the tap that position is applied at (rotated in
// CUDNN_CONVOLUTION mode). The staged algorithm gathers the per-tap gradients in the workspace
// first, then blends them into dw.
void convolve_backward_filter(const Geometry& g, bool staged, Scaling s, const Operand& x, const Operand& dy,
                              void* workspace, const Output& dw) {
  const Layout taps = dense(g.k, g.cg, g.r, g.s);
  auto* stage_area = static_cast<float*>(workspace);
  if (staged)
    for (int64_t k = 0; k < g.k; ++k)
      for (int64_t c = 0; c < g.cg; ++c)
        for (int64_t tr = 0; tr < g.r; ++tr)
          for (int64_t ts = 0; ts < g.s; ++ts)
            stage_area[taps.at(k, c, tr, ts)] = static_cast<float>(tap_gradient(g, x, dy, k, c, tr, ts));
  for (int64_t k = 0; k < g.k; ++k)
    for (int64_t c = 0; c < g.cg; ++c)
      for (int64_t r = 0; r < g.r; ++r)
        for (int64_t q = 0; q < g.s; ++q) {
          const int64_t tr = g.flip ? g.r - 1 - r : r, ts = g.flip ? g.s - 1 - q : q;
          const double grad = staged ? stage_area[taps.at(k, c, tr, ts)] : tap_gradient(g, x, dy, k, c, tr, ts);
          float& out = dw.data[dw.layout.at(k, c, r, q)];
          out = blend(grad, s.alpha, s.beta, out);
        }
}

}  // namespace curec_emu::dnn

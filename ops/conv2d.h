#pragma once
// 2-D convolution (cross-correlation, as in every deep-learning library), stride 1, no padding:
// x f32 [N, C, H, W] * weight [O, C, kh, kw] (+ bias [O]) -> [N, O, H - kh + 1, W - kw + 1].
// Caser (book §15.7) runs it on the embedding "image" [B, 1, L, k] with h x k horizontal and
// L x 1 vertical filters. CPU: im2col + sgemm; CUDA: cuDNN in plain FP32 (no TF32), with
// deterministic algorithms, so a step is reproducible. Where cuDNN has no deterministic FP32
// algorithm for a shape, it takes a non-deterministic FP32 one and says so once on stderr;
// where it has no FP32 one at all, conv2d fails (ops/conv2d_plan.h decides).
#include "core/tensor.h"

namespace curec {

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// The sizes one convolution works on; oh/ow are the output's spatial sizes.
struct Conv2dShape {
  int64_t n, c, h, w;  // input
  int64_t o, kh, kw;   // filters
  int64_t oh, ow;      // output
};

namespace cuda {
// bias may be null. Each writes (not accumulates) its result.
void conv2d_forward(const Conv2dShape& s, const float* x, const float* weight, const float* bias, float* y,
                    int device);
void conv2d_backward_data(const Conv2dShape& s, const float* weight, const float* dy, float* dx, int device);
void conv2d_backward_filter(const Conv2dShape& s, const float* x, const float* dy, float* dweight, int device);
void conv2d_backward_bias(const Conv2dShape& s, const float* dy, float* dbias, int device);
}  // namespace cuda

}  // namespace curec

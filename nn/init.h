#pragma once
// Parameter initialisers (in place, no autograd). They draw from core/random.h's Philox
// streams, so one seed gives the same parameters on the CPU and on CUDA.
#include <cmath>

#include "core/generator.h"
#include "core/tensor.h"

namespace curec::nn {

// Fan-in and fan-out of a weight: [out, in] for linear layers, [out_ch, in_ch, kh, kw] for
// convolutions (receptive field counted in both), [rows, dim] for embeddings.
struct Fans {
  int64_t in = 0, out = 0;
};
Fans fans(const Shape& weight_shape);

Tensor& normal_(Tensor& t, float mean = 0.0f, float stddev = 1.0f, Generator& gen = default_generator());
Tensor& uniform_(Tensor& t, float low, float high, Generator& gen = default_generator());
// U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010).
Tensor& xavier_uniform_(Tensor& t, float gain = 1.0f, Generator& gen = default_generator());
// N(0, s^2) with s = gain * sqrt(2 / (fan_in + fan_out)).
Tensor& xavier_normal_(Tensor& t, float gain = 1.0f, Generator& gen = default_generator());
// U(-b, b) with b = sqrt(6 / ((1 + a^2) fan_in)) (He et al., 2015). With a = sqrt(5) this is
// PyTorch's default for Linear and Conv2d weights: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
Tensor& kaiming_uniform_(Tensor& t, float a = std::sqrt(5.0f), Generator& gen = default_generator());
Tensor& zeros_(Tensor& t);
Tensor& constant_(Tensor& t, float value);

}  // namespace curec::nn

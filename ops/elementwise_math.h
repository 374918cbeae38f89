#pragma once
// The element formulas of the elementwise ops, shared by the CPU loops and the CUDA kernels so
// that both backends compute one definition. Backward formulas take x (input), y (output) and
// g (gradient of the output).
#include <cmath>

#include "core/philox.h"  // CUREC_HD

namespace curec {

enum class Unary : int { neg, exp, log, sqrt, square, sign, sigmoid, tanh, relu, elu, gelu };
enum class Binary : int { add, sub, mul, div };

namespace ew {

CUREC_HD float sigmoid(float x) {
  // Stable on both tails.
  if (x >= 0) return 1.0f / (1.0f + expf(-x));
  float e = expf(x);
  return e / (1.0f + e);
}

// The standard normal CDF Φ and density φ, for GELU.
CUREC_HD float normal_cdf(float x) { return 0.5f * (1.0f + erff(x * 0.70710678118654752f)); }
CUREC_HD float normal_pdf(float x) { return 0.39894228040143268f * expf(-0.5f * x * x); }

CUREC_HD float unary(Unary op, float x, float alpha) {
  switch (op) {
    case Unary::neg: return -x;
    case Unary::exp: return expf(x);
    case Unary::log: return logf(x);
    case Unary::sqrt: return sqrtf(x);
    case Unary::square: return x * x;
    case Unary::sign: return static_cast<float>((x > 0) - (x < 0));
    case Unary::sigmoid: return sigmoid(x);
    case Unary::tanh: return tanhf(x);
    case Unary::relu: return x > 0 ? x : 0.0f;
    case Unary::elu: return x > 0 ? x : alpha * (expf(x) - 1.0f);
    case Unary::gelu: return x * normal_cdf(x);
  }
  return 0.0f;
}

CUREC_HD float unary_grad(Unary op, float x, float y, float g, float alpha) {
  switch (op) {
    case Unary::neg: return -g;
    case Unary::exp: return g * y;
    case Unary::log: return g / x;
    case Unary::sqrt: return g * 0.5f / y;
    case Unary::square: return g * 2.0f * x;
    case Unary::sign: return 0.0f;
    case Unary::sigmoid: return g * y * (1.0f - y);
    case Unary::tanh: return g * (1.0f - y * y);
    case Unary::relu: return x > 0 ? g : 0.0f;
    case Unary::elu: return x > 0 ? g : g * (y + alpha);
    case Unary::gelu: return g * (normal_cdf(x) + x * normal_pdf(x));
  }
  return 0.0f;
}

CUREC_HD float binary(Binary op, float a, float b) {
  switch (op) {
    case Binary::add: return a + b;
    case Binary::sub: return a - b;
    case Binary::mul: return a * b;
    case Binary::div: return a / b;
  }
  return 0.0f;
}

// d(a op b)/da and d(a op b)/db, times g.
CUREC_HD float binary_grad_a(Binary op, float a, float b, float g) {
  (void)a;
  switch (op) {
    case Binary::add: case Binary::sub: return g;
    case Binary::mul: return g * b;
    case Binary::div: return g / b;
  }
  return 0.0f;
}
CUREC_HD float binary_grad_b(Binary op, float a, float b, float g) {
  switch (op) {
    case Binary::add: return g;
    case Binary::sub: return -g;
    case Binary::mul: return g * a;
    case Binary::div: return -g * a / (b * b);
  }
  return 0.0f;
}

// How an operand of a binary op maps onto the output [rows, cols] (cols = last dim).
enum class Bcast : int { full, scalar, row, col };

CUREC_HD int64_t bcast_index(Bcast m, int64_t i, int64_t cols) {
  switch (m) {
    case Bcast::full: return i;
    case Bcast::scalar: return 0;
    case Bcast::row: return i % cols;
    case Bcast::col: return i / cols;
  }
  return i;
}

}  // namespace ew
}  // namespace curec

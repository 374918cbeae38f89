#pragma once
// A multilayer perceptron as a Sequential: Linear(sizes[i], sizes[i+1]) for each consecutive
// pair, each followed by the activation and then Dropout(dropout) when dropout > 0 — except the
// last Linear, which gets them only when activation_on_last (NeuMF's MLP tower ends with an
// activation; a regression head does not). The Linears draw their init from `gen`, and the
// Dropouts their masks (the thread's default generator unless given).
//   auto head = nn::mlp({2 * k, 64, 1});       auto tower = nn::mlp({d, 32, 8}, {.dropout = 0.1f, .activation_on_last = true});
#include <memory>
#include <vector>

#include "core/generator.h"
#include "nn/activation.h"
#include "nn/sequential.h"

namespace curec::nn {

struct MlpOptions {
  Activation activation = Activation::relu;
  float dropout = 0.0f;             // after each activation, when > 0
  bool activation_on_last = false;  // the last Linear gets the activation (and dropout) too
};

std::shared_ptr<Sequential> mlp(const std::vector<int64_t>& sizes, MlpOptions options = {},
                                Generator& gen = default_generator());

}  // namespace curec::nn

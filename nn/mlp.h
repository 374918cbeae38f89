#pragma once
// A multilayer perceptron as a Sequential: Linear(sizes[i], sizes[i+1]) for each consecutive
// pair, each followed by the activation and then Dropout(dropout) when dropout > 0 — except the
// last Linear, which gets them only when activation_on_last (NeuMF's MLP tower ends with an
// activation; a regression head does not).
#include <memory>
#include <vector>

#include "core/generator.h"
#include "nn/activation.h"
#include "nn/sequential.h"

namespace curec::nn {

std::shared_ptr<Sequential> mlp(const std::vector<int64_t>& sizes, Activation activation = Activation::relu,
                                float dropout = 0.0f, bool activation_on_last = false,
                                Generator& gen = default_generator());

}  // namespace curec::nn

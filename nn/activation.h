#pragma once
// Activation functions as layers, so Sequential and mlp() can chain them.
#include <memory>
#include <string>

#include "nn/module.h"

namespace curec::nn {

enum class Activation { none, relu, sigmoid, tanh, gelu };
// "none", "relu", "sigmoid", "tanh", "gelu" (what a CLI or a saved model's metadata names).
Activation parse_activation(const std::string& name);
std::string activation_name(Activation a);

class ReLU : public Layer {
 public:
  Tensor forward(const Tensor& x) override;
};
class Sigmoid : public Layer {
 public:
  Tensor forward(const Tensor& x) override;
};
class Tanh : public Layer {
 public:
  Tensor forward(const Tensor& x) override;
};
class GELU : public Layer {  // the exact (erf) form
 public:
  Tensor forward(const Tensor& x) override;
};

// The layer for `a`; null for Activation::none.
std::shared_ptr<Layer> make_activation(Activation a);

}  // namespace curec::nn

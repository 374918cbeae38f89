#include "nn/activation.h"

#include "ops/elementwise.h"

namespace curec::nn {

Activation parse_activation(const std::string& name) {
  if (name == "none") return Activation::none;
  if (name == "relu") return Activation::relu;
  if (name == "sigmoid") return Activation::sigmoid;
  if (name == "tanh") return Activation::tanh;
  if (name == "gelu") return Activation::gelu;
  CUREC_FAIL("unknown activation \"", name, "\"; use none, relu, sigmoid, tanh or gelu");
}

std::string activation_name(Activation a) {
  switch (a) {
    case Activation::none: return "none";
    case Activation::relu: return "relu";
    case Activation::sigmoid: return "sigmoid";
    case Activation::tanh: return "tanh";
    case Activation::gelu: return "gelu";
  }
  return "?";
}

Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor GELU::forward(const Tensor& x) { return gelu(x); }

std::shared_ptr<Layer> make_activation(Activation a) {
  switch (a) {
    case Activation::none: return nullptr;
    case Activation::relu: return std::make_shared<ReLU>();
    case Activation::sigmoid: return std::make_shared<Sigmoid>();
    case Activation::tanh: return std::make_shared<Tanh>();
    case Activation::gelu: return std::make_shared<GELU>();
  }
  return nullptr;
}

}  // namespace curec::nn

#pragma once
// Dropout: zeroes each element with probability p while training and scales the rest by
// 1/(1-p); the identity in eval mode. Draws from `gen` (the default generator of the thread
// that builds it, unless given), so a seed reproduces the masks on either backend.
#include "core/generator.h"
#include "nn/module.h"

namespace curec::nn {

class Dropout : public Layer {
 public:
  explicit Dropout(float p, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;
  float p() const { return p_; }

 private:
  float p_;
  Generator* gen_;
};

}  // namespace curec::nn

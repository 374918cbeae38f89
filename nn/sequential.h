#pragma once
// Sequential: layers applied in order, registered as children "0", "1", ... so their
// parameters are named "0.weight", "2.bias" (PyTorch's naming).
#include <memory>
#include <vector>

#include "nn/module.h"

namespace curec::nn {

class Sequential : public Layer {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<std::shared_ptr<Layer>> layers);

  Sequential& push_back(std::shared_ptr<Layer> layer);
  size_t size() const { return layers_.size(); }
  Layer& operator[](size_t i) const;
  const std::vector<std::shared_ptr<Layer>>& layers() const { return layers_; }

  Tensor forward(const Tensor& x) override;

 private:
  std::vector<std::shared_ptr<Layer>> layers_;
};

}  // namespace curec::nn

#pragma once
// ModuleList: a list of child modules registered as "0", "1", ... (PyTorch's naming), so their
// parameters are named "0.weight", "1.bias" and the tree (optimizers, to(device), state_dict,
// train/eval) sees them. Unlike Sequential it calls nothing: the owner's forward decides how the
// children combine (residual blocks, towers, skip connections). Typed by what it holds, so an
// element needs no cast:
//   nn::ModuleList<nn::Linear> blocks;
//   for (int i = 0; i < depth; ++i) blocks.emplace_back(width, width);
//   for (auto& block : blocks) h = h + relu((*block)(h));
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"

namespace curec::nn {

template <class M = Module>
class ModuleList : public Module {
 public:
  ModuleList() = default;
  explicit ModuleList(std::vector<std::shared_ptr<M>> modules) {
    for (auto& m : modules) push_back(std::move(m));
  }

  M& push_back(std::shared_ptr<M> module) {
    CUREC_CHECK(module != nullptr, "ModuleList: module ", modules_.size(), " is null");
    register_module(std::to_string(modules_.size()), module);
    modules_.push_back(std::move(module));
    return *modules_.back();
  }
  // Builds an M from `args` and appends it.
  template <class... Args>
  M& emplace_back(Args&&... args) {
    return push_back(std::make_shared<M>(std::forward<Args>(args)...));
  }

  size_t size() const { return modules_.size(); }
  bool empty() const { return modules_.empty(); }
  M& operator[](size_t i) const {
    CUREC_CHECK(i < modules_.size(), "ModuleList: index ", i, " out of range for ", modules_.size(), " modules");
    return *modules_[i];
  }
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

 private:
  std::vector<std::shared_ptr<M>> modules_;
};

}  // namespace curec::nn

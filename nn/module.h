#pragma once
// Module: a named tree of parameters. A module keeps its parameters as Tensor members and
// registers their addresses, so code that reads `weight` and code that walks the tree
// (optimizers, to(device), load_state_dict) see the same tensor. Modules are therefore
// neither copyable nor movable; share them through std::shared_ptr.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/generator.h"
#include "core/tensor.h"
#include "nn/state_dict.h"

namespace curec::nn {

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Parameters of this module and its descendants, depth first in registration order, with
  // dotted paths ("mlp.0.weight"). A tensor registered under two names (tied weights) is
  // listed once, under the first.
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<Tensor> parameters() const;
  int64_t num_parameters() const;  // total elements
  const std::vector<std::pair<std::string, Module*>>& children() const { return children_; }

  // Training mode switches layers such as Dropout; applies to the whole subtree.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Moves every parameter and buffer of the subtree to `device` in place: the tensors keep their
  // identity (every handle, including an optimizer's, sees the moved data) and requires_grad;
  // gradients are dropped. Optimizer state is not moved: build optimizers after moving the model.
  // Returns *this, so `model.to(device)` can start an expression.
  Module& to(Device device);
  void zero_grad();

  // The random generators the subtree draws from while training (dropout), by dotted path
  // ("hidden_dropout_gen"): checkpoints save their positions so a resumed run draws what the
  // uninterrupted one would have. A generator registered twice is listed once.
  std::vector<std::pair<std::string, Generator*>> named_generators() const;

  // Buffers of this module and its descendants (state that is not trained: masks, running
  // statistics, constants), dotted paths as parameters'.
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;

  // CPU copies of every parameter and buffer, detached.
  StateDict state_dict() const;
  // Copies `dict` into the parameters (onto their devices). Shape or dtype mismatches are
  // always errors; missing and unexpected keys are errors when `strict`. Nothing is copied
  // unless the whole dict is accepted.
  void load_state_dict(const StateDict& dict, bool strict = true);

 protected:
  // Registers a Tensor member as a parameter (f32; requires_grad is switched on). Returns it.
  Tensor& register_parameter(const std::string& name, Tensor& slot);
  // Registers a Tensor member that is state but not trained: to() moves it and state_dict()
  // saves it; optimizers never see it (no requires_grad). Returns it.
  Tensor& register_buffer(const std::string& name, Tensor& slot);
  // Registers a generator member that this module's layers draw from. Returns it.
  Generator& register_generator(const std::string& name, Generator& gen);
  // Registers a child owned elsewhere (typically a member of this module).
  Module& register_module(const std::string& name, Module& child);
  // Registers a child this module owns.
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    CUREC_CHECK(child != nullptr, "register_module(\"", name, "\"): child is null");
    register_module(name, static_cast<Module&>(*child));
    owned_.push_back(child);
    return child;
  }

 private:
  void check_new_name(const std::string& name) const;
  using Slots = std::vector<std::pair<std::string, Tensor*>>;
  void collect(const std::string& prefix, Slots Module::*list, Slots& out, std::vector<const TensorImpl*>& seen) const;
  Slots parameter_slots() const;
  Slots buffer_slots() const;
  Slots state_slots() const;  // parameters, then buffers: what state_dict holds

  Slots params_;
  Slots buffers_;
  std::vector<std::pair<std::string, Generator*>> generators_;
  std::vector<std::pair<std::string, Module*>> children_;
  std::vector<std::shared_ptr<Module>> owned_;
  bool training_ = true;
};

// A module with one input and one output: what Sequential chains.
class Layer : public Module {
 public:
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }
};

}  // namespace curec::nn

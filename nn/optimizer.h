#pragma once
// Optimizer: updates a list of parameters from their gradients. Subclasses supply the update
// of one parameter (dense gradient, or row-sparse gradient from an embedding with
// sparse_grad); the base keeps the per-parameter state (step count and named slots such as
// Adam's moments) and saves/restores it for checkpoints.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "nn/state_dict.h"

namespace curec::nn {

class Optimizer {
 public:
  // `slot_names`: the per-parameter state tensors (same shape as the parameter) this
  // optimizer keeps; each is created as zeros on the parameter's device at its first update, or
  // for a CUDA parameter ahead of it, when the optimizer is built (make_device_state).
  Optimizer(std::vector<Tensor> params, float lr, std::vector<std::string> slot_names);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Updates every parameter that has a gradient; parameters without one are left alone and
  // their step count does not advance. Queues device work only (no host synchronisation).
  void step();
  void zero_grad();

  float lr() const { return lr_; }
  void set_lr(float lr);
  const std::vector<Tensor>& params() const { return params_; }
  // How many updates parameter i has received.
  int64_t step_count(size_t i) const { return steps_.at(i); }

  // "lr" (f32 [1]), "<i>.step" (i64 [1]) and "<i>.<slot>" for every parameter i that has
  // state; CPU copies.
  StateDict state_dict() const;
  // Restores what state_dict() gave; the parameters must be the same list (same shapes).
  void load_state_dict(const StateDict& dict);

 protected:
  // slots[k] holds state slot k (allocated); step is this parameter's 1-based update count.
  virtual void update_dense(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, int64_t step) = 0;
  // indices i64 [n] (may repeat: duplicates are summed), rows f32 [n, row_width].
  virtual void update_sparse(Tensor& param, const Tensor& indices, const Tensor& rows, std::vector<Tensor>& slots,
                             int64_t step) = 0;
  // Slot count for a parameter (e.g. SGD without momentum keeps none).
  virtual size_t active_slots() const { return slot_names_.size(); }
  // Creates the state of every CUDA parameter now; a subclass calls it at the end of its
  // constructor, once active_slots() is its own. State created at the first step would take the
  // device blocks that step's temporaries had just given back to the caching allocator, and the
  // second step, needing them again, would call cudaMalloc: the steady state starts at step 2
  // only if the state exists before step 1. Until its first update such state counts as none
  // (state_dict() leaves it out; a parameter moved since gets it anew where it is).
  void make_device_state();

  const char* name_ = "optimizer";

 private:
  std::vector<Tensor>& slots_for(size_t i);
  void make_state_ahead(size_t i);

  std::vector<Tensor> params_;
  float lr_;
  std::vector<std::string> slot_names_;
  std::vector<int64_t> steps_;
  std::vector<std::vector<Tensor>> slots_;
  std::vector<char> ahead_;  // per parameter: slots made ahead (zeros), not yet updated or loaded
};

}  // namespace curec::nn

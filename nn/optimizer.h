#pragma once
// Optimizer: updates a list of parameters from their gradients. Subclasses supply the update
// of one parameter (dense gradient, or row-sparse gradient from an embedding with
// sparse_grad); the base keeps the parameter groups (each with its own learning rate and weight
// decay, as PyTorch's param_groups), the per-parameter state (step count and named slots such
// as Adam's moments), an optional gradient scale (clipping, nn/clip_grad.h), and saves/restores
// the state for checkpoints.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "nn/state_dict.h"

namespace curec::nn {

// Parameters that share a learning rate and a weight decay; unset values are the optimizer's.
struct ParamGroup {
  std::vector<Tensor> params;
  std::optional<float> lr;
  std::optional<float> weight_decay;
};

// A group's values as the update uses them.
struct GroupSettings {
  float lr = 0;
  float weight_decay = 0;
};

class Optimizer {
 public:
  // `slot_names`: the per-parameter state tensors (same shape as the parameter) this
  // optimizer keeps; each is created as zeros on the parameter's device at its first update, or
  // for a CUDA parameter ahead of it, when the optimizer is built (make_device_state).
  // The parameters are numbered group by group, in order (state_dict's keys use the numbers).
  Optimizer(std::vector<ParamGroup> groups, GroupSettings defaults, std::vector<std::string> slot_names);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Updates every parameter that has a gradient; parameters without one are left alone and
  // their step count does not advance. Queues device work only (no host synchronisation).
  void step();
  void zero_grad();

  size_t num_groups() const { return groups_.size(); }
  float lr(size_t group = 0) const { return groups_.at(group).lr; }
  float weight_decay(size_t group = 0) const { return groups_.at(group).weight_decay; }
  void set_lr(float lr);  // every group's
  void set_lr(size_t group, float lr);
  // The parameter numbers of group g: [first, first + count).
  size_t group_first(size_t g) const { return group_first_.at(g); }
  size_t group_size(size_t g) const { return group_first_.at(g + 1) - group_first_.at(g); }

  // Every gradient is multiplied by scale (f32 [1], on the parameters' device) as the next
  // steps read it, inside the fused update, without a host sync; undefined: no scaling. The
  // gradients themselves are left as they are. nn/clip_grad.h sets it.
  void set_grad_scale(Tensor scale);
  const Tensor& grad_scale() const { return grad_scale_; }

  const std::vector<Tensor>& params() const { return params_; }
  // How many updates parameter i has received.
  int64_t step_count(size_t i) const { return steps_.at(i); }

  // "lr" (f32 [groups]), "<i>.step" (i64 [1]) and "<i>.<slot>" for every parameter i that has
  // state; CPU copies.
  StateDict state_dict() const;
  // Restores what state_dict() gave; the parameters must be the same list (same shapes), in the
  // same groups.
  void load_state_dict(const StateDict& dict);

 protected:
  // slots[k] holds state slot k (allocated); step is this parameter's 1-based update count.
  // group() and scale() are those of the parameter being updated.
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

  // The learning rate and weight decay of the parameter being updated.
  const GroupSettings& group() const { return groups_[current_group_]; }
  // The gradient scale (one float on the parameter's device), or null for none.
  const float* scale() const { return grad_scale_.defined() ? grad_scale_.data<float>() : nullptr; }

  const char* name_ = "optimizer";

 private:
  std::vector<Tensor>& slots_for(size_t i);
  void make_state_ahead(size_t i);

  std::vector<Tensor> params_;
  std::vector<GroupSettings> groups_;
  std::vector<size_t> group_first_;  // groups_.size() + 1 bounds
  size_t current_group_ = 0;
  Tensor grad_scale_;
  std::vector<std::string> slot_names_;
  std::vector<int64_t> steps_;
  std::vector<std::vector<Tensor>> slots_;
  std::vector<char> ahead_;  // per parameter: slots made ahead (zeros), not yet updated or loaded
};

// One group holding every parameter.
inline std::vector<ParamGroup> one_group(std::vector<Tensor> params) { return {ParamGroup{std::move(params), {}, {}}}; }

}  // namespace curec::nn

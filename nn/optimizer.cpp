#include "nn/optimizer.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace curec::nn {

namespace {
void check_lr(float lr) {
  CUREC_CHECK(std::isfinite(lr) && lr >= 0.0f, "optimizer: learning rate must be finite and >= 0, got ", lr);
}
}  // namespace

Optimizer::Optimizer(std::vector<ParamGroup> groups, GroupSettings defaults, std::vector<std::string> slot_names)
    : slot_names_(std::move(slot_names)) {
  CUREC_CHECK(!groups.empty(), "optimizer: no parameter groups; pass at least one (nn::one_group(params))");
  group_first_.push_back(0);
  for (size_t g = 0; g < groups.size(); ++g) {
    GroupSettings s{groups[g].lr.value_or(defaults.lr), groups[g].weight_decay.value_or(defaults.weight_decay)};
    check_lr(s.lr);
    CUREC_CHECK(std::isfinite(s.weight_decay) && s.weight_decay >= 0.0f, "optimizer: weight_decay of group ", g,
                " must be finite and >= 0, got ", s.weight_decay);
    groups_.push_back(s);
    for (Tensor& p : groups[g].params) params_.push_back(std::move(p));
    group_first_.push_back(params_.size());
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    CUREC_CHECK(p.defined() && p.dtype() == DType::f32 && p.requires_grad(), "optimizer: parameter ", i,
                " must be a defined f32 tensor that requires grad, got ", p.defined() ? p.str() : "undefined");
    for (size_t j = 0; j < i; ++j)
      CUREC_CHECK(params_[j].impl() != p.impl(), "optimizer: parameter ", i, " is the same tensor as parameter ", j,
                  "; it would be updated twice per step");
  }
  steps_.assign(params_.size(), 0);
  slots_.resize(params_.size());
  ahead_.assign(params_.size(), 0);
}

void Optimizer::set_lr(float lr) {
  check_lr(lr);
  for (GroupSettings& g : groups_) g.lr = lr;
}

void Optimizer::set_lr(size_t group, float lr) {
  CUREC_CHECK(group < groups_.size(), "optimizer: no parameter group ", group, " (it has ", groups_.size(), ")");
  check_lr(lr);
  groups_[group].lr = lr;
}

void Optimizer::set_grad_scale(Tensor scale) {
  if (scale.defined())
    for (const Tensor& p : params_)
      CUREC_CHECK(scale.dtype() == DType::f32 && scale.numel() == 1 && scale.device() == p.device(), name_,
                  ": the gradient scale must be f32 [1] on the parameters' device ", p.device().str(), ", got ",
                  scale.str());
  grad_scale_ = std::move(scale);
}

void Optimizer::make_device_state() {
  for (size_t i = 0; i < params_.size(); ++i) make_state_ahead(i);
}

void Optimizer::make_state_ahead(size_t i) {
  const Tensor& p = params_[i];
  if (!p.is_cuda() || !slots_[i].empty()) return;
  for (size_t k = 0; k < active_slots(); ++k) slots_[i].push_back(Tensor::zeros(p.shape(), DType::f32, p.device()));
  ahead_[i] = 1;
}

std::vector<Tensor>& Optimizer::slots_for(size_t i) {
  std::vector<Tensor>& s = slots_[i];
  Tensor& p = params_[i];
  // Made ahead where the parameter was when the optimizer was built, and it has moved since:
  // made again where it is, as its first update would have made it.
  if (ahead_[i] && !s.empty() && s[0].device() != p.device()) s.clear();
  ahead_[i] = 0;
  if (s.empty())
    for (size_t k = 0; k < active_slots(); ++k) s.push_back(Tensor::zeros(p.shape(), DType::f32, p.device()));
  for (const Tensor& t : s)
    CUREC_CHECK(t.device() == p.device(), name_, ": state of parameter ", i, " is on ", t.device().str(),
                " but the parameter is on ", p.device().str(), "; build the optimizer after moving the model");
  return s;
}

void Optimizer::step() {
  current_group_ = 0;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    while (group_first_[current_group_ + 1] <= i) ++current_group_;
    if (p.has_sparse_grad()) {
      const Tensor &idx = p.sparse_grad_indices(), &rows = p.sparse_grad_rows();
      CUREC_CHECK(idx.dtype() == DType::i64 && idx.dim() == 1 && rows.dtype() == DType::f32 && p.dim() >= 1 &&
                      rows.dim() >= 1 && rows.size(0) == idx.size(0) &&
                      rows.numel() * std::max<int64_t>(p.size(0), 1) == idx.size(0) * p.numel(),
                  name_, ": row-sparse gradient of parameter ", i, " ", p.str(), " has indices ", idx.str(),
                  " and rows ", rows.str(), "; expected i64 [n] and f32 [n, row size]");
      CUREC_CHECK(idx.device() == p.device() && rows.device() == p.device(), name_, ": gradient of parameter ", i,
                  " is on ", rows.device().str(), " but the parameter is on ", p.device().str());
      std::vector<Tensor>& s = slots_for(i);
      update_sparse(p, idx, rows, s, ++steps_[i]);
    } else if (p.grad().defined()) {
      const Tensor& g = p.grad();
      CUREC_CHECK(g.shape() == p.shape() && g.dtype() == DType::f32 && g.device() == p.device(), name_,
                  ": gradient ", g.str(), " does not match parameter ", i, " ", p.str());
      std::vector<Tensor>& s = slots_for(i);
      update_dense(p, g, s, ++steps_[i]);
    }
  }
}

void Optimizer::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

StateDict Optimizer::state_dict() const {
  StateDict d;
  std::vector<float> lrs;
  for (const GroupSettings& g : groups_) lrs.push_back(g.lr);
  d["lr"] = Tensor::from_vector<float>(lrs, {static_cast<int64_t>(lrs.size())});
  for (size_t i = 0; i < params_.size(); ++i) {
    if (steps_[i] == 0 && (slots_[i].empty() || ahead_[i])) continue;
    std::string prefix = std::to_string(i) + ".";
    d[prefix + "step"] = Tensor::from_vector<int64_t>({steps_[i]}, {1});
    for (size_t k = 0; k < slots_[i].size(); ++k) d[prefix + slot_names_[k]] = slots_[i][k].cpu().clone();
  }
  return d;
}

void Optimizer::load_state_dict(const StateDict& dict) {
  // Validate everything first, so a bad checkpoint leaves the optimizer as it was.
  for (const auto& [key, t] : dict) {
    CUREC_CHECK(t.defined(), name_, ".load_state_dict: \"", key, "\" is undefined");
    if (key == "lr") {
      CUREC_CHECK(t.dtype() == DType::f32 && t.numel() == static_cast<int64_t>(groups_.size()), name_,
                  ".load_state_dict: \"lr\" must be f32 [", groups_.size(), "] (one per parameter group), got ",
                  t.str(), "; build the optimizer with the groups that wrote it");
      continue;
    }
    size_t dot = key.find('.');
    size_t i = 0;
    // from_chars, not stoul: an index past size_t is an unexpected key, not std::out_of_range.
    bool parsed = dot != std::string::npos && dot > 0;
    if (parsed) {
      auto r = std::from_chars(key.data(), key.data() + dot, i);
      parsed = r.ec == std::errc() && r.ptr == key.data() + dot;
    }
    CUREC_CHECK(parsed && i < params_.size(), name_, ".load_state_dict: unexpected key \"", key, "\" (this optimizer has ",
                params_.size(), " parameters)");
    std::string slot = key.substr(dot + 1);
    if (slot == "step") {
      CUREC_CHECK(t.dtype() == DType::i64 && t.numel() == 1, name_, ".load_state_dict: \"", key,
                  "\" must be i64 [1], got ", t.str());
      continue;
    }
    bool known = false;
    for (size_t k = 0; k < active_slots(); ++k) known = known || slot_names_[k] == slot;
    CUREC_CHECK(known, name_, ".load_state_dict: unexpected key \"", key, "\"");
    CUREC_CHECK(t.shape() == params_[i].shape() && t.dtype() == DType::f32, name_, ".load_state_dict: \"", key, "\" is ",
                t.str(), " but parameter ", i, " is ", params_[i].str());
    CUREC_CHECK(dict.count(std::to_string(i) + ".step"), name_, ".load_state_dict: \"", key, "\" comes without \"", i,
                ".step\"");
  }
  if (auto it = dict.find("lr"); it != dict.end()) {
    std::vector<float> lrs = it->second.cpu().to_vector<float>();
    for (size_t g = 0; g < groups_.size(); ++g) set_lr(g, lrs[g]);
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    std::string prefix = std::to_string(i) + ".";
    auto st = dict.find(prefix + "step");
    steps_[i] = st == dict.end() ? 0 : st->second.cpu().to_vector<int64_t>()[0];
    slots_[i].clear();
    ahead_[i] = 0;
    if (st == dict.end()) {
      make_state_ahead(i);
      continue;
    }
    std::vector<Tensor>& s = slots_for(i);
    for (size_t k = 0; k < s.size(); ++k)
      if (auto it = dict.find(prefix + slot_names_[k]); it != dict.end()) s[k].copy_from(it->second);
  }
}

}  // namespace curec::nn

#include "nn/module.h"

#include <algorithm>
#include <sstream>

namespace curec::nn {

void Module::check_new_name(const std::string& name) const {
  CUREC_CHECK(!name.empty() && name.find('.') == std::string::npos, "module: name \"", name,
              "\" must be non-empty and contain no '.' (dots separate path components)");
  for (const auto& [n, p] : params_)
    CUREC_CHECK(n != name, "module: \"", name, "\" is already registered as a parameter");
  for (const auto& [n, b] : buffers_)
    CUREC_CHECK(n != name, "module: \"", name, "\" is already registered as a buffer");
  for (const auto& [n, c] : children_)
    CUREC_CHECK(n != name, "module: \"", name, "\" is already registered as a child module");
  for (const auto& [n, g] : generators_)
    CUREC_CHECK(n != name, "module: \"", name, "\" is already registered as a generator");
}

Tensor& Module::register_parameter(const std::string& name, Tensor& slot) {
  check_new_name(name);
  CUREC_CHECK(slot.defined(), "register_parameter(\"", name, "\"): the tensor is undefined; create it first");
  CUREC_CHECK(slot.dtype() == DType::f32, "register_parameter(\"", name, "\"): parameters are f32, got ", slot.str());
  slot.set_requires_grad(true);
  params_.emplace_back(name, &slot);
  return slot;
}

Tensor& Module::register_buffer(const std::string& name, Tensor& slot) {
  check_new_name(name);
  CUREC_CHECK(slot.defined(), "register_buffer(\"", name, "\"): the tensor is undefined; create it first");
  CUREC_CHECK(!slot.requires_grad(), "register_buffer(\"", name,
              "\"): the tensor requires grad; register a trained tensor with register_parameter");
  buffers_.emplace_back(name, &slot);
  return slot;
}

Generator& Module::register_generator(const std::string& name, Generator& gen) {
  check_new_name(name);
  generators_.emplace_back(name, &gen);
  return gen;
}

std::vector<std::pair<std::string, Generator*>> Module::named_generators() const {
  std::vector<std::pair<std::string, Generator*>> out;
  // Depth first, like parameters; a generator shared by several layers is listed once.
  auto walk = [&out](auto& self, const Module& m, const std::string& prefix) -> void {
    for (const auto& [name, g] : m.generators_) {
      bool seen = std::any_of(out.begin(), out.end(), [g = g](const auto& e) { return e.second == g; });
      if (!seen) out.emplace_back(prefix + name, g);
    }
    for (const auto& [name, child] : m.children_) self(self, *child, prefix + name + ".");
  };
  walk(walk, *this, "");
  return out;
}

Module& Module::register_module(const std::string& name, Module& child) {
  check_new_name(name);
  CUREC_CHECK(&child != this, "register_module(\"", name, "\"): a module cannot be its own child");
  children_.emplace_back(name, &child);
  return child;
}

void Module::collect(const std::string& prefix, Slots Module::*list, Slots& out,
                     std::vector<const TensorImpl*>& seen) const {
  for (const auto& [name, slot] : this->*list) {
    const TensorImpl* id = slot->impl();
    if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
    seen.push_back(id);
    out.emplace_back(prefix + name, slot);
  }
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", list, out, seen);
}

Module::Slots Module::parameter_slots() const {
  Slots out;
  std::vector<const TensorImpl*> seen;
  collect("", &Module::params_, out, seen);
  return out;
}

Module::Slots Module::buffer_slots() const {
  Slots out;
  std::vector<const TensorImpl*> seen;
  collect("", &Module::buffers_, out, seen);
  return out;
}

Module::Slots Module::state_slots() const {
  Slots out = parameter_slots();
  for (auto& b : buffer_slots()) out.push_back(b);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, slot] : buffer_slots()) out.emplace_back(name, *slot);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, slot] : parameter_slots()) out.emplace_back(name, *slot);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (const auto& [name, slot] : parameter_slots()) out.push_back(*slot);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const auto& [name, slot] : parameter_slots()) n += slot->numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

Module& Module::to(Device device) {
  for (auto& [name, slot] : state_slots()) {
    if (slot->device() == device) continue;
    Tensor moved = slot->to(device);
    // Swap the storage under the existing TensorImpl so every handle to it follows the move.
    TensorImpl* impl = slot->impl();
    impl->storage = moved.storage();
    impl->offset = 0;
    slot->zero_grad();
  }
  return *this;
}

void Module::zero_grad() {
  for (auto& [name, slot] : parameter_slots()) slot->zero_grad();
}

StateDict Module::state_dict() const {
  StateDict dict;
  for (const auto& [name, slot] : state_slots())
    dict[name] = slot->is_cuda() ? slot->cpu().detach() : slot->clone();
  return dict;
}

void Module::load_state_dict(const StateDict& dict, bool strict) {
  auto slots = state_slots();
  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [name, slot] : slots) {
    auto it = dict.find(name);
    if (it == dict.end()) {
      missing.push_back(name);
    } else if (!it->second.defined() || it->second.shape() != slot->shape() || it->second.dtype() != slot->dtype()) {
      mismatched.push_back(name + ": checkpoint has " + (it->second.defined() ? it->second.str() : "undefined") +
                           ", model has " + slot->str());
    }
  }
  for (const auto& [name, t] : dict) {
    // An init-capture: clang before 16 cannot capture a structured binding.
    bool known = std::any_of(slots.begin(), slots.end(), [&key = name](const auto& s) { return s.first == key; });
    if (!known) unexpected.push_back(name);
  }
  auto join = [](const std::vector<std::string>& v) {
    std::ostringstream os;
    for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
    return os.str();
  };
  CUREC_CHECK(mismatched.empty(), "load_state_dict: shape/dtype mismatch for ", join(mismatched),
              "; the checkpoint was written by a model built with other sizes");
  CUREC_CHECK(!strict || (missing.empty() && unexpected.empty()), "load_state_dict: ",
              missing.empty() ? "" : "missing keys [" + join(missing) + "] ",
              unexpected.empty() ? "" : "unexpected keys [" + join(unexpected) + "] ",
              "; pass strict=false to load a partial state");
  for (auto& [name, slot] : slots) {
    auto it = dict.find(name);
    if (it != dict.end()) slot->copy_from(it->second);
  }
}

}  // namespace curec::nn

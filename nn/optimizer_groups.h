#pragma once
// Rules that split a module's named parameters into optimizer groups (nn/optimizer.h), so a
// configuration can ask for the usual split by name instead of listing tensors.
#include <string>
#include <utility>
#include <vector>

#include "nn/optimizer.h"

namespace curec::nn {

enum class GroupRule {
  single,    // one group: every parameter takes the optimizer's lr and weight decay
  no_decay,  // two groups: the rest, then biases and 1-D weights (norms' scales) without weight decay
};

// Whether the no_decay rule exempts this parameter: its name's last part is "bias", or it has
// fewer than two dimensions (a bias or a norm's scale by shape, whatever it is called).
bool exempt_from_decay(const std::string& name, const Tensor& param);

// The groups of `named` under `rule`, each group's parameters in `named`'s order; a group left
// empty is dropped.
std::vector<ParamGroup> param_groups(const std::vector<std::pair<std::string, Tensor>>& named, GroupRule rule);

// "single" | "no-decay", and back (an unknown name is an error listing the known ones).
std::string group_rule_name(GroupRule rule);
GroupRule parse_group_rule(const std::string& name);

}  // namespace curec::nn

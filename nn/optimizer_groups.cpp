#include "nn/optimizer_groups.h"

namespace curec::nn {

bool exempt_from_decay(const std::string& name, const Tensor& param) {
  const size_t dot = name.rfind('.');
  const std::string last = dot == std::string::npos ? name : name.substr(dot + 1);
  return last == "bias" || param.dim() < 2;
}

std::vector<ParamGroup> param_groups(const std::vector<std::pair<std::string, Tensor>>& named, GroupRule rule) {
  ParamGroup decayed, exempt;
  exempt.weight_decay = 0.0f;
  for (const auto& [name, p] : named)
    (rule == GroupRule::no_decay && exempt_from_decay(name, p) ? exempt : decayed).params.push_back(p);
  std::vector<ParamGroup> groups;
  if (!decayed.params.empty() || exempt.params.empty()) groups.push_back(std::move(decayed));
  if (!exempt.params.empty()) groups.push_back(std::move(exempt));
  return groups;
}

std::string group_rule_name(GroupRule rule) { return rule == GroupRule::no_decay ? "no-decay" : "single"; }

GroupRule parse_group_rule(const std::string& name) {
  if (name == "single") return GroupRule::single;
  if (name == "no-decay") return GroupRule::no_decay;
  CUREC_FAIL("unknown parameter-group rule '", name, "'; use single or no-decay");
}

}  // namespace curec::nn

#include "nn/optimizer_config.h"

namespace curec::nn {

std::unique_ptr<Optimizer> make_optimizer(std::vector<Tensor> params, const OptimizerConfig& config) {
  return make_optimizer(one_group(std::move(params)), config);
}

std::unique_ptr<Optimizer> make_optimizer(std::vector<ParamGroup> groups, const OptimizerConfig& config) {
  if (const auto* a = std::get_if<AdamOptions>(&config)) return std::make_unique<Adam>(std::move(groups), *a);
  return std::make_unique<SGD>(std::move(groups), std::get<SgdOptions>(config));
}

float& learning_rate(OptimizerConfig& config) {
  return std::visit([](auto& o) -> float& { return o.lr; }, config);
}
float& weight_decay(OptimizerConfig& config) {
  return std::visit([](auto& o) -> float& { return o.weight_decay; }, config);
}
float learning_rate(const OptimizerConfig& config) {
  return std::visit([](const auto& o) { return o.lr; }, config);
}
std::string optimizer_name(const OptimizerConfig& config) {
  return std::holds_alternative<AdamOptions>(config) ? "adam" : "sgd";
}

}  // namespace curec::nn

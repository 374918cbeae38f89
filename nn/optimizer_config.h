#pragma once
// Which optimizer to build, as one value a recipe holds and the trainer passes on unchanged:
// the chosen optimizer's own options struct, so there is no relay copy to drift from it.
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "nn/adam.h"
#include "nn/sgd.h"

namespace curec::nn {

using OptimizerConfig = std::variant<AdamOptions, SgdOptions>;

std::unique_ptr<Optimizer> make_optimizer(std::vector<Tensor> params, const OptimizerConfig& config);
// Groups' unset lr and weight decay are config's.
std::unique_ptr<Optimizer> make_optimizer(std::vector<ParamGroup> groups, const OptimizerConfig& config);

// The fields every optimizer has, for code (a command line, a recipe) that sets them whatever
// the choice.
float& learning_rate(OptimizerConfig& config);
float& weight_decay(OptimizerConfig& config);
float learning_rate(const OptimizerConfig& config);
std::string optimizer_name(const OptimizerConfig& config);  // "adam" | "sgd"

}  // namespace curec::nn

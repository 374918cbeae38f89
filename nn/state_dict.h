#pragma once
// A model's or optimizer's tensors by dotted name ("mlp.0.weight"), sorted by name so that
// two dicts with the same content compare, print and serialize identically.
#include <map>
#include <string>

#include "core/tensor.h"

namespace curec::nn {

using StateDict = std::map<std::string, Tensor>;

}  // namespace curec::nn

#pragma once
// A module's parameter by its dotted path ("mlp.0.weight"), for tests that check a model's
// formula against its own weights; a missing name fails the test.
#include <string>

#include <doctest/doctest.h>
#include "nn/module.h"

namespace curec::testing {

inline Tensor parameter_of(const nn::Module& m, const std::string& name) {
  for (auto& [n, t] : m.named_parameters())
    if (n == name) return t;
  FAIL("no parameter ", name);
  return Tensor();
}

}  // namespace curec::testing

#pragma once
// Eval mode for a scope: layers such as Dropout act as in inference while the guard lives, and
// the module returns to the mode it had (train or eval, the whole subtree) when it dies, also
// when an exception leaves the scope. Grad mode is separate: pair it with NoGradGuard or
// no_grad (core/autograd.h) when evaluating.
//   { nn::EvalGuard eval(model); NoGradGuard no_grad; rmse = ...; }   // training again after
#include "nn/module.h"

namespace curec::nn {

class EvalGuard {
 public:
  explicit EvalGuard(Module& module) : module_(module), was_training_(module.is_training()) { module_.eval(); }
  ~EvalGuard() { module_.train(was_training_); }
  EvalGuard(const EvalGuard&) = delete;
  EvalGuard& operator=(const EvalGuard&) = delete;

 private:
  Module& module_;
  bool was_training_;
};

}  // namespace curec::nn

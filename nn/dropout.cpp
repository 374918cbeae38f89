#include "nn/dropout.h"

#include "ops/dropout.h"

namespace curec::nn {

Dropout::Dropout(float p, Generator& gen) : p_(p), gen_(&gen) {
  CUREC_CHECK(p >= 0.0f && p < 1.0f, "Dropout: p must be in [0, 1), got ", p);
}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p_, is_training(), *gen_); }

}  // namespace curec::nn

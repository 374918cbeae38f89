#include "ops/index_select.h"

#include "core/autograd.h"
#include "ops/embedding.h"

namespace curec {

Tensor index_select(const Tensor& x, const Tensor& indices) {
  check_defined("index_select", indices, "indices");
  CUREC_CHECK(indices.dim() == 1, "index_select: indices must be 1-D [n], got ", indices.str(),
              "; flatten them first (or use embedding for ids of any shape)");
  Tensor out = gather_rows(x, indices, "index_select");
  const Shape x_shape = x.shape();
  return record(out, "index_select", {x}, [=](const Tensor& g) -> std::vector<Grad> {
    return {scatter_add_rows(g, indices, x_shape, /*deterministic=*/false)};
  });
}

}  // namespace curec

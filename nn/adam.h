#pragma once
// Adam (Kingma & Ba, 2015) as torch.optim.Adam and MXNet's adam (the book's optimizer):
// bias-corrected moments, eps 1e-8, weight decay added to the gradient (L2, not AdamW).
// A row-sparse gradient gets the lazy update of torch.optim.SparseAdam: only the touched
// rows' weights and moments change (their weight decay too); untouched rows keep stale
// moments. The per-element formula is the dense one (eps added after the bias correction), so
// at a parameter's first step lazy Adam equals dense Adam on the touched rows.
#include "nn/optim_math.h"
#include "nn/optimizer.h"

namespace curec::nn {

struct AdamOptions {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options);
  // lr is the base class's (set_lr changes it); the rest as constructed.
  AdamOptions options() const {
    AdamOptions o = options_;
    o.lr = lr();
    return o;
  }

 protected:
  void update_dense(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, int64_t step) override;
  void update_sparse(Tensor& param, const Tensor& indices, const Tensor& rows, std::vector<Tensor>& slots,
                     int64_t step) override;

 private:
  optim::AdamHyper hyper(int64_t step) const;
  AdamOptions options_;
};

namespace cuda {
// One fused pass per parameter over weight, first and second moment.
void adam_dense(float* w, float* m, float* v, const float* grad, int64_t n, const optim::AdamHyper& h, int device);
// Lazy update of the rows named by indices [n] (grad_rows [n, width]; duplicates summed).
void adam_sparse(float* w, float* m, float* v, int64_t table_rows, int64_t width, const int64_t* indices,
                 const float* grad_rows, int64_t n, const optim::AdamHyper& h, int device);
}  // namespace cuda

}  // namespace curec::nn

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
  Adam(std::vector<Tensor> params, AdamOptions options) : Adam(one_group(std::move(params)), options) {}
  // Each group's lr and weight_decay default to options'.
  Adam(std::vector<ParamGroup> groups, AdamOptions options);
  // lr and weight_decay are the base class's, of group 0 (set_lr changes lr); the rest as
  // constructed.
  AdamOptions options() const {
    AdamOptions o = options_;
    o.lr = lr();
    o.weight_decay = weight_decay();
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
// scale: the gradient scale (one float on the device), or null.
void adam_dense(float* w, float* m, float* v, const float* grad, int64_t n, const optim::AdamHyper& h,
                const float* scale, int device);
// Lazy update of the rows named by indices [n] (grad_rows [n, width]; duplicates summed).
void adam_sparse(float* w, float* m, float* v, int64_t table_rows, int64_t width, const int64_t* indices,
                 const float* grad_rows, int64_t n, const optim::AdamHyper& h, const float* scale, int device);
}  // namespace cuda

}  // namespace curec::nn

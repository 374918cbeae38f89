#pragma once
// Alternating least squares with biases (the course notes' matrix factorisation, solved in
// closed form; no autograd):
//
//   r̂_ui = μ + b_u + c_i + p_u·q_i
//
// minimising  Σ_(u,i) observed (r_ui − r̂_ui)²  +  Σ_u λ_u (‖p_u‖² + b_u²)  +  Σ_i λ_i (‖q_i‖² + c_i²)
//
// μ is the mean training rating: fixed, not learned, not regularised. Every factor and bias is
// regularised. With scale_lambda_by_count (the default, the weighted-λ of Zhou et al. 2008)
// λ_u = λ·n_u and λ_i = λ·n_i, where n is the number of training ratings of that user / item;
// otherwise λ_u = λ_i = λ. Weighting by the count shrinks heavy and light users alike in
// proportion to their evidence. On ML-100K (random 90/10, K = 30, 20 sweeps) λ = 0.12 gives test
// RMSE 0.920 and the test error still falls at sweep 20 (0.10–0.15 all stay under 0.925); the best
// constant λ (≈ 15) reaches about the same figure but overfits after ~7 sweeps, and λ = 10 ends at
// 0.936, so the weighted form is the one whose 20-sweep result does not hinge on when one stops.
//
// A sweep fixes the items and solves, for every user, the (K+1)×(K+1) system for [p_u; b_u]
// (the item factors augmented with a constant 1 for the bias), then fixes the users and solves
// the items the same way. Each half-step is the exact minimiser of the objective over its block,
// so the objective never increases. A user (item) without ratings gets p_u = 0, b_u = 0: the
// minimiser under any positive λ (weighted-λ uses λ·max(n, 1) so that the system stays definite).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/csr.h"
#include "data/interactions.h"
#include "models/sweep_model.h"
#include "nn/state_dict.h"

namespace curec::models {

struct ALSConfig {
  int64_t factors = 30;
  float lambda = 0.12f;
  bool scale_lambda_by_count = true;
  int sweeps = 20;
  uint64_t seed = 0;
  float init_std = 0.1f;  // factors start N(0, init_std²), biases at 0
};

// One side's ratings grouped by row (rows = users and cols = items, or the reverse): row r rated
// col[k] with val[k] for k in [row_ptr[r], row_ptr[r + 1]), all on one device (data/csr.h).
using ALSRows = data::CsrTensors;

// The training ratings in both groupings, on the device the sweeps run on, and their mean μ.
// The row offsets are kept on the host too, to split the rows between ranks (als_row_split).
struct ALSData {
  ALSRows by_user, by_item;
  std::vector<int64_t> user_ptr, item_ptr;  // by_user.row_ptr and by_item.row_ptr on the host
  float mean = 0.0f;
  Device device() const { return by_user.device(); }
};
// Validates the ids and groups the ratings (a repeated (user, item) pair is an error).
ALSData als_data(const data::Interactions& train, Device device = Device::cpu());

// The normal equations of one half-sweep. For every row r (a user, say), with the other side
// fixed (factors F f32 [cols, K], biases c f32 [cols]) and f̃_j = [F_j; 1]:
//   A_r = Σ_j f̃_j f̃_jᵀ + λ_r I   f32 [rows, K+1, K+1]
//   b_r = Σ_j (r_rj − μ − c_j) f̃_j   f32 [rows, K+1]
struct NormalEquations {
  Tensor A, b;
};
NormalEquations als_normal_equations(const ALSRows& rows, const Tensor& fixed_factors, const Tensor& fixed_bias,
                                     float mean, float lambda, bool scale_lambda_by_count);

// Rows [begin, end) of `rows`, sharing its storage: row_ptr is a view of the range's offsets,
// which still index the whole col and val, so the normal equations of the range need no copy.
ALSRows als_row_range(const ALSRows& rows, int64_t begin, int64_t end);

// Data-parallel ALS as one rank sees it. Rank `rank` of `world` builds and solves the normal
// equations of its own contiguous rows of each half-sweep only (als_row_split), and `gather`
// returns every rank's solved rows concatenated in rank order, counts[r] rows from rank r, on
// the model's device (an all-gather; app/ wires it to a dist::Communicator), so every rank holds
// the whole table before the other half-sweep. A row's solve does not depend on which rank does
// it, so any world size trains the one-rank model bit for bit. The default is one rank.
struct ALSExchange {  // gather, where set, is called (with one rank too)
  int rank = 0, world = 1;
  std::function<Tensor(const Tensor& mine, const std::vector<int64_t>& counts)> gather;
};

// Where each rank's rows start: rank r owns rows [bounds[r], bounds[r + 1]) of a side whose
// rating offsets are row_ptr [rows + 1]; bounds has world + 1 entries, from 0 to rows. Balanced
// by work, not by rows: a row costs its ratings (one (K+1)² outer product each) plus about
// (K+1)/3 + 2 such products for its Cholesky factorisation and solve. A rank may get no rows
// (more ranks than rows).
std::vector<int64_t> als_row_split(const std::vector<int64_t>& row_ptr, int world, int64_t factors);

// x_n = A_n⁻¹ b_n for every n by Cholesky, for A f32 [n, d, d] symmetric positive definite and
// b f32 [n, d]; returns x f32 [n, d] and leaves A and b unchanged. CPU: LAPACK sposv per system;
// CUDA: cusolverDnSpotrfBatched + cusolverDnSpotrsBatched. A matrix that is not positive definite
// is an error naming it (on CUDA, checked once per call).
Tensor solve_spd_batched(const Tensor& A, const Tensor& b);

class ALS {
 public:
  ALS(int64_t num_users, int64_t num_items, const ALSConfig& cfg, Device device = Device::cpu());

  // One sweep: all users, then all items. Runs on data.device(); the state moves there first.
  // With several ranks, this rank solves its rows of each side and gathers the rest.
  void fit_sweep(const ALSData& data, const ALSExchange& ranks = {});
  // Convenience: groups `train` on `device` (each call) and sweeps once.
  void fit_sweep(const data::Interactions& train, Device device);

  // μ + b_u + c_i + p_u·q_i for i32 users [n] and items [n] on the model's device -> f32 [n].
  Tensor predict(const Tensor& users, const Tensor& items) const;
  // The regularised objective above on `train` (which must be the data swept on), in double on
  // the CPU. μ is the model's (set by the first sweep).
  double objective(const data::Interactions& train) const;

  // "user_factors" [U, K], "user_bias" [U], "item_factors" [I, K], "item_bias" [I], "mean" [].
  nn::StateDict state_dict() const;
  void load_state_dict(const nn::StateDict& state);  // shapes must match; keeps the model's device
  void to(Device device);

  const Tensor& user_factors() const { return p_; }
  const Tensor& user_bias() const { return bu_; }
  const Tensor& item_factors() const { return q_; }
  const Tensor& item_bias() const { return ci_; }
  float mean() const { return mean_; }
  const ALSConfig& config() const { return cfg_; }
  Device device() const { return p_.device(); }
  int64_t num_users() const { return p_.size(0); }
  int64_t num_items() const { return q_.size(0); }

 private:
  ALSConfig cfg_;
  Tensor p_, bu_, q_, ci_;
  float mean_ = 0.0f;
};

// Root mean squared error of the model on `data` (reduced on the model's device, one read-back).
double als_rmse(const ALS& model, const data::Interactions& data);

// ALS as the trainer runs it (models/sweep_model.h): the model, its training and test ratings
// and its ranks. A sweep reports the training RMSE; the test metric is "test_rmse". The data
// must outlive it.
class ALSSweeps : public SweepModel {
 public:
  ALSSweeps(ALS& model, const data::Interactions& train, const data::Interactions& test, ALSExchange ranks = {});
  std::string name() const override { return "als"; }
  void to(Device device) override;
  double sweep(int sweep) override;
  std::map<std::string, double> test_metrics() override;
  nn::StateDict state_dict() const override { return model_.state_dict(); }
  void load_state_dict(const nn::StateDict& state) override { model_.load_state_dict(state); }

 private:
  ALS& model_;
  const data::Interactions& train_;
  const data::Interactions& test_;
  ALSExchange ranks_;
  ALSData data_;
};

namespace cuda {
// A [rows, d, d] and b [rows, d] as in als_normal_equations; d = k + 1.
void als_normal_equations(const int64_t* row_ptr, const int32_t* col, const float* val, int64_t rows,
                          int64_t cols, const float* factors, const float* bias, int k, float mean, float lambda,
                          bool scale_by_count, float* A, float* b, int device);
// Solves in place: A becomes its Cholesky factor, b the solution. Rows whose matrix is not
// positive definite are counted into status[0], the first such row into status[1] (atomicMin;
// status must start as {0, INT32_MAX}); nothing is read back.
void spd_solve_batched_inplace(float* A, float* b, int64_t n, int d, int32_t* status, int device);
// status = {0, INT32_MAX}.
void reset_solve_status(int32_t* status, int device);
// x [rows, k + 1] -> factors [rows, k], bias [rows].
void als_unpack(const float* x, int64_t rows, int k, float* factors, float* bias, int device);
void als_predict(const int32_t* users, const int32_t* items, int64_t n, const float* p, const float* bu,
                 const float* q, const float* ci, int64_t num_users, int64_t num_items, int k, float mean,
                 float* out, int device);
}  // namespace cuda

}  // namespace curec::models

#include "models/als.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <memory>
#include <optional>
#include <thread>

#include "core/dispatch.h"
#include "core/random.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

// LAPACK from the CPU BLAS (OpenBLAS exports it); lapacke.h is not required. The trailing
// argument is the hidden length of the Fortran string `uplo`.
extern "C" void sposv_(const char* uplo, const int* n, const int* nrhs, float* a, const int* lda, float* b,
                       const int* ldb, int* info, size_t uplo_len);

namespace curec::models {
namespace {

// Runs fn(begin, end) over [0, n) split across the hardware threads; rows are independent.
template <class Fn>
void parallel_rows(int64_t n, const Fn& fn) {
  const int64_t threads = std::min<int64_t>(std::max(1u, std::thread::hardware_concurrency()), (n + 63) / 64);
  if (threads <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  std::vector<std::thread> pool;
  // An exception may not leave a thread (that would terminate); the first one is rethrown here.
  std::vector<std::exception_ptr> errors(static_cast<size_t>(threads));
  const int64_t chunk = (n + threads - 1) / threads;
  for (int64_t t = 0; t < threads; ++t) {
    const int64_t b = t * chunk, e = std::min(n, b + chunk);
    if (b < e)
      pool.emplace_back([&fn, &errors, t, b, e] {
        try {
          fn(b, e);
        } catch (...) {
          errors[static_cast<size_t>(t)] = std::current_exception();
        }
      });
  }
  for (auto& th : pool) th.join();
  for (auto& err : errors)
    if (err) std::rethrow_exception(err);
}

void check_rows(const char* op, const ALSRows& rows, const Tensor& factors, const Tensor& bias) {
  CUREC_CHECK(rows.row_ptr.defined() && rows.row_ptr.numel() == rows.rows + 1, op,
              ": the grouped ratings are malformed (row_ptr must have rows + 1 = ", rows.rows + 1,
              " entries); build them with als_data()");
  check_dtype(op, rows.row_ptr, DType::i64, "row_ptr");
  check_dtype(op, rows.col, DType::i32, "col");
  check_dtype(op, rows.val, DType::f32, "val");
  check_dtype(op, factors, DType::f32, "fixed_factors");
  check_dtype(op, bias, DType::f32, "fixed_bias");
  CUREC_CHECK(factors.dim() == 2 && factors.size(0) == rows.cols && bias.dim() == 1 && bias.size(0) == rows.cols, op,
              ": the fixed side has factors ", factors.str(), " and biases ", bias.str(), " but the ratings have ",
              rows.cols, " columns; pass the other side's [", rows.cols, ", K] factors and [", rows.cols, "] biases");
  check_same_device(op, rows.row_ptr, factors);
  check_same_device(op, rows.col, factors);
  check_same_device(op, rows.val, factors);
  check_same_device(op, bias, factors);
}

float row_lambda(float lambda, bool scale, int64_t count) {
  return scale ? lambda * static_cast<float>(std::max<int64_t>(count, 1)) : lambda;
}

NormalEquations normal_equations_cpu(const ALSRows& rows, const Tensor& F, const Tensor& c, float mean, float lambda,
                                     bool scale) {
  const int64_t k = F.size(1), d = k + 1;
  NormalEquations ne{Tensor::zeros({rows.rows, d, d}), Tensor::zeros({rows.rows, d})};
  const int64_t* ptr = rows.row_ptr.data<int64_t>();
  const int32_t* col = rows.col.data<int32_t>();
  const float* val = rows.val.data<float>();
  const float* f = F.data<float>();
  const float* cb = c.data<float>();
  float* A = ne.A.data<float>();
  float* b = ne.b.data<float>();
  parallel_rows(rows.rows, [&](int64_t begin, int64_t end) {
    std::vector<float> ft(static_cast<size_t>(d));
    for (int64_t r = begin; r < end; ++r) {
      float* Ar = A + r * d * d;
      float* br = b + r * d;
      for (int64_t j = ptr[r]; j < ptr[r + 1]; ++j) {
        const int32_t other = col[j];
        CUREC_CHECK(other >= 0 && other < rows.cols, "als_normal_equations: row ", r, " rates column ", other,
                    " outside [0, ", rows.cols, ")");
        std::copy(f + other * k, f + other * k + k, ft.begin());
        ft[k] = 1.0f;
        const float y = val[j] - mean - cb[other];
        for (int64_t a = 0; a < d; ++a) {
          const float fa = ft[a];
          for (int64_t e = 0; e <= a; ++e) Ar[a * d + e] += fa * ft[e];
          br[a] += y * fa;
        }
      }
      for (int64_t a = 0; a < d; ++a) {
        for (int64_t e = 0; e < a; ++e) Ar[e * d + a] = Ar[a * d + e];
        Ar[a * d + a] += row_lambda(lambda, scale, ptr[r + 1] - ptr[r]);
      }
    }
  });
  return ne;
}

void solve_cpu_inplace(Tensor& A, Tensor& b) {
  const int64_t n = A.size(0);
  const int d = static_cast<int>(A.size(1));
  float* a = A.data<float>();
  float* x = b.data<float>();
  parallel_rows(n, [&](int64_t begin, int64_t end) {
    const int one = 1;
    for (int64_t r = begin; r < end; ++r) {
      int info = 0;
      // Row-major symmetric A reads the same column-major; "L" factors its lower triangle.
      sposv_("L", &d, &one, a + r * d * d, &d, x + r * d, &d, &info, 1);
      CUREC_CHECK(info == 0, "solve_spd_batched: system ", r, " of ", A.str(), " is not positive definite (LAPACK "
                  "sposv info ", info, "); ALS needs lambda > 0 and finite factors and ratings");
    }
  });
}

void check_system(const char* op, const Tensor& A, const Tensor& b) {
  check_dtype(op, A, DType::f32, "A");
  check_dtype(op, b, DType::f32, "b");
  check_same_device(op, A, b);
  CUREC_CHECK(A.dim() == 3 && A.size(1) == A.size(2) && b.dim() == 2 && b.size(0) == A.size(0) &&
                  b.size(1) == A.size(1),
              op, ": expected A [n, d, d] and b [n, d], got ", A.str(), " and ", b.str());
}

// One device status for a whole sweep: the solves count failures into it, and it is read once.
class SolveStatus {
 public:
  explicit SolveStatus(Device device) : buf_(Tensor::empty({2}, DType::i32, device)) {
    dispatch(
        "ALS solve status", device, [] { CUREC_FAIL("ALS: the solve status lives on a CUDA device"); },
        [&](int dev) { cuda::reset_solve_status(buf_.data<int32_t>(), dev); });
  }
  int32_t* get() { return buf_.data<int32_t>(); }
  void check(const char* op, const std::string& what) const {
    const std::vector<int32_t> host = buf_.to_vector<int32_t>();  // the sweep's one read
    CUREC_CHECK(host[0] == 0, op, ": ", host[0], " of the ", what,
                " were not positive definite (cuSOLVER potrf info > 0), the first at row ", host[1],
                "; ALS needs lambda > 0 and finite factors and ratings");
  }

 private:
  Tensor buf_;  // i32 [2]: failures, first failing row
};

}  // namespace

ALSData als_data(const data::Interactions& train, Device device) {
  train.validate();
  CUREC_CHECK(!train.empty(), "als_data: no training ratings");
  ALSData d;
  // csr_by_* reject a repeated (user, item) pair, which would count twice in both sides' systems.
  const data::Csr by_user = data::csr_by_user(train), by_item = data::csr_by_item(train);
  d.by_user = data::to_tensors(by_user, device);
  d.by_item = data::to_tensors(by_item, device);
  d.user_ptr = by_user.row_ptr;
  d.item_ptr = by_item.row_ptr;
  double sum = 0;
  for (float r : train.rating) sum += r;
  d.mean = static_cast<float>(sum / static_cast<double>(train.size()));
  return d;
}

ALSRows als_row_range(const ALSRows& rows, int64_t begin, int64_t end) {
  CUREC_CHECK(0 <= begin && begin <= end && end <= rows.rows, "als_row_range: rows [", begin, ", ", end,
              ") are not within the ", rows.rows, " rows");
  ALSRows r = rows;
  r.rows = end - begin;
  r.row_ptr = rows.row_ptr.rows(begin, end - begin + 1);
  return r;
}

std::vector<int64_t> als_row_split(const std::vector<int64_t>& row_ptr, int world, int64_t factors) {
  CUREC_CHECK(world >= 1, "als_row_split: ", world, " ranks; need 1 or more");
  CUREC_CHECK(!row_ptr.empty(), "als_row_split: row_ptr needs rows + 1 entries");
  const int64_t rows = static_cast<int64_t>(row_ptr.size()) - 1;
  // In thirds of one rating's outer product: 3 per rating, K + 1 + 6 per row.
  auto cost = [&](int64_t r) {
    const size_t i = static_cast<size_t>(r);
    return 3 * (row_ptr[i + 1] - row_ptr[i]) + factors + 7;
  };
  int64_t total = 0;
  for (int64_t r = 0; r < rows; ++r) total += cost(r);
  std::vector<int64_t> bounds(static_cast<size_t>(world) + 1, rows);
  bounds[0] = 0;
  // Rank q starts at the first row before which at least q / world of the work lies.
  int64_t done = 0, r = 0;
  for (int q = 1; q < world; ++q) {
    const double target = static_cast<double>(total) * q / world;
    while (r < rows && static_cast<double>(done) < target) done += cost(r++);
    bounds[static_cast<size_t>(q)] = r;
  }
  return bounds;
}

NormalEquations als_normal_equations(const ALSRows& rows, const Tensor& fixed_factors, const Tensor& fixed_bias,
                                     float mean, float lambda, bool scale) {
  check_rows("als_normal_equations", rows, fixed_factors, fixed_bias);
  CUREC_CHECK(lambda > 0.0f, "als_normal_equations: lambda must be > 0 (got ", lambda,
              "); without it a row with fewer ratings than factors has no unique solution");
  return dispatch(
      "als_normal_equations", fixed_factors.device(),
      [&] { return normal_equations_cpu(rows, fixed_factors, fixed_bias, mean, lambda, scale); },
      [&](int dev) {
        const Device device = fixed_factors.device();
        const int64_t k = fixed_factors.size(1), d = k + 1;
        NormalEquations ne{Tensor::empty({rows.rows, d, d}, DType::f32, device),
                           Tensor::empty({rows.rows, d}, DType::f32, device)};
        cuda::als_normal_equations(rows.row_ptr.data<int64_t>(), rows.col.data<int32_t>(), rows.val.data<float>(),
                                   rows.rows, rows.cols, fixed_factors.data<float>(), fixed_bias.data<float>(),
                                   static_cast<int>(k), mean, lambda, scale, ne.A.data<float>(), ne.b.data<float>(),
                                   dev);
        return ne;
      });
}

Tensor solve_spd_batched(const Tensor& A, const Tensor& b) {
  check_system("solve_spd_batched", A, b);
  Tensor a = A.clone(), x = b.clone();
  dispatch(
      "solve_spd_batched", a.device(), [&] { solve_cpu_inplace(a, x); },
      [&](int dev) {
        SolveStatus status(a.device());
        cuda::spd_solve_batched_inplace(a.data<float>(), x.data<float>(), a.size(0), static_cast<int>(a.size(1)),
                                        status.get(), dev);
        status.check("solve_spd_batched", "systems of " + A.str());
      });
  return x;
}

ALS::ALS(int64_t num_users, int64_t num_items, const ALSConfig& cfg, Device device) : cfg_(cfg) {
  CUREC_CHECK(num_users > 0 && num_items > 0 && cfg.factors > 0, "ALS: need users, items and factors > 0 (got ",
              num_users, ", ", num_items, ", ", cfg.factors, ")");
  CUREC_CHECK(cfg.lambda > 0.0f, "ALS: lambda must be > 0 (got ", cfg.lambda, ")");
  CUREC_CHECK(cfg.init_std >= 0.0f, "ALS: init_std must be >= 0 (got ", cfg.init_std, ")");
  Generator gen(cfg.seed);
  p_ = Tensor::empty({num_users, cfg.factors});
  q_ = Tensor::empty({num_items, cfg.factors});
  normal_(p_, 0.0f, cfg.init_std, gen);
  normal_(q_, 0.0f, cfg.init_std, gen);
  bu_ = Tensor::zeros({num_users});
  ci_ = Tensor::zeros({num_items});
  to(device);
}

void ALS::to(Device device) {
  p_ = p_.to(device);
  bu_ = bu_.to(device);
  q_ = q_.to(device);
  ci_ = ci_.to(device);
}

void ALS::fit_sweep(const ALSData& data, const ALSExchange& ranks) {
  CUREC_CHECK(data.by_user.rows == num_users() && data.by_item.rows == num_items(), "ALS::fit_sweep: the data has ",
              data.by_user.rows, " users and ", data.by_item.rows, " items but the model ", num_users(), " and ",
              num_items());
  CUREC_CHECK(ranks.world >= 1 && ranks.rank >= 0 && ranks.rank < ranks.world && (ranks.world == 1 || ranks.gather),
              "ALS::fit_sweep: rank ", ranks.rank, " of ", ranks.world, " ranks",
              ranks.world > 1 && !ranks.gather ? " has no gather" : " is not a rank", "; pass a valid ALSExchange");
  to(data.device());
  mean_ = data.mean;
  const int64_t k = cfg_.factors;
  // Solves this rank's rows of one side with the other fixed, gathers every rank's rows, and
  // writes the side's factors and biases.
  auto half = [&](const ALSRows& all, const std::vector<int64_t>& row_ptr, const Tensor& F, const Tensor& c,
                  Tensor& out_f, Tensor& out_b, int32_t* status) {
    ALSRows rows = all;
    std::vector<int64_t> counts;
    if (ranks.world > 1) {
      CUREC_CHECK(static_cast<int64_t>(row_ptr.size()) == all.rows + 1, "ALS::fit_sweep: the data's host row "
                  "offsets have ", row_ptr.size(), " entries for ", all.rows, " rows; build the data with als_data()");
      const std::vector<int64_t> bounds = als_row_split(row_ptr, ranks.world, k);
      for (size_t r = 0; r + 1 < bounds.size(); ++r) counts.push_back(bounds[r + 1] - bounds[r]);
      const size_t me = static_cast<size_t>(ranks.rank);
      rows = als_row_range(all, bounds[me], bounds[me + 1]);
    }
    NormalEquations ne = als_normal_equations(rows, F, c, mean_, cfg_.lambda, cfg_.scale_lambda_by_count);
    dispatch(
        "ALS::fit_sweep", F.device(), [&] { solve_cpu_inplace(ne.A, ne.b); },
        [&](int dev) {
          cuda::spd_solve_batched_inplace(ne.A.data<float>(), ne.b.data<float>(), rows.rows, static_cast<int>(k + 1),
                                          status, dev);
        });
    // [p_r; b_r] of every row: this rank's, or every rank's in rank order.
    // A data-parallel run of one rank gathers too (curec train --exchange-alone: NCCL on one GPU).
    if (ranks.world == 1 && ranks.gather) counts = {all.rows};
    const Tensor x = ranks.gather ? ranks.gather(ne.b, counts) : ne.b;
    CUREC_CHECK(x.dim() == 2 && x.size(0) == all.rows && x.size(1) == k + 1 && x.dtype() == DType::f32 &&
                    x.device() == F.device(),
                "ALS::fit_sweep: the gathered rows are ", x.str(), ", expected [", all.rows, ", ", k + 1,
                "] f32 on ", F.device().str());
    const float* xs = x.data<float>();
    float *f = out_f.data<float>(), *bias = out_b.data<float>();
    dispatch(
        "ALS::fit_sweep", F.device(),
        [&] {
          for (int64_t r = 0; r < all.rows; ++r) {
            std::copy(xs + r * (k + 1), xs + r * (k + 1) + k, f + r * k);
            bias[r] = xs[r * (k + 1) + k];
          }
        },
        [&](int dev) { cuda::als_unpack(xs, all.rows, static_cast<int>(k), f, bias, dev); });
  };
  std::optional<SolveStatus> status;  // on a CUDA device only
  if (data.device().is_cuda()) status.emplace(data.device());
  int32_t* status_ptr = status ? status->get() : nullptr;
  half(data.by_user, data.user_ptr, q_, ci_, p_, bu_, status_ptr);
  half(data.by_item, data.item_ptr, p_, bu_, q_, ci_, status_ptr);
  if (status) status->check("ALS::fit_sweep", "per-user and per-item systems of this sweep (on this rank)");
}

void ALS::fit_sweep(const data::Interactions& train, Device device) { fit_sweep(als_data(train, device)); }

Tensor ALS::predict(const Tensor& users, const Tensor& items) const {
  check_dtype("ALS::predict", users, DType::i32, "users");
  check_dtype("ALS::predict", items, DType::i32, "items");
  CUREC_CHECK(users.dim() == 1 && items.dim() == 1 && users.numel() == items.numel(),
              "ALS::predict: expected users [n] and items [n], got ", users.str(), " and ", items.str());
  CUREC_CHECK(users.device() == device() && items.device() == device(), "ALS::predict: the model is on ",
              device().str(), " but got ", users.str(), " and ", items.str(), "; move them with .to()");
  const int64_t n = users.numel(), k = cfg_.factors, nu = num_users(), ni = num_items();
  Tensor out = Tensor::empty({n}, DType::f32, device());
  const int32_t *u = users.data<int32_t>(), *i = items.data<int32_t>();
  const float *p = p_.data<float>(), *q = q_.data<float>(), *bu = bu_.data<float>(), *ci = ci_.data<float>();
  float* o = out.data<float>();
  dispatch(
      "ALS::predict", device(),
      [&] {
        for (int64_t j = 0; j < n; ++j) {
          CUREC_CHECK(u[j] >= 0 && u[j] < nu && i[j] >= 0 && i[j] < ni, "ALS::predict: pair ", j, " is (user ", u[j],
                      ", item ", i[j], ") outside the model's [0, ", nu, ") x [0, ", ni, ")");
          float dot = 0.0f;
          for (int64_t f = 0; f < k; ++f) dot += p[u[j] * k + f] * q[i[j] * k + f];
          o[j] = mean_ + bu[u[j]] + ci[i[j]] + dot;
        }
      },
      [&](int dev) { cuda::als_predict(u, i, n, p, bu, q, ci, nu, ni, static_cast<int>(k), mean_, o, dev); });
  return out;
}

double ALS::objective(const data::Interactions& train) const {
  CUREC_CHECK(train.num_users == num_users() && train.num_items == num_items(),
              "ALS::objective: the data's id spaces (", train.num_users, " users, ", train.num_items,
              " items) differ from the model's");
  Tensor p = p_.cpu(), q = q_.cpu(), bu = bu_.cpu(), ci = ci_.cpu();
  const float *P = p.data<float>(), *Q = q.data<float>(), *BU = bu.data<float>(), *CI = ci.data<float>();
  const int64_t k = cfg_.factors;
  std::vector<int64_t> nu(static_cast<size_t>(num_users()), 0), ni(static_cast<size_t>(num_items()), 0);
  double loss = 0;
  for (size_t j = 0; j < train.size(); ++j) {
    const int64_t u = train.user[j], i = train.item[j];
    ++nu[u];
    ++ni[i];
    double dot = 0;
    for (int64_t f = 0; f < k; ++f) dot += double(P[u * k + f]) * Q[i * k + f];
    const double e = train.rating[j] - (double(mean_) + BU[u] + CI[i] + dot);
    loss += e * e;
  }
  // The weight of a row without ratings does not matter for the minimiser; λ·max(n, 1) matches the solve.
  auto reg = [&](const float* F, const float* B, const std::vector<int64_t>& n) {
    double s = 0;
    for (size_t r = 0; r < n.size(); ++r) {
      double sq = double(B[r]) * B[r];
      for (int64_t f = 0; f < k; ++f) sq += double(F[r * k + f]) * F[r * k + f];
      s += row_lambda(cfg_.lambda, cfg_.scale_lambda_by_count, n[r]) * sq;
    }
    return s;
  };
  return loss + reg(P, BU, nu) + reg(Q, CI, ni);
}

nn::StateDict ALS::state_dict() const {
  return {{"user_factors", p_},
          {"user_bias", bu_},
          {"item_factors", q_},
          {"item_bias", ci_},
          {"mean", Tensor::scalar(mean_)}};
}

void ALS::load_state_dict(const nn::StateDict& state) {
  auto take = [&](const char* name, Tensor& dst) {
    auto it = state.find(name);
    CUREC_CHECK(it != state.end(), "ALS::load_state_dict: missing \"", name, "\"");
    CUREC_CHECK(it->second.shape() == dst.shape() && it->second.dtype() == DType::f32, "ALS::load_state_dict: \"",
                name, "\" is ", it->second.str(), " but the model has ", dst.str());
    dst = it->second.to(dst.device()).clone();
  };
  take("user_factors", p_);
  take("user_bias", bu_);
  take("item_factors", q_);
  take("item_bias", ci_);
  auto m = state.find("mean");
  CUREC_CHECK(m != state.end() && m->second.numel() == 1, "ALS::load_state_dict: missing the scalar \"mean\"");
  mean_ = m->second.cpu().item();
}

double als_rmse(const ALS& model, const data::Interactions& data) {
  CUREC_CHECK(!data.empty(), "als_rmse: no ratings");
  const Device dev = model.device();
  Tensor err = model.predict(data.users_tensor(dev), data.items_tensor(dev)) - data.ratings_tensor(dev);
  return std::sqrt(static_cast<double>(mean(square(err)).item()));
}

ALSSweeps::ALSSweeps(ALS& model, const data::Interactions& train, const data::Interactions& test, ALSExchange ranks)
    : model_(model), train_(train), test_(test), ranks_(std::move(ranks)) {
  CUREC_CHECK(train.num_users == model.num_users() && train.num_items == model.num_items(), "als: the data has ",
              train.num_users, " users x ", train.num_items, " items, the model ", model.num_users(), " x ",
              model.num_items());
}

void ALSSweeps::to(Device device) {
  model_.to(device);
  data_ = als_data(train_, device);
}

double ALSSweeps::sweep(int) {
  model_.fit_sweep(data_, ranks_);
  return als_rmse(model_, train_);
}

std::map<std::string, double> ALSSweeps::test_metrics() {
  if (test_.empty()) return {};
  return {{"test_rmse", als_rmse(model_, test_)}};
}

}  // namespace curec::models

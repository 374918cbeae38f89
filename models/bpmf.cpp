#include "models/bpmf.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "core/error.h"
#include "core/philox.h"
#include "core/random_math.h"
#include "models/als.h"

// LAPACK from the CPU BLAS (OpenBLAS exports it), as in models/als.cpp; the trailing arguments are
// the hidden lengths of the Fortran strings.
extern "C" {
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info, size_t);
void strtrs_(const char* uplo, const char* trans, const char* diag, const int* n, const int* nrhs, const float* a,
             const int* lda, float* b, const int* ldb, int* info, size_t, size_t, size_t);
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t);
void dpotri_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t);
void dtrtrs_(const char* uplo, const char* trans, const char* diag, const int* n, const int* nrhs, const double* a,
             const int* lda, double* b, const int* ldb, int* info, size_t, size_t, size_t);
}

namespace curec::models {

PhiloxStream::PhiloxStream(uint64_t seed, uint64_t stream) {
  const philox::U32x4 b = philox::bits(seed, stream);
  key_ = (static_cast<uint64_t>(b.v[0]) << 32) | b.v[1];
}

double PhiloxStream::uniform() { return philox::uniform(key_, counter_++, 0); }
double PhiloxStream::normal() { return random_math::normal(key_, counter_++, 0, 0.0f, 1.0f); }

double sample_gamma(double shape, PhiloxStream& rng) {
  CUREC_CHECK(shape > 0 && std::isfinite(shape), "sample_gamma: the shape must be finite and > 0 (got ", shape, ")");
  if (shape < 1) {
    const double u = 1.0 - rng.uniform();  // (0, 1]: never a zero power
    return sample_gamma(shape + 1, rng) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double x = rng.normal();
    double v = 1.0 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    const double u = rng.uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;  // the cheap squeeze accepts most draws
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

double sample_chi_square(double dof, PhiloxStream& rng) { return 2.0 * sample_gamma(0.5 * dof, rng); }

namespace {

// Lower Cholesky factor of a symmetric positive definite k×k matrix, returned row-major (zeros
// above the diagonal). LAPACK reads the row-major array as its transpose, the same matrix.
std::vector<double> cholesky_lower(std::vector<double> a, int k, const char* what) {
  int info = 0;
  dpotrf_("L", &k, a.data(), &k, &info, 1);
  CUREC_CHECK(info == 0, what, ": the ", k, "x", k, " matrix is not positive definite (LAPACK dpotrf info ", info,
              ")");
  std::vector<double> l(a.size(), 0.0);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j <= i; ++j) l[i * k + j] = a[i + j * k];  // column-major lower -> row-major lower
  return l;
}

// The Normal–Wishart conditional of one side's (μ, Λ) given its factors F [n, k].
struct Hyper {
  std::vector<float> mu, lambda;  // [k], [k, k]
};

Hyper sample_hyper(const float* F, int64_t n, int k, double beta0, PhiloxStream& rng) {
  std::vector<double> mean(k, 0.0), scatter(static_cast<size_t>(k) * k, 0.0);
  for (int64_t r = 0; r < n; ++r)
    for (int a = 0; a < k; ++a) mean[a] += F[r * k + a];
  for (int a = 0; a < k; ++a) mean[a] /= static_cast<double>(n);
  for (int64_t r = 0; r < n; ++r)
    for (int a = 0; a < k; ++a) {
      const double da = F[r * k + a] - mean[a];
      for (int b = 0; b <= a; ++b) scatter[a * k + b] += da * (F[r * k + b] - mean[b]);
    }
  // W*⁻¹ = W0⁻¹ + N S̄ + β0 N / (β0 + N) (μ0 − ū)(μ0 − ū)ᵀ with W0 = I, μ0 = 0 (lower triangle).
  const double N = static_cast<double>(n), shrink = beta0 * N / (beta0 + N);
  std::vector<double> w(static_cast<size_t>(k) * k);
  for (int a = 0; a < k; ++a)
    for (int b = 0; b <= a; ++b) {
      const double v = scatter[a * k + b] + shrink * mean[a] * mean[b] + (a == b ? 1.0 : 0.0);
      w[a * k + b] = w[b * k + a] = v;
    }
  int info = 0;
  dpotrf_("L", &k, w.data(), &k, &info, 1);
  CUREC_CHECK(info == 0, "bpmf: the Normal-Wishart posterior scale is not positive definite (dpotrf info ",
              info, "); the factors are not finite");
  dpotri_("L", &k, w.data(), &k, &info, 1);
  CUREC_CHECK(info == 0, "bpmf: inverting the Normal-Wishart posterior scale failed (dpotri info ", info, ")");
  for (int j = 0; j < k; ++j)
    for (int i = j + 1; i < k; ++i) w[j + i * k] = w[i + j * k];  // dpotri fills one triangle
  const std::vector<double> lambda = sample_wishart(w, k, k + N, rng);

  // μ ~ N(μ*, (β* Λ)⁻¹) with μ* = N ū / (β0 + N): μ* + L⁻ᵀ z for β* Λ = L Lᵀ.
  const double beta_star = beta0 + N;
  std::vector<double> prec(lambda.size());
  for (size_t j = 0; j < prec.size(); ++j) prec[j] = beta_star * lambda[j];
  dpotrf_("L", &k, prec.data(), &k, &info, 1);
  CUREC_CHECK(info == 0, "bpmf: the sampled precision is not positive definite (dpotrf info ", info, ")");
  std::vector<double> x(k);
  for (int a = 0; a < k; ++a) x[a] = rng.normal();
  const int one = 1;
  dtrtrs_("L", "T", "N", &k, &one, prec.data(), &k, x.data(), &k, &info, 1, 1, 1);
  Hyper h{std::vector<float>(k), std::vector<float>(lambda.begin(), lambda.end())};
  for (int a = 0; a < k; ++a) h.mu[a] = static_cast<float>(N * mean[a] / (beta0 + N) + x[a]);
  return h;
}

// Every row's factors from its Gaussian conditional given the other side `fixed` [cols, k].
void sample_rows(const ALSRows& rows, const Tensor& fixed, const Tensor& zero_bias, float mean, const Hyper& h,
                 float alpha, uint64_t seed, uint64_t stream_base, Tensor& out) {
  const int k = static_cast<int>(fixed.size(1)), d = k + 1, one = 1;
  // FLT_MIN vanishes against any sum of squares, so A's K×K block is Σ q qᵀ and b's head Σ (r − μ) q.
  const NormalEquations ne = als_normal_equations(rows, fixed, zero_bias, mean, FLT_MIN, false);
  const float* A = ne.A.data<float>();
  const float* b = ne.b.data<float>();
  std::vector<float> prior_shift(k, 0.0f);  // Λ μ
  for (int a = 0; a < k; ++a)
    for (int e = 0; e < k; ++e) prior_shift[a] += h.lambda[a * k + e] * h.mu[e];
  std::vector<float> prec(static_cast<size_t>(k) * k), x(k);
  float* f = out.data<float>();
  for (int64_t r = 0; r < rows.rows; ++r) {
    const float* Ar = A + r * d * d;
    for (int a = 0; a < k; ++a) {
      for (int e = 0; e < k; ++e) prec[a * k + e] = h.lambda[a * k + e] + alpha * Ar[a * d + e];
      x[a] = prior_shift[a] + alpha * b[r * d + a];
    }
    int info = 0;
    spotrf_("L", &k, prec.data(), &k, &info, 1);
    CUREC_CHECK(info == 0, "bpmf: the conditional precision of row ", r,
                " is not positive definite (LAPACK spotrf info ", info, "); the factors or ratings are not finite");
    // p = P⁻¹ x + L⁻ᵀ z = L⁻ᵀ (L⁻¹ x + z) for P = L Lᵀ: one factorisation gives mean and noise.
    strtrs_("L", "N", "N", &k, &one, prec.data(), &k, x.data(), &k, &info, 1, 1, 1);
    PhiloxStream rng(seed, stream_base | static_cast<uint64_t>(r));
    for (int a = 0; a < k; ++a) x[a] += static_cast<float>(rng.normal());
    strtrs_("L", "T", "N", &k, &one, prec.data(), &k, x.data(), &k, &info, 1, 1, 1);
    std::copy(x.begin(), x.end(), f + r * k);
  }
}

// Philox stream ids: (sweep, role) in the high 32 bits, the row in the low 32.
enum Role : uint64_t { kInit = 0, kUserHyper = 1, kUserRows = 2, kItemHyper = 3, kItemRows = 4 };
uint64_t stream_id(int sweep, Role role) { return ((static_cast<uint64_t>(sweep) * 8 + role) << 32); }

double rmse(const std::vector<float>& pred, const data::Interactions& test) {
  double se = 0;
  for (size_t j = 0; j < test.size(); ++j) {
    const double e = static_cast<double>(pred[j]) - test.rating[j];
    se += e * e;
  }
  return std::sqrt(se / static_cast<double>(test.size()));
}

}  // namespace

std::vector<double> sample_wishart(const std::vector<double>& W, int k, double nu, PhiloxStream& rng) {
  CUREC_CHECK(k > 0 && W.size() == static_cast<size_t>(k) * k, "sample_wishart: W has ", W.size(),
              " entries but a ", k, "x", k, " matrix needs ", static_cast<size_t>(k) * k);
  CUREC_CHECK(nu > k - 1, "sample_wishart: nu must exceed k - 1 = ", k - 1, " (got ", nu, ")");
  const std::vector<double> L = cholesky_lower(W, k, "sample_wishart");
  std::vector<double> A(static_cast<size_t>(k) * k, 0.0);
  for (int i = 0; i < k; ++i) {
    A[i * k + i] = std::sqrt(sample_chi_square(nu - i, rng));
    for (int j = 0; j < i; ++j) A[i * k + j] = rng.normal();
  }
  std::vector<double> B(A.size(), 0.0);  // L A, lower triangular
  for (int i = 0; i < k; ++i)
    for (int j = 0; j <= i; ++j)
      for (int t = j; t <= i; ++t) B[i * k + j] += L[i * k + t] * A[t * k + j];
  std::vector<double> out(A.size(), 0.0);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j <= i; ++j) {
      double s = 0;
      for (int t = 0; t <= j; ++t) s += B[i * k + t] * B[j * k + t];
      out[i * k + j] = out[j * k + i] = s;
    }
  return out;
}

namespace {
// μ + p_u·q_i in double: a sample's prediction, summed over samples for the posterior mean.
double sample_value(const float* p, const float* q, int32_t u, int32_t i, int k, float mean) {
  double v = mean;
  for (int f = 0; f < k; ++f) v += static_cast<double>(p[static_cast<int64_t>(u) * k + f]) * q[static_cast<int64_t>(i) * k + f];
  return v;
}

Tensor matrix(const std::vector<float>& v, Shape shape) { return Tensor::from_vector(v, shape); }

std::vector<float> values_of(const nn::StateDict& state, const std::string& key, const Shape& shape) {
  auto it = state.find(key);
  CUREC_CHECK(it != state.end(), "BPMF state: the tensor '", key, "' is missing");
  CUREC_CHECK(it->second.shape() == shape && it->second.dtype() == DType::f32, "BPMF state: '", key,
              "' has shape ", shape_str(it->second.shape()), ", expected f32 ", shape_str(shape));
  return it->second.to(Device::cpu()).to_vector<float>();
}
}  // namespace

nn::StateDict BPMFState::state_dict() const {
  nn::StateDict out;
  out["factors/user"] = matrix(user_factors, {num_users, factors});
  out["factors/item"] = matrix(item_factors, {num_items, factors});
  if (kept() > 0) {
    out["samples/user"] = matrix(user_samples, {kept(), num_users, factors});
    out["samples/item"] = matrix(item_samples, {kept(), num_items, factors});
  }
  out["mean"] = Tensor::from_vector(std::vector<float>{mean});
  out["sweeps"] = Tensor::from_vector(std::vector<int64_t>{sweeps});
  return out;
}

BPMFState BPMFState::from_state_dict(const nn::StateDict& state) {
  BPMFState s;
  for (const char* key : {"factors/user", "factors/item", "mean", "sweeps"})
    CUREC_CHECK(state.count(key), "BPMF state: the tensor '", key, "' is missing");
  const Tensor& user = state.at("factors/user");
  CUREC_CHECK(user.dim() == 2 && state.at("factors/item").dim() == 2, "BPMF state: factors must be [rows, K]");
  s.num_users = user.size(0);
  s.factors = user.size(1);
  s.num_items = state.at("factors/item").size(0);
  s.user_factors = values_of(state, "factors/user", {s.num_users, s.factors});
  s.item_factors = values_of(state, "factors/item", {s.num_items, s.factors});
  s.mean = values_of(state, "mean", {1})[0];
  const Tensor& sweeps = state.at("sweeps");
  CUREC_CHECK(sweeps.dtype() == DType::i64 && sweeps.numel() == 1, "BPMF state: 'sweeps' must be one i64");
  s.sweeps = static_cast<int>(sweeps.to(Device::cpu()).to_vector<int64_t>()[0]);
  CUREC_CHECK(s.sweeps >= 0, "BPMF state: ", s.sweeps, " sweeps done");
  if (auto it = state.find("samples/user"); it != state.end()) {
    CUREC_CHECK(it->second.dim() == 3, "BPMF state: 'samples/user' must be [samples, users, K]");
    const int64_t kept = it->second.size(0);
    s.user_samples = values_of(state, "samples/user", {kept, s.num_users, s.factors});
    s.item_samples = values_of(state, "samples/item", {kept, s.num_items, s.factors});
  }
  for (float v : s.user_samples) CUREC_CHECK(std::isfinite(v), "BPMF state: a kept sample holds ", v);
  for (float v : s.item_samples) CUREC_CHECK(std::isfinite(v), "BPMF state: a kept sample holds ", v);
  return s;
}

Tensor bpmf_posterior_mean(const BPMFState& state, const Tensor& users, const Tensor& items, float clip_min,
                           float clip_max) {
  CUREC_CHECK(state.kept() > 0, "bpmf_posterior_mean: the state keeps no sample after burn-in");
  CUREC_CHECK(users.dtype() == DType::i32 && items.dtype() == DType::i32 && users.numel() == items.numel(),
              "bpmf_posterior_mean: users and items must be i32 [n] each");
  const std::vector<int32_t> u = users.to(Device::cpu()).to_vector<int32_t>();
  const std::vector<int32_t> i = items.to(Device::cpu()).to_vector<int32_t>();
  const int k = static_cast<int>(state.factors);
  const int64_t user_block = state.num_users * state.factors, item_block = state.num_items * state.factors;
  std::vector<float> out(u.size());
  for (size_t j = 0; j < u.size(); ++j) {
    CUREC_CHECK(u[j] >= 0 && u[j] < state.num_users && i[j] >= 0 && i[j] < state.num_items, "bpmf_posterior_mean: ",
                "pair (", u[j], ", ", i[j], ") is outside ", state.num_users, " users x ", state.num_items, " items");
    double sum = 0;
    for (int s = 0; s < state.kept(); ++s)
      sum += sample_value(state.user_samples.data() + s * user_block, state.item_samples.data() + s * item_block, u[j],
                          i[j], k, state.mean);
    out[j] = static_cast<float>(std::clamp<double>(sum / state.kept(), clip_min, clip_max));
  }
  return Tensor::from_vector(out, {static_cast<int64_t>(out.size())});
}

BPMFSampler::BPMFSampler(const data::Interactions& train, const data::Interactions& test, const BPMFConfig& cfg,
                         bool keep_samples)
    : cfg_(cfg), test_(test), keep_samples_(keep_samples) {
  CUREC_CHECK(cfg.factors > 0 && cfg.alpha > 0 && cfg.beta0 > 0 && cfg.init_std >= 0, "bpmf: need factors, "
              "alpha and beta0 > 0 and init_std >= 0 (got ", cfg.factors, ", ", cfg.alpha, ", ", cfg.beta0, ", ",
              cfg.init_std, ")");
  CUREC_CHECK(cfg.burn_in >= 0 && cfg.samples >= 1, "bpmf: need burn_in >= 0 and samples >= 1 (got ", cfg.burn_in,
              ", ", cfg.samples, ")");
  test.validate();
  CUREC_CHECK(test.num_users <= train.num_users && test.num_items <= train.num_items, "bpmf: the test set's ",
              test.num_users, " users x ", test.num_items, " items exceed the training set's ", train.num_users, " x ",
              train.num_items, "; split one data set so both share its id spaces");
  data_ = als_data(train);  // validates train, groups it both ways, and gives μ
  const int64_t nu = train.num_users, ni = train.num_items;
  P_ = Tensor::empty({nu, cfg.factors});
  Q_ = Tensor::empty({ni, cfg.factors});
  for (Tensor* t : {&P_, &Q_}) {
    PhiloxStream rng(cfg.seed, stream_id(0, kInit) | (t == &P_ ? 0u : 1u));
    float* f = t->data<float>();
    for (int64_t j = 0; j < t->numel(); ++j) f[j] = static_cast<float>(cfg.init_std * rng.normal());
  }
  state_.num_users = nu;
  state_.num_items = ni;
  state_.factors = cfg.factors;
  state_.mean = data_.mean;
  zero_user_bias_ = Tensor::zeros({nu});
  zero_item_bias_ = Tensor::zeros({ni});
  sum_.assign(test.size(), 0.0);
  sample_.assign(test.size(), 0.0f);
  posterior_.assign(test.size(), 0.0f);
}

void BPMFSampler::to(Device device) {
  CUREC_CHECK(device.is_cpu(), "bpmf samples on the CPU only (there is no CUDA path), not on ", device.str());
}

void BPMFSampler::restore(const BPMFState& st) {
  const int total = cfg_.burn_in + cfg_.samples;
  CUREC_CHECK(st.num_users == state_.num_users && st.num_items == state_.num_items && st.factors == cfg_.factors &&
                  st.mean == data_.mean,
              "bpmf: the state to continue from has ", st.num_users, " users x ", st.num_items, " items, ", st.factors,
              " factors and mean ", st.mean, "; this run has ", state_.num_users, " x ", state_.num_items, ", ",
              cfg_.factors, " and ", data_.mean, "; continue a run on the data and sizes that started it");
  CUREC_CHECK(st.sweeps < total, "bpmf: the state has done ", st.sweeps, " sweeps of the ", total,
              " asked for; ask for more to continue");
  CUREC_CHECK(st.kept() == std::max(0, st.sweeps - cfg_.burn_in), "bpmf: the state keeps ", st.kept(),
              " samples after ", st.sweeps, " sweeps, but burn-in ", cfg_.burn_in, " means ",
              std::max(0, st.sweeps - cfg_.burn_in), "; continue with the burn-in that started it");
  if (st.sweeps == 0) return;
  state_ = st;
  std::copy(st.user_factors.begin(), st.user_factors.end(), P_.data<float>());
  std::copy(st.item_factors.begin(), st.item_factors.end(), Q_.data<float>());
  // The kept samples' sums, replayed in the order they were added.
  const int k = static_cast<int>(cfg_.factors);
  const int64_t nu = st.num_users, ni = st.num_items;
  std::fill(sum_.begin(), sum_.end(), 0.0);
  averaged_ = 0;
  for (int s = 0; s < st.kept(); ++s, ++averaged_)
    for (size_t j = 0; j < test_.size(); ++j)
      sum_[j] += sample_value(st.user_samples.data() + s * nu * k, st.item_samples.data() + s * ni * k, test_.user[j],
                              test_.item[j], k, data_.mean);
}

double BPMFSampler::sweep(int s) {
  CUREC_CHECK(s == state_.sweeps + 1, "bpmf: sweep ", s, " asked for after ", state_.sweeps, " sweeps");
  const int k = static_cast<int>(cfg_.factors);
  const int64_t nu = state_.num_users, ni = state_.num_items;
  PhiloxStream user_rng(cfg_.seed, stream_id(s, kUserHyper));
  const Hyper hu = sample_hyper(P_.data<float>(), nu, k, cfg_.beta0, user_rng);
  sample_rows(data_.by_user, Q_, zero_item_bias_, data_.mean, hu, cfg_.alpha, cfg_.seed, stream_id(s, kUserRows), P_);
  PhiloxStream item_rng(cfg_.seed, stream_id(s, kItemHyper));
  const Hyper hi = sample_hyper(Q_.data<float>(), ni, k, cfg_.beta0, item_rng);
  sample_rows(data_.by_item, P_, zero_user_bias_, data_.mean, hi, cfg_.alpha, cfg_.seed, stream_id(s, kItemRows), Q_);

  const auto clip = [&](double v) { return static_cast<float>(std::clamp<double>(v, cfg_.clip_min, cfg_.clip_max)); };
  const float* p = P_.data<float>();
  const float* q = Q_.data<float>();
  const bool keep = s > cfg_.burn_in;
  if (keep) ++averaged_;
  for (size_t j = 0; j < test_.size(); ++j) {
    const double v = sample_value(p, q, test_.user[j], test_.item[j], k, data_.mean);
    sample_[j] = clip(v);
    if (keep) sum_[j] += v;
    posterior_[j] = keep ? clip(sum_[j] / averaged_) : sample_[j];
  }
  state_.sweeps = s;
  state_.user_factors.assign(p, p + nu * k);
  state_.item_factors.assign(q, q + ni * k);
  if (keep && keep_samples_) {
    state_.user_samples.insert(state_.user_samples.end(), p, p + nu * k);
    state_.item_samples.insert(state_.item_samples.end(), q, q + ni * k);
  }
  return sample_rmse();
}

double BPMFSampler::sample_rmse() const { return test_.empty() ? 0.0 : rmse(sample_, test_); }
double BPMFSampler::posterior_rmse() const { return test_.empty() ? 0.0 : rmse(posterior_, test_); }

std::map<std::string, double> BPMFSampler::test_metrics() {
  if (test_.empty()) return {};
  return {{"test_rmse", posterior_rmse()}};
}

void BPMFSampler::load_state_dict(const nn::StateDict& state) { restore(BPMFState::from_state_dict(state)); }

}  // namespace curec::models

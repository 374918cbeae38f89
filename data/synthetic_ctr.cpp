#include "data/synthetic_ctr.h"

#include <algorithm>
#include <cmath>

#include "core/checked.h"
#include "core/random_math.h"

namespace curec::data {

SyntheticCtr synthetic_ctr(const SyntheticCtrOptions& o) {
  int64_t F = static_cast<int64_t>(o.field_dims.size());
  CUREC_CHECK(F >= 2 && o.rows > 0 && o.latent_dim > 0, "synthetic_ctr: needs >= 2 fields, rows > 0 and latent_dim > 0"
              " (fields ", F, ", rows ", o.rows, ", latent_dim ", o.latent_dim, ")");
  SyntheticCtr s;
  s.bias = o.bias;
  s.latent_dim = o.latent_dim;
  int64_t total = 0;
  for (int64_t d : o.field_dims) {
    CUREC_CHECK(d > 0, "synthetic_ctr: every field needs at least one value, got dim ", d);
    s.data.offsets.push_back(total);
    s.data.field_dims.push_back(d);
    total = checked_add(total, d, "synthetic_ctr: sum of field_dims");
  }
  // Disjoint Philox counter ranges: weights, latent vectors, then per-row draws.
  const int64_t latent_total = checked_mul(total, o.latent_dim, "synthetic_ctr: features times latent_dim");
  checked_mul(o.rows, F, "synthetic_ctr: rows times fields");
  const uint64_t w_off = 0, v_off = static_cast<uint64_t>(total), row_off = v_off + latent_total;
  s.w.resize(total);
  for (int64_t i = 0; i < total; ++i) s.w[i] = random_math::normal(o.seed, w_off, i, 0.0f, o.linear_scale);
  // Var <v_a, v_b> = k sigma^4 per pair; F(F-1)/2 pairs sum to interaction_scale^2.
  double pairs = F * (F - 1) / 2.0;
  auto sigma = static_cast<float>(std::pow(o.interaction_scale * o.interaction_scale / (pairs * o.latent_dim), 0.25));
  s.v.resize(latent_total);
  for (int64_t i = 0; i < latent_total; ++i) s.v[i] = random_math::normal(o.seed, v_off, i, 0.0f, sigma);

  s.data.fields.resize(o.rows * F);
  s.data.labels.resize(o.rows);
  s.probability.resize(o.rows);
  std::vector<double> sum_v(o.latent_dim);
  for (int64_t r = 0; r < o.rows; ++r) {
    // F + 1 uniforms per row: one per field (skewed toward low indices, like real
    // categorical data) and one for the label.
    uint64_t off = row_off + static_cast<uint64_t>(r) * philox::uniform_counters(F + 1);
    double logit = o.bias, sq = 0;
    std::fill(sum_v.begin(), sum_v.end(), 0.0);
    for (int64_t f = 0; f < F; ++f) {
      float u = philox::uniform(o.seed, off, f);
      auto local = static_cast<int64_t>(u * u * o.field_dims[f]);
      int64_t x = s.data.offsets[f] + std::min(local, o.field_dims[f] - 1);
      s.data.fields[r * F + f] = static_cast<int32_t>(x);
      logit += s.w[x];
      for (int64_t k = 0; k < o.latent_dim; ++k) {
        double vk = s.v[x * o.latent_dim + k];
        sum_v[k] += vk;
        sq += vk * vk;
      }
    }
    // sum_{f<g} <v_f, v_g> = (|sum v|^2 - sum |v|^2) / 2, the FM identity.
    double pair = -sq;
    for (double t : sum_v) pair += t * t;
    logit += 0.5 * pair;
    double p = 1.0 / (1.0 + std::exp(-logit));
    s.probability[r] = static_cast<float>(p);
    s.data.labels[r] = philox::uniform(o.seed, off, F) < p ? 1.0f : 0.0f;
  }
  return s;
}

}  // namespace curec::data

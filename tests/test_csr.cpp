#include <set>

#include "data/csr.h"
#include "data/densify.h"
#include "data/movielens.h"
#include "data/synthetic_ratings.h"
#include "tests/testing.h"

using namespace curec;
using namespace curec::data;

namespace {
SyntheticRatingsConfig small_config() {
  SyntheticRatingsConfig c;
  c.num_users = 37;
  c.num_items = 53;
  c.rank = 3;
  c.density = 0.2;
  c.seed = 9;
  return c;
}

// Reference: every row of the interactions written into a dense users x items array.
std::vector<float> dense_reference(const Interactions& d) {
  std::vector<float> m(static_cast<size_t>(d.num_users) * d.num_items, 0.0f);
  for (size_t r = 0; r < d.size(); ++r) m[static_cast<size_t>(d.user[r]) * d.num_items + d.item[r]] = d.rating[r];
  return m;
}
}  // namespace

TEST_CASE("CSR by user and by item hold exactly the interaction pairs") {
  Interactions d = synthetic_ratings(small_config());
  Csr by_user = csr_by_user(d), by_item = csr_by_item(d);
  CHECK(by_user.nnz() == static_cast<int64_t>(d.size()));
  CHECK(by_item.nnz() == static_cast<int64_t>(d.size()));
  CHECK(by_user.rows == 37);
  CHECK(by_item.rows == 53);
  std::set<std::pair<int32_t, int32_t>> pairs;
  for (size_t r = 0; r < d.size(); ++r) pairs.insert({d.user[r], d.item[r]});
  int mismatches = 0;
  for (int32_t u = 0; u < d.num_users; ++u)
    for (int32_t i = 0; i < d.num_items; ++i) {
      const bool in = pairs.count({u, i}) > 0;
      if (by_user.contains(u, i) != in || by_item.contains(i, u) != in) ++mismatches;
    }
  CHECK(mismatches == 0);
  CHECK_FALSE(by_user.contains(-1, 0));
  CHECK_FALSE(by_user.contains(37, 0));
  for (size_t r = 0; r < d.size(); r += 7) {
    CHECK(by_user.value(d.user[r], d.item[r]) == d.rating[r]);
    CHECK(by_item.value(d.item[r], d.user[r]) == d.rating[r]);
  }
  for (int64_t u = 0; u < by_user.rows; ++u)
    for (int64_t k = by_user.row_ptr[u] + 1; k < by_user.row_ptr[u + 1]; ++k) CHECK(by_user.col[k - 1] < by_user.col[k]);
}

TEST_CASE("CSR rejects a repeated (user, item) pair") {
  Interactions d = synthetic_ratings(small_config());
  d.push_back(d.user[0], d.item[0], 3.0f, 0);
  CHECK_THROWS_WITH_AS(csr_by_user(d), doctest::Contains("occur twice"), Error);
}

TEST_CASE("dense matrices and densify_rows match a dense reference") {
  Interactions d = synthetic_ratings(small_config());
  std::vector<float> ref = dense_reference(d);
  CHECK(dense_user_item(d).to_vector<float>() == ref);
  std::vector<float> item_user = dense_item_user(d).to_vector<float>();
  int bad = 0;
  for (int32_t u = 0; u < d.num_users; ++u)
    for (int32_t i = 0; i < d.num_items; ++i)
      if (item_user[static_cast<size_t>(i) * d.num_users + u] != ref[static_cast<size_t>(u) * d.num_items + i]) ++bad;
  CHECK(bad == 0);

  CsrTensors m = to_tensors(csr_by_user(d));
  std::vector<int64_t> rows = {5, 0, 36, 5, 17};
  Tensor out = densify_rows(m, Tensor::from_vector(rows));
  CHECK(out.shape() == Shape{5, 53});
  std::vector<float> got = out.to_vector<float>();
  for (size_t k = 0; k < rows.size(); ++k)
    for (int32_t i = 0; i < d.num_items; ++i)
      if (got[k * 53 + i] != ref[static_cast<size_t>(rows[k]) * 53 + i]) ++bad;
  CHECK(bad == 0);
  CHECK_THROWS_WITH_AS(densify_rows(m, Tensor::from_vector<int64_t>({37})), doctest::Contains("outside [0, 37)"),
                       Error);
  CHECK(densify_rows(m, Tensor::from_vector<int64_t>({})).shape() == Shape{0, 53});
}

TEST_CASE("ML-100K: the dense item x user matrix holds every rating") {
  std::string path = testing::require_data("ml-100k/u.data");
  if (path.empty()) return;
  Interactions d = read_ml100k(path.substr(0, path.size() - 7));
  Tensor m = dense_item_user(d);
  CHECK(m.shape() == Shape{1682, 943});
  std::vector<float> v = m.to_vector<float>();
  int64_t nonzero = 0;
  double sum = 0, want = 0;
  for (float x : v) nonzero += x != 0.0f, sum += x;
  for (float r : d.rating) want += r;
  CHECK(nonzero == 100000);
  CHECK(sum == want);
}

TEST_CASE("synthetic ratings: seeded, in [1, 5], near the planted scores, at the chosen density") {
  SyntheticRatingsConfig c = small_config();
  Interactions a = synthetic_ratings(c), b = synthetic_ratings(c);
  CHECK(a.rating == b.rating);
  CHECK(a.item == b.item);
  c.seed = 10;
  CHECK(synthetic_ratings(c).item != a.item);
  c.seed = 9;
  const double cells = 37.0 * 53.0;
  CHECK(std::abs(a.size() / cells - 0.2) < 0.04);
  double worst = 0;
  bool in_range = true;
  for (size_t r = 0; r < a.size(); ++r) {
    in_range = in_range && a.rating[r] >= 1.0f && a.rating[r] <= 5.0f;
    const float planted = std::clamp(planted_score(c, a.user[r], a.item[r]), 1.0f, 5.0f);
    worst = std::max(worst, static_cast<double>(std::abs(a.rating[r] - planted)));
  }
  CHECK(in_range);
  CHECK(worst < 6 * c.noise);  // noise is N(0, 0.1^2), clipping only moves values toward the planted score
  a.validate();
  // The planted matrix really is low rank plus biases: scores vary across users and items.
  CHECK(planted_score(c, 0, 0) != planted_score(c, 1, 0));
}

TEST_SUITE("cuda") {
  TEST_CASE("densify_rows: CPU-vs-CUDA parity, and the dense matrix on the GPU") {
    SyntheticRatingsConfig c = small_config();
    c.num_users = 300;
    c.num_items = 1100;  // more columns than threads per block
    Interactions d = synthetic_ratings(c);
    Csr csr = csr_by_user(d);
    std::vector<int64_t> rows;
    for (int64_t k = 0; k < 700; ++k) rows.push_back((k * 37) % 300);
    Tensor cpu = densify_rows(to_tensors(csr), Tensor::from_vector(rows));
    Tensor gpu = densify_rows(to_tensors(csr, Device::cuda(0)), Tensor::from_vector(rows, {700}, Device::cuda(0)));
    CHECK(gpu.is_cuda());
    CHECK(gpu.to_vector<float>() == cpu.to_vector<float>());
    CHECK(dense_user_item(d, Device::cuda(0)).to_vector<float>() == dense_user_item(d).to_vector<float>());
    Tensor bad = densify_rows(to_tensors(csr, Device::cuda(0)), Tensor::from_vector<int64_t>({0, 300}, {2}, Device::cuda(0)));
    CHECK_THROWS_AS(synchronize(Device::cuda(0)), Error);
  }
}

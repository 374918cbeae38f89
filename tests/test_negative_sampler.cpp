#include <cmath>
#include <numeric>

#include "core/device.h"
#include "data/negative_sampler.h"
#include "tests/testing.h"

using namespace curec;
using namespace curec::data;

namespace {

constexpr int64_t kUsers = 943, kItems = 1682;  // MovieLens-100K's shape

// Users with 20..319 positives, plus user 0 with all but 100 items (the complement path) and
// user 1 with all but one item (item 7).
void ml100k_like(std::vector<int64_t>& users, std::vector<int64_t>& items) {
  for (int64_t u = 0; u < kUsers; ++u) {
    int64_t deg = u == 0 ? kItems - 100 : u == 1 ? kItems - 1 : 20 + (u * 37) % 300;
    for (int64_t j = 0; j < deg; ++j) {
      int64_t item = u == 1 ? (j < 7 ? j : j + 1) : (u * 13 + j * 31) % kItems;
      users.push_back(u);
      items.push_back(item);
    }
  }
}

NegativeSampler make(int64_t k, uint64_t seed, Device device = Device::cpu()) {
  std::vector<int64_t> users, items;
  ml100k_like(users, items);
  return NegativeSampler::from_pairs(users, items, kUsers, kItems, k, seed, device);
}

Tensor every_user(int64_t repeats) {
  std::vector<int64_t> u;
  for (int64_t r = 0; r < repeats; ++r)
    for (int64_t i = 0; i < kUsers; ++i) u.push_back(i);
  return Tensor::from_vector(u);
}

// Pearson chi-square of draws for one user against uniform over its complement.
double chi_square(const NegativeSampler& s, int64_t user, const std::vector<int64_t>& draws) {
  std::vector<int64_t> count(kItems, 0);
  for (int64_t d : draws) ++count[d];
  int64_t cells = 0;
  for (int64_t i = 0; i < kItems; ++i) cells += s.is_positive(user, i) ? 0 : 1;
  double expected = static_cast<double>(draws.size()) / cells, chi = 0;
  for (int64_t i = 0; i < kItems; ++i)
    if (!s.is_positive(user, i)) chi += (count[i] - expected) * (count[i] - expected) / expected;
  return chi;
}

// Chi-square with `dof` degrees of freedom stays below mean + 6 standard deviations
// (dof + 6 sqrt(2 dof)) with probability above 1 - 1e-6 for these sizes.
double chi_bound(int64_t dof) { return dof + 6.0 * std::sqrt(2.0 * dof); }

void check_uniform(const NegativeSampler& s, int64_t user, int64_t complement, Device device) {
  int64_t n = complement * 200;
  Tensor users = Tensor::from_vector(std::vector<int64_t>(n, user)).to(device);
  std::vector<int64_t> draws = s.sample(users, 3).to_vector<int64_t>();
  for (int64_t d : draws) REQUIRE(!s.is_positive(user, d));
  double chi = chi_square(s, user, draws);
  INFO("user ", user, " chi-square ", chi, " with ", complement - 1, " dof");
  CHECK(chi < chi_bound(complement - 1));
}

}  // namespace

TEST_CASE("negatives are never positives: every draw on ML-100K-sized data") {
  NegativeSampler s = make(4, 17);
  Tensor users = every_user(20);
  std::vector<int64_t> u = users.to_vector<int64_t>();
  for (uint64_t epoch : {0, 1}) {
    Tensor neg = s.sample(users, epoch);
    CHECK(neg.shape() == Shape{users.numel(), 4});
    std::vector<int64_t> v = neg.to_vector<int64_t>();
    for (size_t i = 0; i < v.size(); ++i) {
      int64_t user = u[i / 4];
      REQUIRE(v[i] >= 0);
      REQUIRE(v[i] < kItems);
      REQUIRE_FALSE(s.is_positive(user, v[i]));
      if (user == 1) REQUIRE(v[i] == 7);
    }
  }
}

TEST_CASE("negatives are uniform over the complement (chi-square)") {
  NegativeSampler s = make(1, 5);
  check_uniform(s, 0, 100, Device::cpu());                          // complement path
  check_uniform(s, 2, kItems - (20 + 2 * 37 % 300), Device::cpu());  // rejection path
}

TEST_CASE("negatives are a function of (seed, epoch, position)") {
  NegativeSampler a = make(3, 99), b = make(3, 99), c = make(3, 100);
  Tensor users = every_user(2);
  std::vector<int64_t> e0 = a.sample(users, 0).to_vector<int64_t>();
  CHECK(e0 == b.sample(users, 0).to_vector<int64_t>());
  CHECK(e0 != a.sample(users, 1).to_vector<int64_t>());
  CHECK(e0 != c.sample(users, 0).to_vector<int64_t>());
  // Batch by batch gives the epoch's draws.
  std::vector<int64_t> pieces = a.sample(users.rows(0, 500), 0, 0).to_vector<int64_t>();
  std::vector<int64_t> rest = a.sample(users.rows(500, users.numel() - 500), 0, 500).to_vector<int64_t>();
  pieces.insert(pieces.end(), rest.begin(), rest.end());
  CHECK(pieces == e0);
  // i32 users draw the same.
  std::vector<int64_t> u64 = users.to_vector<int64_t>();
  std::vector<int32_t> u32(u64.begin(), u64.end());
  CHECK(a.sample(Tensor::from_vector(u32), 0).to_vector<int64_t>() == e0);
}

TEST_CASE("from_csr: the positives of data/csr.h's csr_by_user") {
  Interactions d;
  d.num_users = 2;
  d.num_items = 5;
  for (auto [u, i] : std::vector<std::pair<int32_t, int32_t>>{{0, 3}, {0, 1}, {1, 0}, {1, 2}, {1, 4}, {1, 1}})
    d.push_back(u, i, 1.0f, 0);
  NegativeSampler s = NegativeSampler::from_csr(csr_by_user(d), 6, 1);
  CHECK(s.num_users() == 2);
  CHECK(s.num_items() == 5);
  std::vector<int64_t> v = s.sample(Tensor::from_vector<int64_t>({0, 1}), 0).to_vector<int64_t>();
  for (int j = 0; j < 6; ++j) {
    CHECK((v[j] == 0 || v[j] == 2 || v[j] == 4));
    CHECK(v[6 + j] == 3);
  }
}

TEST_CASE("bad inputs are clear errors") {
  // A user who has interacted with every item is named.
  std::vector<int64_t> users{0, 0, 1, 1, 1}, items{0, 2, 0, 1, 2};
  try {
    NegativeSampler::from_pairs(users, items, 2, 3, 1, 0);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("user 1") != std::string::npos);
  }
  NegativeSampler s = NegativeSampler::from_pairs({0, 1}, {1, 2}, 2, 3, 2, 0);
  CHECK_THROWS_AS(s.sample(Tensor::from_vector<int64_t>({0, 2}), 0), Error);
  CHECK_THROWS_AS(NegativeSampler({0, 2}, {2, 1}, 3, 1, 0), Error);  // unsorted
  CHECK_THROWS_AS(NegativeSampler({0, 1}, {5}, 3, 1, 0), Error);     // item out of range
  CHECK_THROWS_AS(NegativeSampler::from_pairs({0}, {3}, 1, 3, 1, 0), Error);
  // Duplicated pairs are fine, and the one free item is always drawn.
  NegativeSampler d = NegativeSampler::from_pairs({0, 0, 0, 0}, {0, 1, 1, 3}, 1, 4, 5, 0);
  CHECK(d.sample(Tensor::from_vector<int64_t>({0}), 0).to_vector<int64_t>() == std::vector<int64_t>(5, 2));
}

TEST_SUITE("cuda") {
  TEST_CASE("NegativeSampler: CUDA draws equal the CPU draws and are uniform") {
    Device gpu = Device::cuda(0);
    NegativeSampler cpu = make(4, 23), dev = make(4, 23, gpu);
    Tensor users = every_user(10);
    for (uint64_t epoch : {0, 5}) {
      Tensor g = dev.sample(users.to(gpu), epoch, 11);
      CHECK(g.is_cuda());
      CHECK(g.to_vector<int64_t>() == cpu.sample(users, epoch, 11).to_vector<int64_t>());
    }
    std::vector<int32_t> u32(users.numel());
    std::vector<int64_t> u64 = users.to_vector<int64_t>();
    std::copy(u64.begin(), u64.end(), u32.begin());
    CHECK(dev.sample(Tensor::from_vector(u32).to(gpu), 2).to_vector<int64_t>() ==
          cpu.sample(users, 2).to_vector<int64_t>());
    NegativeSampler one = make(1, 5, gpu);
    check_uniform(one, 0, 100, gpu);
    check_uniform(one, 2, kItems - (20 + 2 * 37 % 300), gpu);
  }

  TEST_CASE("NegativeSampler on CUDA flags an out-of-range user") {
    Device gpu = Device::cuda(0);
    NegativeSampler s = NegativeSampler::from_pairs({0, 1}, {1, 2}, 2, 3, 2, 0, gpu);
    Tensor out = s.sample(Tensor::from_vector<int64_t>({0, 5}).to(gpu), 0);
    CHECK_THROWS_AS(synchronize(gpu), Error);
  }
}

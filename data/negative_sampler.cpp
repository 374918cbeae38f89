#include "data/negative_sampler.h"

#include <algorithm>

#include "core/dispatch.h"
#include "core/parallel.h"
#include "data/negative_sampler_math.h"

namespace curec::data {

NegativeSampler::NegativeSampler(const std::vector<int64_t>& row_ptr, const std::vector<int32_t>& cols,
                                 int64_t num_items, int64_t k, uint64_t seed, Device device)
    : host_row_ptr_(row_ptr), host_cols_(cols), num_items_(num_items), k_(k), seed_(seed), device_(device) {
  CUREC_CHECK(!row_ptr.empty() && row_ptr.front() == 0 && row_ptr.back() == static_cast<int64_t>(cols.size()),
              "NegativeSampler: row_ptr must start at 0 and end at cols.size() = ", cols.size());
  CUREC_CHECK(num_items > 0 && num_items <= INT32_MAX, "NegativeSampler: num_items must be in [1, 2^31), got ",
              num_items);
  CUREC_CHECK(k > 0, "NegativeSampler: k (negatives per pair) must be positive, got ", k);
  for (int64_t u = 0; u + 1 < static_cast<int64_t>(row_ptr.size()); ++u) {
    int64_t b = row_ptr[u], e = row_ptr[u + 1];
    CUREC_CHECK(b <= e, "NegativeSampler: row_ptr decreases at user ", u);
    for (int64_t j = b; j < e; ++j) {
      CUREC_CHECK(cols[j] >= 0 && cols[j] < num_items, "NegativeSampler: user ", u, " has item ", cols[j],
                  " outside [0, ", num_items, ")");
      CUREC_CHECK(j == b || cols[j - 1] < cols[j], "NegativeSampler: user ", u,
                  "'s items must be sorted and distinct (", cols[j - 1], " then ", cols[j], ")");
    }
    CUREC_CHECK(e - b < num_items, "NegativeSampler: user ", u, " has interacted with all ", num_items,
                " items, so no negative exists; drop the user or add items");
  }
  int64_t users = static_cast<int64_t>(row_ptr.size());
  row_ptr_ = Tensor::from_vector(row_ptr, {users}).to(device);
  cols_ = Tensor::from_vector(cols, {static_cast<int64_t>(cols.size())}).to(device);
}

NegativeSampler NegativeSampler::from_csr(const Csr& by_user, int64_t k, uint64_t seed, Device device) {
  return NegativeSampler(by_user.row_ptr, by_user.col, by_user.cols, k, seed, device);
}

NegativeSampler NegativeSampler::from_pairs(const std::vector<int64_t>& users, const std::vector<int64_t>& items,
                                            int64_t num_users, int64_t num_items, int64_t k, uint64_t seed,
                                            Device device) {
  CUREC_CHECK(users.size() == items.size(), "NegativeSampler::from_pairs: ", users.size(), " users but ",
              items.size(), " items");
  std::vector<std::vector<int32_t>> lists(static_cast<size_t>(num_users));
  for (size_t i = 0; i < users.size(); ++i) {
    CUREC_CHECK(users[i] >= 0 && users[i] < num_users, "NegativeSampler::from_pairs: user ", users[i],
                " at pair ", i, " outside [0, ", num_users, ")");
    CUREC_CHECK(items[i] >= 0 && items[i] < num_items, "NegativeSampler::from_pairs: item ", items[i],
                " at pair ", i, " outside [0, ", num_items, ")");
    lists[users[i]].push_back(static_cast<int32_t>(items[i]));
  }
  std::vector<int64_t> row_ptr{0};
  std::vector<int32_t> cols;
  for (auto& l : lists) {
    std::sort(l.begin(), l.end());
    l.erase(std::unique(l.begin(), l.end()), l.end());
    cols.insert(cols.end(), l.begin(), l.end());
    row_ptr.push_back(static_cast<int64_t>(cols.size()));
  }
  return NegativeSampler(row_ptr, cols, num_items, k, seed, device);
}

bool NegativeSampler::is_positive(int64_t user, int64_t item) const {
  CUREC_CHECK(user >= 0 && user < num_users(), "NegativeSampler::is_positive: user ", user, " outside [0, ",
              num_users(), ")");
  int64_t b = host_row_ptr_[user];
  return negative_math::contains(host_cols_.data() + b, host_row_ptr_[user + 1] - b, item);
}

Tensor NegativeSampler::sample(const Tensor& users, uint64_t epoch, int64_t first) const {
  check_defined("NegativeSampler::sample", users, "users");
  CUREC_CHECK(users.dtype() == DType::i32 || users.dtype() == DType::i64,
              "NegativeSampler::sample: users must be i32 or i64, got ", users.str());
  CUREC_CHECK(users.device() == device_, "NegativeSampler::sample: users on ", users.device().str(),
              " but the sampler lives on ", device_.str());
  CUREC_CHECK(first >= 0, "NegativeSampler::sample: first must be >= 0, got ", first);
  const int64_t n = users.numel();
  Tensor out = Tensor::empty({n, k_}, DType::i64, device_);
  const bool u64 = users.dtype() == DType::i64;
  dispatch(
      "NegativeSampler::sample", device_, [&] { sample_cpu(users, epoch, first, out); },
      [&](int dev) {
        cuda::sample_negatives(row_ptr_.data<int64_t>(), cols_.data<int32_t>(), num_users(), num_items_,
                               users.raw_data(), u64, n, k_, seed_, epoch, first, out.data<int64_t>(), dev);
      });
  return out;
}

void NegativeSampler::sample_cpu(const Tensor& users, uint64_t epoch, int64_t first, Tensor& out) const {
  const int64_t n = users.numel();
  const bool u64 = users.dtype() == DType::i64;
  int64_t* po = out.data<int64_t>();
  const int64_t* pu64 = u64 ? users.data<int64_t>() : nullptr;
  const int32_t* pu32 = u64 ? nullptr : users.data<int32_t>();
  for (int64_t i = 0; i < n; ++i) {  // all first, so the first bad position is the one named
    int64_t u = u64 ? pu64[i] : pu32[i];
    CUREC_CHECK(u >= 0 && u < num_users(), "NegativeSampler::sample: user ", u, " at position ", i,
                " outside [0, ", num_users(), ")");
  }
  // Each draw is keyed by its own counter: any cut over the threads draws the same negatives.
  parallel_for(0, n, std::max<int64_t>(1, kCpuGrain / 16 / k_), [&](int64_t ib, int64_t ie) {
    for (int64_t i = ib; i < ie; ++i) {
      int64_t u = u64 ? pu64[i] : pu32[i];
      int64_t b = host_row_ptr_[u], deg = host_row_ptr_[u + 1] - b;
      for (int64_t j = 0; j < k_; ++j)
        po[i * k_ + j] = negative_math::draw(seed_, epoch, host_cols_.data() + b, deg, num_items_,
                                             static_cast<uint64_t>((first + i) * k_ + j));
    }
  });
}

}  // namespace curec::data

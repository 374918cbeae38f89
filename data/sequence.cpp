#include "data/sequence.h"

#include <algorithm>
#include <numeric>

#include "core/checked.h"

namespace curec::data {

int64_t window_count(const std::vector<int64_t>& items_per_user, int64_t L) {
  int64_t n = 0;
  for (int64_t c : items_per_user) n += std::max<int64_t>(c - L, 0);
  return n;
}

SequenceData make_sequences(const Interactions& train, int64_t L, int64_t pad_item) {
  train.validate();
  CUREC_CHECK(L > 0, "make_sequences: window length L must be positive, got ", L);
  int64_t num_users = train.num_users, num_items = train.num_items;
  if (pad_item < 0) pad_item = num_items;
  bool timed = train.timestamp.size() == train.size();
  std::vector<int64_t> order(train.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    if (train.user[a] != train.user[b]) return train.user[a] < train.user[b];
    return timed && train.timestamp[a] < train.timestamp[b];
  });
  std::vector<int64_t> begin(num_users + 1, 0);
  for (int32_t u : train.user) ++begin[u + 1];
  std::vector<int64_t> counts(begin.begin() + 1, begin.end());
  std::partial_sum(begin.begin(), begin.end(), begin.begin());

  int64_t n = window_count(counts, L);
  std::vector<int64_t> users(n), seqs(checked_mul(n, L, "make_sequences: windows times L")), targets(n),
      test(checked_mul(num_users, L, "make_sequences: users times L"), pad_item);
  std::vector<uint8_t> full(num_users, 0);
  int64_t row = 0;
  for (int64_t u = 0; u < num_users; ++u) {
    const int64_t* s = order.data() + begin[u];
    int64_t c = counts[u];
    for (int64_t t = L; t < c; ++t, ++row) {
      users[row] = u;
      for (int64_t j = 0; j < L; ++j) seqs[row * L + j] = train.item[s[t - L + j]];
      targets[row] = train.item[s[t]];
    }
    int64_t have = std::min(c, L);
    for (int64_t j = 0; j < have; ++j) test[u * L + (L - have) + j] = train.item[s[c - have + j]];
    full[u] = c >= L ? 1 : 0;
  }
  SequenceData d;
  d.L = L;
  d.num_users = num_users;
  d.num_items = num_items;
  d.users = Tensor::from_vector(users, {n});
  d.sequences = Tensor::from_vector(seqs, {n, L});
  d.targets = Tensor::from_vector(targets, {n});
  d.test_sequences = Tensor::from_vector(test, {num_users, L});
  d.has_full_history = Tensor::from_vector(full, {num_users});
  return d;
}

NegativeSampler sequence_negatives(const Interactions& train, int64_t k, uint64_t seed, Device device) {
  std::vector<int64_t> users(train.user.begin(), train.user.end()), items(train.item.begin(), train.item.end());
  return NegativeSampler::from_pairs(users, items, train.num_users, train.num_items, k, seed, device);
}

}  // namespace curec::data

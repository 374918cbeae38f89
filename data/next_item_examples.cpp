#include "data/next_item_examples.h"

#include <algorithm>

#include "core/error.h"

namespace curec::data {

void left_padded(std::span<const int32_t> items, int64_t maxlen, int64_t* out) {
  const int64_t n = std::min<int64_t>(maxlen, static_cast<int64_t>(items.size()));
  const int64_t pad = maxlen - n;
  std::fill(out, out + pad, int64_t{0});
  for (int64_t k = 0; k < n; ++k) out[pad + k] = items[items.size() - static_cast<size_t>(n - k)] + 1;
}

NextItemExamples next_item_examples(const UserSequences& train, int64_t maxlen, Device device) {
  CUREC_CHECK(maxlen >= 1, "next-item examples: maxlen must be at least 1, got ", maxlen);
  std::vector<int32_t> users;
  for (int32_t u = 0; u < train.num_users; ++u)
    if (train.length(u) >= 2) users.push_back(u);
  CUREC_CHECK(!users.empty(), "next-item examples: no user has two training items, so there is no next item to ",
              "learn (", train.num_users, " users, ", train.size(), " training interactions; users with fewer than 3 ",
              "interactions train only, and one item alone has no successor)");
  const int64_t n = static_cast<int64_t>(users.size());
  std::vector<int64_t> inputs(static_cast<size_t>(n * maxlen)), positives(inputs.size());
  std::vector<float> mask(inputs.size());
  int64_t positions = 0;
  for (int64_t e = 0; e < n; ++e) {
    std::span<const int32_t> s = train.of(users[e]);
    int64_t* in = inputs.data() + e * maxlen;
    int64_t* pos = positives.data() + e * maxlen;
    left_padded(s.first(s.size() - 1), maxlen, in);
    left_padded(s.subspan(1), maxlen, pos);
    for (int64_t t = 0; t < maxlen; ++t) mask[e * maxlen + t] = pos[t] != 0 ? 1.0f : 0.0f;
    positions += std::min<int64_t>(maxlen, static_cast<int64_t>(s.size()) - 1);
  }
  NextItemExamples x;
  x.maxlen = maxlen;
  x.num_items = train.num_items;
  x.users = Tensor::from_vector(users, {n}, device);
  x.inputs = Tensor::from_vector(inputs, {n, maxlen}, device);
  x.positives = Tensor::from_vector(positives, {n, maxlen}, device);
  x.mask = Tensor::from_vector(mask, {n, maxlen}, device);
  x.mean_positions = static_cast<double>(positions) / static_cast<double>(n);
  return x;
}

SequenceIdSets sequence_id_sets(int32_t num_users, const std::function<std::span<const int32_t>(int32_t)>& items_of) {
  SequenceIdSets s;
  std::vector<int32_t> row;
  for (int32_t u = 0; u < num_users; ++u) {
    row.assign(1, 0);
    for (int32_t i : items_of(u)) row.push_back(i + 1);
    std::sort(row.begin(), row.end());
    row.erase(std::unique(row.begin(), row.end()), row.end());
    s.cols.insert(s.cols.end(), row.begin(), row.end());
    s.row_ptr.push_back(static_cast<int64_t>(s.cols.size()));
  }
  return s;
}

NegativeSampler next_item_negatives(const UserSequences& train, int64_t maxlen, uint64_t seed, Device device) {
  SequenceIdSets sets = sequence_id_sets(train.num_users, [&](int32_t u) { return train.of(u); });
  return NegativeSampler(sets.row_ptr, sets.cols, static_cast<int64_t>(train.num_items) + 1, maxlen, seed, device);
}

}  // namespace curec::data

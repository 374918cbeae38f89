#include "data/split.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/philox.h"
#include "data/movielens.h"
#include "data/ratings_reader.h"

namespace curec::data {
namespace {

// Rows of each user, in file order: rows[start[u] .. start[u + 1]).
struct RowsByUser {
  std::vector<int64_t> start, rows;
};

RowsByUser rows_by_user(const Interactions& data) {
  RowsByUser g;
  g.start.assign(static_cast<size_t>(data.num_users) + 1, 0);
  for (int32_t u : data.user) {
    CUREC_CHECK(u >= 0 && u < data.num_users, "split: user ", u, " outside [0, ", data.num_users, ")");
    ++g.start[static_cast<size_t>(u) + 1];
  }
  std::partial_sum(g.start.begin(), g.start.end(), g.start.begin());
  g.rows.resize(data.size());
  std::vector<int64_t> next(g.start.begin(), g.start.end() - 1);
  for (size_t r = 0; r < data.size(); ++r) g.rows[next[data.user[r]]++] = static_cast<int64_t>(r);
  return g;
}

}  // namespace

Split split_random(const Interactions& data, double test_ratio, uint64_t seed) {
  CUREC_CHECK(test_ratio >= 0.0 && test_ratio <= 1.0, "split_random: test_ratio ", test_ratio,
              " outside [0, 1]");
  const float keep = static_cast<float>(1.0 - test_ratio);
  std::vector<int64_t> train, test;
  train.reserve(static_cast<size_t>(data.size() * keep) + 16);
  for (size_t i = 0; i < data.size(); ++i)
    (philox::uniform(seed, 0, i) < keep ? train : test).push_back(static_cast<int64_t>(i));
  return {data.subset(train), data.subset(test)};
}

Split split_seq_aware(const Interactions& data) {
  RowsByUser g = rows_by_user(data);
  std::vector<int64_t> train, test;
  train.reserve(data.size());
  for (int32_t u = 0; u < data.num_users; ++u) {
    auto begin = g.rows.begin() + g.start[u], end = g.rows.begin() + g.start[u + 1];
    if (begin == end) continue;
    // Rows are in file order, so a stable sort by timestamp orders by (timestamp, row).
    std::stable_sort(begin, end, [&](int64_t a, int64_t b) { return data.timestamp[a] < data.timestamp[b]; });
    train.insert(train.end(), begin, end - 1);
    test.push_back(*(end - 1));
  }
  return {data.subset(train), data.subset(test)};
}

Split split_leave_one_out(const Interactions& data, uint64_t seed) {
  RowsByUser g = rows_by_user(data);
  std::vector<uint8_t> held_out(data.size(), 0);
  std::vector<int64_t> train, test;
  for (int32_t u = 0; u < data.num_users; ++u) {
    const int64_t count = g.start[u + 1] - g.start[u];
    if (count == 0) continue;
    const int64_t row = g.rows[g.start[u] + static_cast<int64_t>(philox::below(seed, 0, u, count))];
    held_out[row] = 1;
    test.push_back(row);
  }
  train.reserve(data.size() - test.size());
  for (size_t r = 0; r < data.size(); ++r)
    if (!held_out[r]) train.push_back(static_cast<int64_t>(r));
  return {data.subset(train), data.subset(test)};
}

bool is_canonical_split(const std::string& name) {
  static const char* const kNames[] = {"u1", "u2", "u3", "u4", "u5", "ua", "ub"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

Split read_canonical_split(const std::string& dir, const std::string& name) {
  CUREC_CHECK(is_canonical_split(name),
              "read_canonical_split: unknown split '", name, "'; ML-100K has u1..u5, ua, ub");
  Interactions full = read_ml100k(dir);
  const std::string base = (dir.empty() || dir.back() == '/') ? dir : dir + "/";
  Split s;
  s.train = read_ratings(base + name + ".base", RatingsFormat::ml100k(), full.users, full.items);
  s.test = read_ratings(base + name + ".test", RatingsFormat::ml100k(), full.users, full.items);
  return s;
}

}  // namespace curec::data

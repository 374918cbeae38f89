#include "nn/sparse_rows.h"

#include <algorithm>
#include <bit>
#include <numeric>
#include <utility>

namespace curec::nn {
namespace {

// Positions 0..n-1 stably sorted by key (keys < 2^bits): an LSD radix sort of 11-bit digits,
// O(n) per digit where a comparison sort of indirect keys costs O(n log n) cache misses. Stable,
// so equal keys keep position order, exactly as std::stable_sort orders them.
void radix_order(const int64_t* keys, int64_t n, int bits, std::vector<int64_t>& order) {
  constexpr int kDigit = 11;
  constexpr size_t kBuckets = size_t{1} << kDigit;
  std::vector<uint32_t> key(static_cast<size_t>(n)), key_tmp(static_cast<size_t>(n));
  std::vector<int64_t> tmp(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) key[i] = static_cast<uint32_t>(keys[i]);
  std::iota(order.begin(), order.end(), int64_t{0});
  std::vector<int64_t> count(kBuckets);
  for (int shift = 0; shift < bits; shift += kDigit) {
    std::fill(count.begin(), count.end(), 0);
    for (int64_t i = 0; i < n; ++i) ++count[(key[i] >> shift) & (kBuckets - 1)];
    int64_t at = 0;
    for (int64_t& c : count) at += std::exchange(c, at);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t to = count[(key[i] >> shift) & (kBuckets - 1)]++;
      key_tmp[to] = key[i];
      tmp[to] = order[i];
    }
    key.swap(key_tmp);
    order.swap(tmp);
  }
}

}  // namespace

RowRuns group_rows(const int64_t* indices, int64_t n, int64_t table_rows, const char* op) {
  for (int64_t i = 0; i < n; ++i)
    CUREC_CHECK(indices[i] >= 0 && indices[i] < table_rows, op, ": row-sparse gradient names row ", indices[i],
                " at position ", i, ", outside a table of ", table_rows, " rows");
  RowRuns r;
  r.order.resize(static_cast<size_t>(n));
  const int bits = std::bit_width(static_cast<uint64_t>(std::max<int64_t>(table_rows - 1, 1)));
  if (bits <= 32 && n > 256) {
    radix_order(indices, n, bits, r.order);
  } else {
    std::iota(r.order.begin(), r.order.end(), int64_t{0});
    std::stable_sort(r.order.begin(), r.order.end(), [&](int64_t a, int64_t b) { return indices[a] < indices[b]; });
  }
  for (int64_t k = 0, last = -1; k < n; ++k) {
    const int64_t id = indices[r.order[k]];
    if (k == 0 || id != last) {
      r.starts.push_back(k);
      r.ids.push_back(id);
    }
    last = id;
  }
  r.starts.push_back(n);
  if (n == 0) r.starts.clear();
  return r;
}

}  // namespace curec::nn

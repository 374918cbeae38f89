#include "data/synthetic_sequences.h"

#include <algorithm>

#include "core/philox.h"

namespace curec::data {

namespace {

// Cycle c covers items [first(c), first(c + 1)).
int32_t cycle_first(const SyntheticSequenceOptions& o, int32_t c) {
  int32_t per = o.num_items / o.num_cycles;
  return c >= o.num_cycles ? o.num_items : c * per;
}

}  // namespace

int32_t synthetic_next_item(const SyntheticSequenceOptions& o, int32_t item) {
  int32_t per = o.num_items / o.num_cycles;
  int32_t c = std::min(item / per, o.num_cycles - 1);
  int32_t b = cycle_first(o, c), e = cycle_first(o, c + 1);
  return item + 1 < e ? item + 1 : b;
}

Interactions synthetic_sequences(const SyntheticSequenceOptions& o) {
  CUREC_CHECK(o.num_users > 0 && o.num_cycles > 0 && o.num_items >= 2 * o.num_cycles,
              "synthetic_sequences: needs users > 0, cycles > 0 and at least 2 items per cycle (users ",
              o.num_users, ", items ", o.num_items, ", cycles ", o.num_cycles, ")");
  CUREC_CHECK(o.min_length >= 1 && o.max_length >= o.min_length && o.max_length < (1 << 19), "synthetic_sequences: bad length range [",
              o.min_length, ", ", o.max_length, "]");
  CUREC_CHECK(o.noise >= 0.0f && o.noise <= 1.0f, "synthetic_sequences: noise must be in [0, 1], got ", o.noise);
  Interactions d;
  d.num_users = o.num_users;
  d.num_items = o.num_items;
  d.users = std::make_shared<const IdMap>(IdMap::one_based(o.num_users, "user"));
  d.items = std::make_shared<const IdMap>(IdMap::one_based(o.num_items, "item"));
  // Each user draws from its own counter block: 4 words per step, 2 for the user's setup.
  constexpr uint64_t kBlock = 1ull << 20;
  for (int32_t u = 0; u < o.num_users; ++u) {
    uint64_t base = static_cast<uint64_t>(u) * kBlock;
    int32_t c = u % o.num_cycles;
    int32_t b = cycle_first(o, c), e = cycle_first(o, c + 1);
    auto len = static_cast<int32_t>(o.min_length + philox::below(o.seed, base, 0, o.max_length - o.min_length + 1));
    auto cur = static_cast<int32_t>(b + philox::below(o.seed, base, 1, e - b));
    for (int32_t t = 0; t < len; ++t) {
      uint64_t off = base + 1 + static_cast<uint64_t>(t) * 2;
      int32_t item = cur;
      if (philox::uniform(o.seed, off, 0) < o.noise)
        item = static_cast<int32_t>(philox::below(o.seed, off, 2, o.num_items));
      d.push_back(u, item, 1.0f, t);
      cur = synthetic_next_item(o, cur);
    }
  }
  return d;
}

}  // namespace curec::data

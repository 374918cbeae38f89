#pragma once
// A hint to the cache for loops that gather rows at random places (embedding rows, a shuffled
// batch's examples, a sparse gradient's rows in id order): ask for a row some iterations before
// it is read, so the misses overlap instead of stalling one by one. No effect on results.
#include <cstddef>
#include <cstdint>

namespace curec {

// How many rows ahead a gathering loop asks for.
inline constexpr int64_t kPrefetchAhead = 8;

inline void prefetch_bytes(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p);
  for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(c + off);
}

}  // namespace curec

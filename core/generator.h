#pragma once
// Random state: a seed and a position in the Philox counter stream. Each draw reserves a
// range of counters, so a seed reproduces a run on either backend.
#include <cstdint>

namespace curec {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_offset(uint64_t o) { offset_ = o; }
  // Reserves `counters` counters; returns the first.
  uint64_t advance(uint64_t counters) {
    uint64_t o = offset_;
    offset_ += counters;
    return o;
  }

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

Generator& default_generator();
void manual_seed(uint64_t seed);  // resets the default generator

}  // namespace curec

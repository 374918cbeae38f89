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

// The generator that layers, initialisers, dropout and random fills draw from when given none.
// Each thread has its own, so ranks that run as threads build their models side by side without
// sharing (or racing on) one; each starts from the seed of the last manual_seed (0 before any),
// so every thread that builds a model from its default generator builds the same model.
Generator& default_generator();
// Seeds the calling thread's default generator (back to offset 0), and the default generators of
// threads that first draw after this call: `manual_seed(7)` then any model built without a
// generator argument is the same model on every run.
void manual_seed(uint64_t seed);

}  // namespace curec

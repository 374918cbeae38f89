#pragma once
// Negative items for implicit-feedback training (the book's PRDataset): for each (user,
// positive item) pair, k items drawn uniformly from those the user has NOT interacted with.
// Exact (never a positive) and a pure function of (seed, epoch, pair position), so CPU and
// CUDA agree and an epoch can be redrawn batch by batch in any order.
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "data/csr.h"

namespace curec::data {

class NegativeSampler {
 public:
  // Users' positives in CSR form (data/csr.h's csr_by_user of the training interactions).
  static NegativeSampler from_csr(const Csr& by_user, int64_t k, uint64_t seed, Device device = Device::cpu());
  // The same CSR as raw arrays: row u's items are cols[row_ptr[u], row_ptr[u+1]), sorted
  // and distinct, each in [0, num_items). A user who has interacted with every item has no
  // negative: an error naming the user. The lists are copied to `device`.
  NegativeSampler(const std::vector<int64_t>& row_ptr, const std::vector<int32_t>& cols, int64_t num_items,
                  int64_t k, uint64_t seed, Device device = Device::cpu());
  // The same from (user, item) pairs (duplicates allowed; users in [0, num_users)).
  static NegativeSampler from_pairs(const std::vector<int64_t>& users, const std::vector<int64_t>& items,
                                    int64_t num_users, int64_t num_items, int64_t k, uint64_t seed,
                                    Device device = Device::cpu());

  // i64 [n, k] negatives for users (i32/i64 [n], on this sampler's device); row i is pair
  // number first + i of the epoch. Users out of range: thrown on the CPU, device error flag
  // on CUDA.
  Tensor sample(const Tensor& users, uint64_t epoch, int64_t first = 0) const;

  bool is_positive(int64_t user, int64_t item) const;  // host lookup (for checks)
  int64_t num_users() const { return static_cast<int64_t>(host_row_ptr_.size()) - 1; }
  int64_t num_items() const { return num_items_; }
  int64_t k() const { return k_; }
  uint64_t seed() const { return seed_; }
  Device device() const { return device_; }

 private:
  // The CPU reference of sample(), from the host copies of the positives.
  void sample_cpu(const Tensor& users, uint64_t epoch, int64_t first, Tensor& out) const;

  std::vector<int64_t> host_row_ptr_;
  std::vector<int32_t> host_cols_;
  Tensor row_ptr_, cols_;  // on device_
  int64_t num_items_, k_;
  uint64_t seed_;
  Device device_;
};

namespace cuda {
void sample_negatives(const int64_t* row_ptr, const int32_t* cols, int64_t num_users, int64_t num_items,
                      const void* users, bool users64, int64_t n, int64_t k, uint64_t seed, uint64_t epoch,
                      int64_t first, int64_t* out, int device);
}  // namespace cuda

}  // namespace curec::data

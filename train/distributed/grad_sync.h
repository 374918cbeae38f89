#pragma once
// GradientSync: data-parallel gradient exchange over a Communicator, between backward and the
// optimizer step, so that N ranks take the step one rank takes on the whole global batch. Shaped
// like PyTorch DDP's Reducer: each gradient's kind (dense or row-sparse) and bucket are fixed when
// the parameters are registered, and every step runs the same one path.
//
//   dist::GradientSync sync(model, comm);                     // same model on every rank
//   sync.broadcast_parameters();                              // rank 0's initial values
//   for each global batch (split into shards, one per rank):
//     w = this rank's examples / the global batch's (train::shard_of gives the shard);
//     loss = mean loss of this rank's shard;
//     loss.backward(Tensor(), sync.begin(w));                 // (an empty shard: skip, weight 0)
//     sync.sync(w);
//     optimizer.step(); optimizer.zero_grad();
//
// Semantics: sum over ranks of weight * (gradient of the rank's MEAN shard loss) is the gradient
// of the global batch's mean loss, exactly, uneven shards included. Each rank computes its weight
// from the sharding (nothing is exchanged for it); a rank of weight 0 counts for nothing, whatever
// gradient it holds. After sync() every rank holds that gradient:
//   - dense: scaled by the weight into fixed buckets (a small first one, default 1 MiB, then
//     25 MiB, in reverse parameter order, as backward produces them), summed, and handed back as
//     views into the bucket;
//   - row-sparse (i64 indices [n] + rows [n, ...]: an nn::Embedding with sparse_grad): gathered
//     (SparseExchange::gather: every rank's indices and weighted rows in rank order; the optimizer
//     sums duplicates) or densified (SparseExchange::dense: the table and a touch count per row
//     ride in a bucket; the parameter gets exactly the rows some rank touched, so a lazy optimizer
//     updates the rows one rank would);
//   - a parameter without a gradient on some rank takes part as zeros; on every rank, it keeps
//     none (as on one rank). A flag per dense parameter rides in the last bucket; the host reads
//     the flags (a wait for the device on NCCL) only in a step where this rank lacks some gradient.
//
// Overlap (options.overlap, the default): the observer begin() returns copies each weighted
// gradient into its bucket as backward completes it (core/autograd.h) and starts every full
// bucket, in order, while backward goes on. sync() fills what backward did not reach (as zeros),
// starts the rest and exchanges the row-sparse gradients; without begin() it does it all.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "nn/module.h"
#include "train/distributed/communicator.h"

namespace curec::dist {

enum class SparseExchange {
  gather,  // all-gather indices and weighted rows
  dense,   // densify (with touch counts) and all-reduce in a bucket
};

struct GradSyncOptions {
  size_t first_bucket_bytes = size_t{1} << 20;
  size_t bucket_bytes = size_t{25} << 20;
  SparseExchange sparse = SparseExchange::gather;
  bool overlap = true;  // begin() returns the observer that starts buckets during backward
  // With one rank there is nothing to exchange, and sync() only applies the weight; this runs
  // the whole exchange anyway (buckets, gathers, densifying), to test it on one GPU.
  bool exchange_alone = false;
};

// What one sync() exchanged, in the units nccl-tests uses for each collective's size.
struct SyncStats {
  int64_t allreduce_bytes = 0;  // buffer bytes all-reduced (buckets: gradients, touch counts, flags)
  int64_t allgather_bytes = 0;  // bytes of the all-gathered results (sparse indices and rows, all ranks)
  int64_t meta_bytes = 0;       // the gathered sparse gradients' row counts (all ranks)
  int buckets = 0;
  int overlapped = 0;           // buckets started during backward (begin()'s observer)
  // Times the host read an exchanged buffer (flags, touch counts; a wait for the device on NCCL,
  // counted on the CPU backends too), plus row counts that went through the device
  // (Communicator::host_gather_waits()).
  int host_waits = 0;
  int64_t bytes() const { return allreduce_bytes + allgather_bytes + meta_bytes; }
};

// One parameter as the exchange sees it. f32, on the communicator's device; a tensor converts
// (dense, unnamed: "#i" by position).
struct SyncedParameter {
  SyncedParameter(Tensor t, bool row_sparse = false, std::string n = {})
      : tensor(std::move(t)), sparse_grad(row_sparse), name(std::move(n)) {}
  Tensor tensor;
  bool sparse_grad;  // backward gives it a row-sparse gradient (an embedding with sparse_grad)
  std::string name;
};

class GradientSync {
 public:
  GradientSync(std::vector<SyncedParameter> params, Communicator& comm, GradSyncOptions options = {});
  // The model's named parameters; the weight of an nn::Embedding with sparse_grad is row-sparse.
  GradientSync(const nn::Module& model, Communicator& comm, GradSyncOptions options = {});

  // Checks that every rank registered the same parameters (count, names, kinds, dtypes, shapes);
  // on a difference every rank throws, naming the first one. Collective.
  void check_parameters();
  // check_parameters(), then every parameter = rank 0's. Collective.
  void broadcast_parameters();
  // Before backward, with the weight sync() will be given: the observer for backward (see
  // Tensor::backward) that starts full buckets while backward goes on, or {} (overlap off, one
  // rank). Collective through the callback and sync(): every rank calls both, or neither.
  BackwardObserver begin(double weight);
  // After backward, before the optimizer step: every rank ends with sum over ranks of
  // weight_r * grad_r (see the header). Collective.
  void sync(double weight);

  // local_examples / global_examples, checked (0 <= local <= global, global > 0).
  static double shard_weight(int64_t local_examples, int64_t global_examples);

  const SyncStats& last_stats() const { return last_; }
  // bytes() per sync since construction; 0 before the first.
  double bytes_per_sync() const { return syncs_ ? static_cast<double>(total_bytes_) / static_cast<double>(syncs_) : 0; }

 private:
  // Where a parameter rides, in elements of its bucket: its gradient at offset, then (densified)
  // its per-row touch counts at touches, or (dense) its flag at flags_at_ + flag in the last bucket.
  struct Slot {
    int bucket = -1;  // -1: gathered
    int64_t offset = 0, touches = -1, flag = -1;
  };
  struct Bucket {
    int64_t elems = 0;
    std::vector<size_t> params;
    Tensor flat;  // kept from step to step: the gradients handed back are views into it
  };

  std::string name(size_t k) const;
  // Its gradient is of the kind registered (dense or row-sparse).
  void check_kind(size_t k) const;
  void pack(const std::vector<size_t>& order);
  void start_step(double weight, bool in_backward);
  void ready(size_t k);
  void fill(size_t k);
  void start_full_buckets();
  void unpack();
  void gather_sparse();

  std::vector<SyncedParameter> params_;
  Communicator& comm_;
  GradSyncOptions options_;
  SyncStats last_;
  int64_t total_bytes_ = 0, syncs_ = 0;
  std::vector<Bucket> buckets_;
  std::vector<Slot> slot_;          // per parameter
  int64_t flags_at_ = 0, flags_ = 0; // where the flags start in the last bucket, and how many
  bool densified_ = false;          // some row-sparse parameter rides in a bucket
  std::vector<size_t> gathered_;    // row-sparse parameters exchanged by all-gather
  // The step in progress, from begin() (or sync()) to sync().
  bool active_ = false, in_backward_ = false, ignore_local_ = false, all_local_ = true;
  double weight_ = 0;
  std::vector<char> done_;          // per parameter
  std::vector<size_t> filled_;      // parameters filled, per bucket
  size_t started_ = 0;              // buckets started so far, in order
};

}  // namespace curec::dist

#pragma once
// GradientSync: data-parallel gradient exchange over a Communicator, between backward and the
// optimizer step, so that N ranks take the step one rank takes on the whole global batch.
//
//   dist::GradientSync sync(model.named_parameters(), comm);   // same list on every rank
//   sync.broadcast_parameters();                               // rank 0's initial values
//   for each global batch (split into shards, one per rank):
//     w = dist::GradientSync::shard_weight(shard_size, global_batch_size);
//     loss = mean loss of this rank's shard;
//     loss.backward(Tensor(), sync.begin(w));                  // (an empty shard: skip, weight 0)
//     sync.sync(w);
//     optimizer.step(); optimizer.zero_grad();
//
// Semantics. Each rank's gradient is that of the MEAN loss over its own shard; `weight` is
// local examples / global examples, so that sum over ranks of weight * grad is the gradient of
// the global batch's mean loss, exactly, with uneven shards too (an empty shard has weight 0,
// and whatever gradient a rank of weight 0 holds is ignored).
// After sync() every rank holds that same gradient:
//   - dense gradients are scaled by the weight, flattened into buckets (a small first bucket,
//     default 1 MiB, then 25 MiB, filled in reverse parameter order as backward produces them),
//     all-reduced (sum) and handed back as views into the bucket;
//   - row-sparse gradients (indices i64 [n] + rows [n, ...], as an Embedding with sparse_grad
//     gives) are exchanged by an all-gather of indices and weighted rows when that moves fewer
//     bytes than the dense all-reduce would (ring traffic: gathered bytes < 2 x dense bytes), and
//     the parameter gets the concatenation in rank order (the optimizer sums duplicates, in
//     order). Otherwise they are densified (with a count of touches per row), all-reduced and
//     turned back into a row-sparse gradient of exactly the rows some rank touched, so a lazy
//     optimizer updates the same rows as one rank would;
//   - a parameter with no gradient on some rank still takes part (as zeros), so ranks never
//     deadlock or disagree; a parameter with no gradient on any rank keeps none (the optimizer
//     skips it on every rank, as one rank would).
// The ranks first all-gather, per parameter, what kind of gradient each has (none, dense, or
// the row count of a sparse one) and their weights, which must add up to 1.
//
// Overlap with backward (options.overlap, the default). The first sync() runs as above and
// fixes a plan, the same on every rank: the parameters that had a dense gradient, in buckets.
// From then on begin(weight), called before backward, returns the observer backward tells of
// each parameter as its gradient completes (core/autograd.h): it copies the scaled gradient into its
// bucket, and starts the all-reduce of every bucket that is full, in bucket order (the same
// order on every rank), while backward goes on (on NCCL truly at the same time, on the
// communicator's stream; on the CPU backends in the middle of backward). sync() then starts
// what is left (parameters that backward did not reach count as zeros), waits, and exchanges the
// parameters outside the plan as above. Whether a planned parameter had a gradient on some rank,
// and every rank's weight, ride in the last bucket, so that no extra collective is needed and a
// parameter no rank gave a gradient still keeps none. The sums are the same, element for element,
// as without overlap. An overlapped step waits on the host only to read that tail: where this
// rank lacks some planned gradient (did another rank have it?), and every weight_check_every-th
// step, for the weight check; otherwise the flags are known (>= 1 where this rank has the
// gradient) and nothing waits, so the host runs ahead of the device into the next step.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "train/distributed/communicator.h"

namespace curec::dist {

enum class SparseExchange {
  automatic,  // all-gather when it moves fewer bytes, else densify and all-reduce
  gather,     // always all-gather indices and rows
  dense,      // always densify and all-reduce
};

struct GradSyncOptions {
  size_t first_bucket_bytes = size_t{1} << 20;
  size_t bucket_bytes = size_t{25} << 20;
  SparseExchange sparse = SparseExchange::automatic;
  bool check_weights = true;  // the ranks' weights must add up to 1 (within 1e-6)
  // On the overlapped path the weights ride in the last bucket, and checking them means a host
  // wait for it: they are checked every this many overlapped steps (and at the first step, which
  // checks them before the plan). 1 checks every step. The same steps on every rank.
  int weight_check_every = 64;
  bool overlap = true;        // start buckets during backward from the second sync on (begin())
  // With one rank there is nothing to exchange, and sync() only applies the weight; this runs
  // the whole exchange anyway (buckets, gathers, densifying), to test it on one GPU.
  bool exchange_alone = false;
};

// What one sync() exchanged, in the units nccl-tests uses for each collective's size.
struct SyncStats {
  int64_t allreduce_bytes = 0;  // buffer bytes all-reduced (dense buckets, densified tables and their counts)
  int64_t allgather_bytes = 0;  // bytes of the all-gathered results (sparse indices and rows, all ranks)
  int64_t meta_bytes = 0;       // the agreement on kinds and weights (all-gathered, all ranks)
  int collectives = 0;          // collective calls made
  int buckets = 0;
  int dense = 0;                // parameters all-reduced densely
  int sparse_gathered = 0;      // row-sparse parameters all-gathered
  int sparse_densified = 0;     // row-sparse parameters densified and all-reduced
  int skipped = 0;              // parameters with no gradient on any rank
  int overlapped = 0;           // buckets started during backward (begin()'s observer)
  int steps = 0;                // syncs (1 for one sync's stats)
  // Times the host read an exchanged buffer (the flags' tail, touch counts), each a wait for the
  // device on NCCL (counted on the CPU backends too, where it costs nothing), plus agreements
  // on kinds that went through the device (Communicator::host_gather_waits()).
  int host_waits = 0;
  int64_t bytes() const { return allreduce_bytes + allgather_bytes + meta_bytes; }
  SyncStats& operator+=(const SyncStats& o);
};

class GradientSync {
 public:
  // Parameters as nn::Module::parameters() gives them, or named (named_parameters()): the names
  // make a mismatch between ranks easier to find. Every parameter must be f32 on comm.device().
  GradientSync(std::vector<Tensor> params, Communicator& comm, GradSyncOptions options = {});
  GradientSync(const std::vector<std::pair<std::string, Tensor>>& named, Communicator& comm,
               GradSyncOptions options = {});

  // Checks that every rank has the same parameter list (count, names, dtypes, shapes); on a
  // difference every rank throws, naming the first one. Collective.
  void check_parameters();
  // check_parameters(), then every parameter = rank 0's. Collective.
  void broadcast_parameters();
  // Before backward, with the weight sync() will be given: the observer for backward (see
  // Tensor::backward) that starts full buckets while backward goes on, or {} when there is no
  // plan yet (the first step), overlap is off, or there is one rank. Collective through the
  // callback and sync(): every rank calls both, or neither.
  BackwardObserver begin(double weight);
  // After backward, before the optimizer step: every rank ends with sum over ranks of
  // weight_r * grad_r (see the header). Collective.
  void sync(double weight);

  // local_examples / global_examples, checked (0 <= local <= global, global > 0).
  static double shard_weight(int64_t local_examples, int64_t global_examples);

  const SyncStats& last_stats() const { return last_; }
  const SyncStats& total_stats() const { return total_; }  // since construction
  Communicator& communicator() { return comm_; }
  const std::vector<Tensor>& parameters() const { return params_; }

 private:
  struct Segment {
    size_t param;
    int64_t offset;       // in the bucket, elements
    int64_t numel;        // the gradient's elements
    int64_t mask_offset;  // densified sparse: where its per-row touch counts start; -1 otherwise
  };
  struct Bucket {
    int64_t elems = 0;
    std::vector<Segment> segments;
  };
  // Fills buckets in order, the first of first_bucket_bytes, then bucket_bytes each; a segment
  // that would overflow a bucket already holding one starts the next.
  class Packer {
   public:
    explicit Packer(const GradSyncOptions& o) : cap_(o.first_bucket_bytes), next_cap_(o.bucket_bytes) {}
    // Places seg, `elems` elements long (its gradient, then its touch counts where
    // seg.mask_offset >= 0, which becomes their place); returns {bucket, segment} indices.
    std::pair<size_t, size_t> add(Segment seg, int64_t elems);
    std::vector<Bucket> finish();

   private:
    void close();
    std::vector<Bucket> buckets_;
    Bucket current_;
    size_t cap_, next_cap_;
  };
  // The overlap plan: dense parameters in buckets; the last bucket ends with one flag per
  // planned parameter (1 where the rank had its gradient) and the rank's weight.
  struct Plan {
    std::vector<Bucket> buckets;
    std::vector<int> bucket_of;   // per parameter: its bucket, -1 outside the plan
    std::vector<size_t> segment_of;
    std::vector<size_t> planned;  // parameters in the plan, in the flags' order
    std::vector<size_t> flag_of;  // per parameter: its flag's place among planned
    int64_t flags_at = 0;         // in the last bucket
  };
  // One overlapped step, from begin() to sync().
  struct Step {
    bool active = false;
    double weight = 0;
    std::vector<Tensor> flats;
    std::vector<size_t> filled;   // segments copied in, per bucket
    std::vector<char> done;       // per parameter
    size_t started = 0;           // buckets started so far (in order)
    bool in_backward = false;
    int overlapped = 0;           // of those, started from backward's callback
    bool all_local = true;        // this rank gave every planned parameter's gradient
  };

  std::string name(size_t i) const;
  std::vector<std::vector<int64_t>> exchange_kinds(double weight);
  void reduce_buckets(const std::vector<Bucket>& buckets, float weight);
  void gather_sparse(size_t i, const std::vector<int64_t>& counts, float weight);
  void solo(double weight);
  void make_plan(const std::vector<std::vector<int64_t>>& kinds);
  void fill_planned(size_t k);
  void start_full_buckets();
  void planned_ready(size_t k);
  void finish_overlapped(double weight);
  void sync_unplanned(double weight);

  std::vector<Tensor> params_;
  std::vector<std::string> names_;
  Communicator& comm_;
  GradSyncOptions options_;
  SyncStats last_, total_;
  bool ignore_local_ = false;
  std::vector<char> in_plan_;  // per parameter
  bool planned_ = false;
  int64_t overlapped_steps_ = 0;  // overlapped syncs since the plan (the weight check's clock)
  Plan plan_;
  Step step_;
};

}  // namespace curec::dist

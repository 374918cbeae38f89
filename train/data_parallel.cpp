#include "train/data_parallel.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace curec::train {

namespace {
// Doubles travel through the collectives as their bits (i64), so they arrive exactly.
std::vector<int64_t> bits_of(const std::vector<double>& v) {
  std::vector<int64_t> bits(v.size());
  std::memcpy(bits.data(), v.data(), v.size() * sizeof(double));
  return bits;
}
std::vector<double> doubles_of(const std::vector<int64_t>& bits) {
  std::vector<double> v(bits.size());
  std::memcpy(v.data(), bits.data(), bits.size() * sizeof(double));
  return v;
}
}  // namespace

double DataParallel::exchange_bytes_per_step() const { return *sync ? (*sync)->bytes_per_sync() : 0; }

DataParallel data_parallel(dist::Communicator& comm, const TrainerHooks& base, int stop_poll_every,
                           dist::GradSyncOptions options) {
  DataParallel dp;
  dp.sharding = Sharding{comm.rank(), comm.world_size()};
  TrainerHooks& h = dp.hooks;
  h = base;
  auto sync = dp.sync;
  h.on_start = [sync, &comm, options, outer = base.on_start](nn::Module& model) {
    *sync = std::make_unique<dist::GradientSync>(model, comm, options);
    (*sync)->broadcast_parameters();
    if (outer) outer(model);
  };
  h.before_backward = [sync](const StepContext&, double share) { return (*sync)->begin(share); };
  h.after_backward = [sync](const StepContext&, double share) { (*sync)->sync(share); };
  // Every rank's (mean, count) as exact doubles over the host channel, summed in rank order: the
  // same loss on every rank, with no device wait on NCCL.
  h.combine_loss = [&comm](double mean, int64_t count) {
    const double sum = count > 0 ? mean * static_cast<double>(count) : 0.0;  // an empty shard's mean is NaN
    const std::vector<double> all = doubles_of(
        comm.all_gather_host(bits_of({sum, static_cast<double>(count)})));  // [sum_0, count_0, sum_1, ...]
    double total = 0, n = 0;
    for (size_t r = 0; r < all.size(); r += 2) {
      total += all[r];
      n += all[r + 1];
    }
    return n > 0 ? total / n : mean;
  };
  // Evaluations the ranks share: every rank's numbers, exactly (doubles travel as their bits).
  h.gather = [&comm](const std::vector<double>& mine) {
    const std::vector<int64_t> bits = bits_of(mine);
    dist::Gathered g =
        comm.all_gather_v(Tensor::from_vector(bits, {static_cast<int64_t>(bits.size())}, comm.device()));
    return doubles_of(g.data.to_vector<int64_t>());
  };
  // Ctrl-C (or SIGTERM, which mpirun forwards) reaches the ranks at different steps, and a rank
  // stopping alone would leave the others waiting in a collective. So every stop_poll_every-th
  // poll the ranks agree: an all-gather of their flags on the host (all_gather_host: on NCCL over
  // its host channel, no device wait), and all stop after the same step when
  // any was asked to (the trainer polls once a step, a sweep once a sweep: the same count on
  // every rank). Between agreements a poll costs nothing.
  h.should_stop = [local = base.should_stop, &comm, every = std::max(1, stop_poll_every),
                   polls = std::make_shared<int64_t>(0)] {
    if (++*polls % every != 0) return false;
    const std::vector<int64_t> flags = comm.all_gather_host({local && local() ? 1 : 0});  // no device wait on NCCL
    return std::any_of(flags.begin(), flags.end(), [](int64_t f) { return f != 0; });
  };
  if (comm.rank() != 0) {
    h.on_epoch = nullptr;
    h.on_step = nullptr;
  }
  return dp;
}

}  // namespace curec::train

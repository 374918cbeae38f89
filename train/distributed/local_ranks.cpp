#include "train/distributed/local_ranks.h"

#include "train/distributed/nccl_communicator.h"
#include "train/distributed/thread_group.h"

namespace curec::dist {

LocalRanks::LocalRanks(int world_size, Device device) {
  CUREC_CHECK(world_size >= 1, "LocalRanks: world size must be >= 1, got ", world_size);
  if (device.is_cpu()) {
    group_ = std::make_unique<ThreadGroup>(world_size);
    comms_ = group_->communicators();
    return;
  }
  std::vector<int> devices;
  for (int r = 0; r < world_size; ++r) devices.push_back(world_size == 1 ? device.index : r);
  owned_ = nccl_init_all(devices);
  for (auto& c : owned_) comms_.push_back(c.get());
}

LocalRanks::~LocalRanks() = default;

void LocalRanks::run(const std::function<void(Communicator&)>& fn) {
  if (group_) run_ranks(*group_, fn);  // also marks a rank that returned, for the others
  else run_ranks(comms_, fn);
}

}  // namespace curec::dist

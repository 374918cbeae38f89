#include "train/distributed/local_ranks.h"

#include <exception>
#include <mutex>
#include <thread>

#include "train/distributed/nccl_communicator.h"
#include "train/distributed/thread_group.h"

namespace curec::dist {

LocalRanks::LocalRanks(int world_size, Device device, double timeout_s) {
  CUREC_CHECK(world_size >= 1, "LocalRanks: world size must be >= 1, got ", world_size);
  if (device.is_cpu()) {
    group_ = std::make_unique<ThreadGroup>(world_size, timeout_s);
    for (int r = 0; r < world_size; ++r) comms_.push_back(&group_->communicator(r));
    return;
  }
  std::vector<int> devices;
  for (int r = 0; r < world_size; ++r) devices.push_back(world_size == 1 ? device.index : r);
  owned_ = nccl_init_all(devices, {.timeout_s = timeout_s});
  for (auto& c : owned_) comms_.push_back(c.get());
}

LocalRanks::~LocalRanks() = default;

bool LocalRanks::stopped() const { return group_ && group_->aborted(); }

void LocalRanks::run(const std::function<void(Communicator&)>& fn) {
  if (group_) group_->begin_run();
  std::mutex m;
  std::exception_ptr first;
  int first_rank = -1;
  auto body = [&](size_t r) {
    try {
      fn(*comms_[r]);
      if (group_) group_->finished(static_cast<int>(r));
    } catch (...) {
      {
        std::lock_guard lock(m);
        if (first) return;
        first = std::current_exception();
        first_rank = static_cast<int>(r);
      }
      std::string reason = "an unknown exception";
      try {
        throw;
      } catch (const std::exception& e) {
        reason = e.what();
      } catch (...) {
      }
      for (size_t o = 0; o < comms_.size(); ++o)
        if (o != r) comms_[o]->abort(detail::concat(comms_[r]->who(), " failed: ", reason));
    }
  };
  if (comms_.size() == 1) {
    body(0);
  } else {
    std::vector<std::thread> threads;
    for (size_t r = 0; r < comms_.size(); ++r) threads.emplace_back(body, r);
    for (std::thread& t : threads) t.join();
  }
  if (!first) return;
  try {
    std::rethrow_exception(first);
  } catch (const Error& e) {
    const std::string prefix = detail::concat("[rank ", first_rank, "] ");
    if (e.message().rfind(prefix, 0) == 0) throw;
    throw Error(prefix + e.message(), e.file(), e.line());
  }
}

}  // namespace curec::dist

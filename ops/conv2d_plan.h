#pragma once
// The parts of the cuDNN convolution path (ops/conv2d.cu) that need no GPU, so CPU tests cover
// them: which of cuDNN's ranked algorithms to run, and a bounded cache of per-shape plans.
#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

namespace curec::conv_plan {

// What cuDNN says of one candidate algorithm (cudnn*AlgoPerf_t, fastest first).
struct Candidate {
  bool ok;             // status == CUDNN_STATUS_SUCCESS
  bool deterministic;  // determinism == CUDNN_DETERMINISTIC
  bool fp32;           // plain FP32 math (not a tensor-op / TF32 math type)
};

struct Choice {
  int index = -1;              // -1: no candidate computes in plain FP32
  bool deterministic = false;  // false: the caller must say that this step is not reproducible
};

// The first candidate that works, is deterministic and computes in plain FP32; failing that, the
// first that works in plain FP32 (deterministic = false). Never a TF32 one: CPU parity needs FP32.
inline Choice choose(const Candidate* c, int count) {
  for (int i = 0; i < count; ++i)
    if (c[i].ok && c[i].deterministic && c[i].fp32) return {i, true};
  for (int i = 0; i < count; ++i)
    if (c[i].ok && c[i].fp32) return {i, false};
  return {};
}

// At most `capacity` values by key; a miss beyond it drops the least recently used one. Values
// are shared, so a plan still in use outlives its eviction. Thread-safe.
template <class Key, class Value>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // The value for key, made by make() (returning std::unique_ptr<Value> or shared_ptr) on a miss.
  // If make() throws, nothing is cached.
  template <class Make>
  std::shared_ptr<const Value> get(const Key& key, Make&& make) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = index_.find(key); it != index_.end()) {
      items_.splice(items_.begin(), items_, it->second);  // now the most recent
      return it->second->second;
    }
    std::shared_ptr<const Value> v(make());
    items_.emplace_front(key, v);
    index_[key] = items_.begin();
    if (items_.size() > capacity_) {
      index_.erase(items_.back().first);
      items_.pop_back();
    }
    return v;
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return items_.size();
  }
  size_t capacity() const { return capacity_; }

 private:
  using Items = std::list<std::pair<Key, std::shared_ptr<const Value>>>;
  size_t capacity_;
  Items items_;  // most recently used first
  std::map<Key, typename Items::iterator> index_;
  mutable std::mutex mutex_;
};

}  // namespace curec::conv_plan

#pragma once
// The live handles of a library stand-in (cuBLAS, cuSOLVER), so that a destroyed or made-up
// handle is refused with the library's own status rather than dereferenced.
#include <mutex>
#include <set>

#include "state.h"

namespace curec_emu {

template <class Context>
class Handles {
 public:
  Context* create() {
    auto* h = new Context;
    keep(h);
    std::lock_guard lock(mutex_);
    live_.insert(h);
    return h;
  }
  // false when h is not a live handle (nothing is freed then).
  bool destroy(Context* h) {
    {
      std::lock_guard lock(mutex_);
      if (!h || !live_.erase(h)) return false;
    }
    drop(h);
    delete h;
    return true;
  }
  bool live(const Context* h) {
    std::lock_guard lock(mutex_);
    return h && live_.count(h);
  }

 private:
  std::mutex mutex_;
  std::set<const Context*> live_;
};

}  // namespace curec_emu

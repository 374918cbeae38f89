#pragma once
// Temporary device memory for one op (sort buffers, partial sums), from the caching allocator
// and returned to it at scope exit; safe because all work is ordered on the device's stream.
#include "core/allocator.h"

namespace curec::cuda {

class Scratch {
 public:
  Scratch(size_t bytes, int device) : ptr_(caching_allocate(bytes ? bytes : 1, device)), device_(device) {}
  ~Scratch() { caching_free(ptr_, device_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <class T = void>
  T* get() const { return static_cast<T*>(ptr_); }

 private:
  void* ptr_;
  int device_;
};

}  // namespace curec::cuda

#pragma once
#include <string>
#include <string_view>

namespace curec {

struct Device {
  enum class Kind : unsigned char { cpu, cuda };
  Kind kind = Kind::cpu;
  int index = 0;

  static Device cpu() { return {}; }
  static Device cuda(int i = 0) { return {Kind::cuda, i}; }
  // "cpu", "cuda", "cuda:N"; anything else is an error naming the accepted forms.
  static Device parse(std::string_view text);

  bool is_cuda() const { return kind == Kind::cuda; }
  bool is_cpu() const { return kind == Kind::cpu; }
  std::string str() const;
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
};

// Number of usable CUDA devices; 0 in a CPU-only build or on a machine without a GPU.
int cuda_device_count();
inline bool cuda_available() { return cuda_device_count() > 0; }
bool built_with_cuda();

// Waits for all work queued on the device's current stream and raises any error that a
// kernel recorded in the device error flag (e.g. an embedding index out of range).
void synchronize(Device d);

}  // namespace curec

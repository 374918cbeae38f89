#pragma once
// Stand-in for CUB's cub::DeviceRadixSort on the emulated device (the real CUB only compiles
// under nvcc). cudaemu/include comes first on the include path of emulated .cu files, so this
// header shadows <cub/device/device_radix_sort.cuh>. It keeps CUB's documented contract: the
// temp-storage size query, a stable sort on the bits [begin_bit, end_bit) of the radix-twiddled
// keys, no overlapping ranges, and device memory everywhere (checked against the registry).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

// By its path from here: emulated .cu files have cudaemu/include on their include path, not cudaemu/.
#include "cudaemu/state.h"

namespace cub {
namespace emu_detail {

struct NoValues {};  // the value type of a keys-only sort

template <typename KeyT>
using UnsignedBits = std::conditional_t<
    sizeof(KeyT) == 1, uint8_t,
    std::conditional_t<sizeof(KeyT) == 2, uint16_t, std::conditional_t<sizeof(KeyT) == 4, uint32_t, uint64_t>>>;

// The key's bits as CUB orders them: a signed integer's sign bit flipped; a float's sign bit
// flipped when positive and every bit flipped when negative. Unsigned order of the result is
// then numeric order, and a bit range selects bits of this pattern, not of the raw key.
template <typename KeyT>
uint64_t radix_bits(KeyT key) {
  static_assert(std::is_arithmetic_v<KeyT> && sizeof(KeyT) <= 8,
                "the emulated DeviceRadixSort sorts built-in arithmetic keys of up to 64 bits");
  using Bits = UnsignedBits<KeyT>;
  Bits bits;
  std::memcpy(&bits, &key, sizeof bits);
  constexpr Bits sign = static_cast<Bits>(Bits{1} << (sizeof(Bits) * 8 - 1));
  if constexpr (std::is_floating_point_v<KeyT>) {
    if (bits == sign) bits = 0;  // -0.0 and +0.0 are documented as equal (the output keeps which)
    bits = (bits & sign) ? static_cast<Bits>(~bits) : static_cast<Bits>(bits ^ sign);
  } else if constexpr (std::is_signed_v<KeyT>) {
    bits = static_cast<Bits>(bits ^ sign);
  }
  return bits;
}

inline uint64_t low_bits(int count) { return count >= 64 ? ~uint64_t{0} : (uint64_t{1} << count) - 1; }

inline cudaError_t not_device(const char* fn, const char* operand, const void* p, size_t bytes) {
  curec_emu::fault(cudaErrorIllegalAddress, std::string(fn) + ": " + curec_emu::describe_bad_range(p, bytes, operand));
  return cudaErrorIllegalAddress;
}

struct Range {
  const char* name;
  const void* p;
  size_t bytes;
};

// CUB documents in-place and overlapping ranges as unsupported; on a GPU they give wrong results
// silently, so the emulator reports them.
inline cudaError_t check_disjoint(const char* fn, const Range* ranges, size_t count) {
  for (size_t i = 0; i < count; ++i)
    for (size_t j = i + 1; j < count; ++j) {
      const char* a = static_cast<const char*>(ranges[i].p);
      const char* b = static_cast<const char*>(ranges[j].p);
      if (ranges[i].bytes && ranges[j].bytes && a < b + ranges[j].bytes && b < a + ranges[i].bytes) {
        curec_emu::fault(cudaErrorInvalidValue, std::string(fn) + ": " + ranges[i].name + " and " + ranges[j].name +
                                                    " overlap; DeviceRadixSort does not sort in place");
        return cudaErrorInvalidValue;
      }
    }
  return cudaSuccess;
}

template <bool Descending, typename KeyT, typename ValueT, typename NumItemsT>
cudaError_t radix_sort(const char* fn, void* d_temp_storage, size_t& temp_storage_bytes, const KeyT* keys_in,
                       KeyT* keys_out, const ValueT* values_in, ValueT* values_out, NumItemsT num_items, int begin_bit,
                       int end_bit) {
  static_assert(std::is_integral_v<NumItemsT>, "num_items must be an integer");
  constexpr bool has_values = !std::is_same_v<ValueT, NoValues>;
  constexpr int key_bits = static_cast<int>(sizeof(KeyT) * 8);
  if constexpr (std::is_signed_v<NumItemsT>)
    if (num_items < 0) return cudaErrorInvalidValue;
  const size_t n = static_cast<size_t>(num_items);
  const size_t key_bytes = n * sizeof(KeyT), value_bytes = has_values ? n * sizeof(ValueT) : 0;
  // As much as CUB's own alternate key and value buffers take, plus room for its bins, so that
  // a caller that under-allocates or skips the query fails here as it would there.
  const size_t need = key_bytes + value_bytes + 1024;
  if (!d_temp_storage) {
    temp_storage_bytes = need;
    return cudaSuccess;
  }
  if (begin_bit < 0 || end_bit > key_bits || begin_bit > end_bit || temp_storage_bytes < need)
    return cudaErrorInvalidValue;

  const Range ranges[] = {{"d_temp_storage", d_temp_storage, need},
                          {"d_keys_in", keys_in, key_bytes},
                          {"d_keys_out", keys_out, key_bytes},
                          {"d_values_in", values_in, value_bytes},
                          {"d_values_out", values_out, value_bytes}};
  for (const Range& r : ranges)
    if (r.bytes && !curec_emu::is_device_range(r.p, r.bytes)) return not_device(fn, r.name, r.p, r.bytes);
  if (cudaError_t e = check_disjoint(fn, ranges, std::size(ranges)); e != cudaSuccess) return e;
  if (n == 0) return cudaSuccess;

  // Sorting (digit, input position) pairs breaks ties by position, which is what makes it stable.
  const uint64_t mask = low_bits(end_bit - begin_bit);
  std::vector<std::pair<uint64_t, size_t>> order(n);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t digit = begin_bit < 64 ? (radix_bits(keys_in[i]) >> begin_bit) & mask : 0;
    // Descending is ascending on the inverted bits, as CUB does it: ties still keep input order.
    order[i] = {Descending ? ~digit & mask : digit, i};
  }
  std::sort(order.begin(), order.end());
  for (size_t i = 0; i < n; ++i) {
    keys_out[i] = keys_in[order[i].second];
    if constexpr (has_values) values_out[i] = values_in[order[i].second];
  }
  return cudaSuccess;
}

}  // namespace emu_detail

// The pointer overloads (the DoubleBuffer and decomposer ones are not emulated). Streams run
// synchronously on the emulated device, so the sort is done when a call returns.
struct DeviceRadixSort {
  template <typename KeyT, typename ValueT, typename NumItemsT>
  static cudaError_t SortPairs(void* d_temp_storage, size_t& temp_storage_bytes, const KeyT* d_keys_in,
                               KeyT* d_keys_out, const ValueT* d_values_in, ValueT* d_values_out, NumItemsT num_items,
                               int begin_bit = 0, int end_bit = sizeof(KeyT) * 8, cudaStream_t /*stream*/ = 0) {
    return emu_detail::radix_sort<false>("cub::DeviceRadixSort::SortPairs", d_temp_storage, temp_storage_bytes,
                                         d_keys_in, d_keys_out, d_values_in, d_values_out, num_items, begin_bit,
                                         end_bit);
  }

  template <typename KeyT, typename ValueT, typename NumItemsT>
  static cudaError_t SortPairsDescending(void* d_temp_storage, size_t& temp_storage_bytes, const KeyT* d_keys_in,
                                         KeyT* d_keys_out, const ValueT* d_values_in, ValueT* d_values_out,
                                         NumItemsT num_items, int begin_bit = 0, int end_bit = sizeof(KeyT) * 8,
                                         cudaStream_t /*stream*/ = 0) {
    return emu_detail::radix_sort<true>("cub::DeviceRadixSort::SortPairsDescending", d_temp_storage, temp_storage_bytes,
                                        d_keys_in, d_keys_out, d_values_in, d_values_out, num_items, begin_bit,
                                        end_bit);
  }

  template <typename KeyT, typename NumItemsT>
  static cudaError_t SortKeys(void* d_temp_storage, size_t& temp_storage_bytes, const KeyT* d_keys_in, KeyT* d_keys_out,
                              NumItemsT num_items, int begin_bit = 0, int end_bit = sizeof(KeyT) * 8,
                              cudaStream_t /*stream*/ = 0) {
    return emu_detail::radix_sort<false>("cub::DeviceRadixSort::SortKeys", d_temp_storage, temp_storage_bytes,
                                         d_keys_in, d_keys_out, static_cast<const emu_detail::NoValues*>(nullptr),
                                         static_cast<emu_detail::NoValues*>(nullptr), num_items, begin_bit, end_bit);
  }

  template <typename KeyT, typename NumItemsT>
  static cudaError_t SortKeysDescending(void* d_temp_storage, size_t& temp_storage_bytes, const KeyT* d_keys_in,
                                        KeyT* d_keys_out, NumItemsT num_items, int begin_bit = 0,
                                        int end_bit = sizeof(KeyT) * 8, cudaStream_t /*stream*/ = 0) {
    return emu_detail::radix_sort<true>("cub::DeviceRadixSort::SortKeysDescending", d_temp_storage, temp_storage_bytes,
                                        d_keys_in, d_keys_out, static_cast<const emu_detail::NoValues*>(nullptr),
                                        static_cast<emu_detail::NoValues*>(nullptr), num_items, begin_bit, end_bit);
  }
};

}  // namespace cub

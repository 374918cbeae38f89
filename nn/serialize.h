#pragma once
// A versioned binary file of named tensors plus string metadata (model name and
// hyper-parameters, so a tool can rebuild the model before loading its weights).
//
// Layout (all integers little-endian):
//   magic "CURECSD\0" (8 bytes), u32 format version
//   u32 metadata count, then per entry: u32 length + key bytes, u32 length + value bytes
//   u32 tensor count, then per tensor: u32 length + name bytes, u8 dtype, u8 ndim,
//       ndim x i64 dims, u64 byte count, the bytes (row-major)
//   u64 FNV-1a 64 checksum of every byte before it
#include <cstdint>
#include <map>
#include <string>

#include "nn/state_dict.h"

namespace curec::nn {

constexpr uint32_t kStateFormatVersion = 1;

struct LoadedState {
  uint32_t version = 0;
  std::map<std::string, std::string> meta;
  StateDict tensors;  // on the CPU
};

// Writes to `path + ".tmp.<pid>"`, flushes it to disk and renames it over `path`, so an
// interrupted or failed save leaves any previous file intact. Tensors may be on any device.
void save_state(const std::string& path, const StateDict& tensors, const std::map<std::string, std::string>& meta = {});

// Reads a file save_state wrote. A missing, truncated, corrupted (checksum) or foreign file,
// or one from a newer format version, or an f32 tensor holding a NaN or infinity, is a
// curec::Error naming the file and the problem (and the tensor).
LoadedState load_state(const std::string& path);

// FNV-1a 64 of `bytes`, continuing from `hash` (start with kFnvOffset).
constexpr uint64_t kFnvOffset = 14695981039346656037ull;
uint64_t fnv1a64(const void* bytes, size_t n, uint64_t hash = kFnvOffset);

}  // namespace curec::nn

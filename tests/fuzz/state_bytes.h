#pragma once
// State files (models, checkpoints) end in an FNV-1a checksum that no mutation guesses: the
// harnesses that read them try each input as is and with its checksum repaired, so mutations
// reach the fields behind it.
#include <string>

#include "nn/serialize.h"

namespace curec::fuzz {

// `bytes` with its last 8 bytes replaced by the checksum of the rest (unchanged if shorter).
inline std::string with_checksum(std::string bytes) {
  if (bytes.size() < 8) return bytes;
  const size_t body = bytes.size() - 8;
  const uint64_t h = nn::fnv1a64(bytes.data(), body);
  for (int i = 0; i < 8; ++i) bytes[body + i] = static_cast<char>(h >> (8 * i));
  return bytes;
}

}  // namespace curec::fuzz

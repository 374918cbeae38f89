#pragma once
// The CTR encoder's file round trip, shared by the harnesses that produce encoders.
#include <string>

#include "data/ctr.h"
#include "tests/fuzz/fuzz_input.h"

namespace curec::fuzz {

// Saves `e` to `file`, loads it back and requires both steps to succeed and give `e` again.
inline data::CtrEncoder round_trip(const data::CtrEncoder& e, const std::string& file) {
  data::CtrEncoder loaded;
  require(accepts([&] {
            e.save(file);
            loaded = data::CtrEncoder::load(file);
          }),
          "an encoder saves and loads");
  require(loaded == e, "save -> load gives the same encoder");
  return loaded;
}

}  // namespace curec::fuzz

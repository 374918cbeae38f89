// Device strings (`--device`): an accepted one prints as a string that parses back to it.
#include <string>

#include "core/device.h"
#include "tests/fuzz/fuzz_input.h"

using namespace curec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string text(reinterpret_cast<const char*>(bytes), size);
  Device d;
  if (!fuzz::accepts([&] { d = Device::parse(text); })) return 0;
  fuzz::require(d.index >= 0, "a non-negative index");
  Device again;
  fuzz::require(fuzz::accepts([&] { again = Device::parse(d.str()); }) && again == d, "str() parses back");
  return 0;
}

// The state-dict file (models, checkpoints): an accepted file saves and loads back bitwise.
// Each input is tried as is and with its trailing checksum repaired (state_bytes.h).
#include <cstring>
#include <string>

#include "nn/serialize.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/state_bytes.h"

using namespace curec;

namespace {

void check(fuzz::InputFile& file, fuzz::InputFile& saved, const std::string& bytes) {
  const std::string& path = file.write(bytes);
  nn::LoadedState s;
  if (!fuzz::accepts([&] { s = nn::load_state(path); })) return;
  nn::LoadedState again;
  fuzz::require(fuzz::accepts([&] {
                  nn::save_state(saved.path(), s.tensors, s.meta);
                  again = nn::load_state(saved.path());
                }),
                "a loaded state saves and loads");
  fuzz::require(again.meta == s.meta && again.tensors.size() == s.tensors.size(), "the same entries");
  for (const auto& [name, t] : s.tensors) {
    const Tensor& u = again.tensors.at(name);
    fuzz::require(u.shape() == t.shape() && u.dtype() == t.dtype() && u.nbytes() == t.nbytes(), "same " + name);
    fuzz::require(std::memcmp(u.raw_data(), t.raw_data(), t.nbytes()) == 0, "same bytes of " + name);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static fuzz::InputFile file("state"), saved("state-again");
  std::string in(reinterpret_cast<const char*>(bytes), size);
  check(file, saved, in);
  if (size >= 8) check(file, saved, fuzz::with_checksum(in));
  return 0;
}

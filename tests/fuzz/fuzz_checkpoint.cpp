// Training checkpoints (`curec train --resume FILE`): a file read_checkpoint accepts writes and
// reads back the same, and check_resumable accepts or refuses it with an Error. Each input is
// tried as is and with its checksum repaired.
#include <string>

#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/state_bytes.h"
#include "train/checkpoint.h"

using namespace curec;

namespace {

void check(fuzz::InputFile& file, fuzz::InputFile& saved, const std::string& bytes) {
  const std::string& path = file.write(bytes);
  train::Checkpoint c;
  if (!fuzz::accepts([&] { c = train::read_checkpoint(path); })) return;
  fuzz::require(c.epoch >= 0 && static_cast<int>(c.history.size()) == c.epoch, "one record per epoch done");
  train::Checkpoint again;
  fuzz::require(fuzz::accepts([&] {
                  train::write_checkpoint(saved.path(), c);
                  again = train::read_checkpoint(saved.path());
                }),
                "an accepted checkpoint writes and reads back");
  fuzz::require(again.task == c.task && again.epoch == c.epoch && again.batch_size == c.batch_size &&
                    again.seed == c.seed && again.model.size() == c.model.size() &&
                    again.optimizer.size() == c.optimizer.size() && again.generators == c.generators,
                "the same checkpoint");
  fuzz::accepts([&] { train::check_resumable(c, path, c.task, c.batch_size, c.seed, c.epoch + 1); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static fuzz::InputFile file("checkpoint"), saved("checkpoint-again");
  const std::string in(reinterpret_cast<const char*>(bytes), size);
  check(file, saved, in);
  if (size >= 8) check(file, saved, fuzz::with_checksum(in));
  return 0;
}

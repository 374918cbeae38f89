// The CTR encoder text (inside an FM/DeepFM model file, or a file of its own): read from the
// file and from memory alike, an accepted one must save and load back to the same encoder.
#include "data/ctr.h"
#include "tests/fuzz/encoder_round_trip.h"

using namespace curec;
using data::CtrEncoder;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static fuzz::InputFile file("encoder"), saved("encoder-again");
  const std::string& path = file.write({reinterpret_cast<const char*>(bytes), size});
  CtrEncoder e;
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);
  CtrEncoder in_memory;
  const bool accepted = fuzz::accepts([&] { in_memory = CtrEncoder::from_text(text, "model"); });
  fuzz::require(fuzz::accepts([&] { e = CtrEncoder::load(path); }) == accepted, "the file and its text agree");
  if (!accepted) return 0;
  fuzz::require(in_memory == e && CtrEncoder::from_text(e.to_text(), "again") == e, "the same encoder from text");
  const std::vector<int64_t> dims = e.field_dims(), offsets = e.offsets();
  fuzz::require(static_cast<int64_t>(dims.size()) == e.num_fields() && offsets.size() == dims.size(),
                "one dimension and offset per field");
  for (int64_t f = 0; f < e.num_fields(); ++f)
    fuzz::require(e.local_index(f, "\x01never a value\x02") == e.default_index(f), "unseen values map to default");
  fuzz::round_trip(e, saved.path());
  return 0;
}

// The CTR encoder file (saved beside an FM/DeepFM model): an accepted file must save and load
// back to the same encoder.
#include "data/ctr.h"
#include "tests/fuzz/encoder_round_trip.h"

using namespace curec;
using data::CtrEncoder;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static fuzz::InputFile file("encoder"), saved("encoder-again");
  const std::string& path = file.write({reinterpret_cast<const char*>(bytes), size});
  CtrEncoder e;
  if (!fuzz::accepts([&] { e = CtrEncoder::load(path); })) return 0;
  const std::vector<int64_t> dims = e.field_dims(), offsets = e.offsets();
  fuzz::require(static_cast<int64_t>(dims.size()) == e.num_fields() && offsets.size() == dims.size(),
                "one dimension and offset per field");
  for (int64_t f = 0; f < e.num_fields(); ++f)
    fuzz::require(e.local_index(f, "\x01never a value\x02") == e.default_index(f), "unseen values map to default");
  fuzz::round_trip(e, saved.path());
  return 0;
}

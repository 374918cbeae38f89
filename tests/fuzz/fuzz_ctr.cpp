// The CTR readers: fit the encoder on a file, encode it, and round-trip the encoder through
// its file. The first byte picks the format and min_count; the rest is the file.
#include "data/ctr.h"
#include "tests/fuzz/encoder_round_trip.h"

using namespace curec;
using data::CtrEncoder;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static fuzz::InputFile file("ctr"), saved("ctr-encoder");
  if (size == 0) return 0;
  const data::CtrFormat format = static_cast<data::CtrFormat>(bytes[0] % 3);
  const int64_t min_count = 1 + (bytes[0] / 3) % 4;
  const std::string& path = file.write({reinterpret_cast<const char*>(bytes) + 1, size - 1});
  CtrEncoder e;
  if (!fuzz::accepts([&] { e = CtrEncoder::fit(path, format, min_count); })) return 0;
  data::CtrData d;
  fuzz::require(fuzz::accepts([&] { d = e.encode(path); }), "the training file encodes with its own maps");
  const int64_t fields = d.num_fields();
  fuzz::require(fields == e.num_fields() && d.rows() > 0 &&
                    static_cast<int64_t>(d.fields.size()) == d.rows() * fields,
                "rows * fields indices");
  for (int64_t r = 0; r < d.rows(); ++r) {
    fuzz::require(d.labels[r] == 0.0f || d.labels[r] == 1.0f, "labels are 0 or 1");
    for (int64_t f = 0; f < fields; ++f) {
      const int64_t x = d.fields[r * fields + f];
      fuzz::require(x >= d.offsets[f] && x < d.offsets[f] + d.field_dims[f], "an index within its field");
    }
  }
  const CtrEncoder loaded = fuzz::round_trip(e, saved.path());
  fuzz::require(loaded.encode(path).fields == d.fields, "the loaded encoder encodes alike");
  return 0;
}

// A CTR file as `--data FILE` reads it: format detection (or a format named by the first byte),
// the row count, and the split in place into training and test rows encoded with maps learned
// from the training rows alone. Every accepted split covers each row once, with indices inside
// their fields.
#include "data/ctr.h"
#include "tests/fuzz/fuzz_input.h"

using namespace curec;

namespace {
void check_rows(const data::CtrData& d, const data::CtrEncoder& e) {
  const int64_t fields = e.num_fields();
  fuzz::require(d.num_fields() == fields && static_cast<int64_t>(d.fields.size()) == d.rows() * fields,
                "rows * fields indices");
  for (int64_t r = 0; r < d.rows(); ++r)
    for (int64_t f = 0; f < fields; ++f) {
      const int64_t x = d.fields[r * fields + f];
      fuzz::require(x >= d.offsets[f] && x < d.offsets[f] + d.field_dims[f], "an index within its field");
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static fuzz::InputFile file("ctr-split");
  if (size == 0) return 0;
  const std::string& path = file.write({reinterpret_cast<const char*>(bytes) + 1, size - 1});
  data::CtrFormat format = static_cast<data::CtrFormat>(bytes[0] % 3);
  if (bytes[0] & 0x80) {
    if (!fuzz::accepts([&] { format = data::detect_ctr_format(path); })) return 0;
  }
  const double test_fraction = 0.1 + 0.1 * ((bytes[0] >> 2) % 5);
  const int64_t min_count = 1 + (bytes[0] >> 4) % 3;
  data::CtrSplit s;
  if (!fuzz::accepts([&] { s = data::read_ctr_split(path, format, test_fraction, min_count); })) return 0;
  int64_t rows = 0;
  fuzz::require(fuzz::accepts([&] { rows = data::count_ctr_rows(path, format); }), "an accepted file counts");
  fuzz::require(s.train.rows() > 0 && s.test.rows() > 0, "both halves hold rows");
  fuzz::require(s.train.rows() + s.test.rows() == rows, "train + test = every row");
  check_rows(s.train, s.encoder);
  check_rows(s.test, s.encoder);
  return 0;
}

// The ratings reader in each format it is given: the first byte picks the format, the rest is
// the file. An accepted file must give consistent columns, and re-reading it into its own id
// spaces must give the same rows.
#include <iterator>

#include "data/ratings_reader.h"
#include "tests/fuzz/fuzz_input.h"

using namespace curec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static fuzz::InputFile file("ratings");
  static const data::RatingsFormat formats[] = {
      data::RatingsFormat::ml100k(),           data::RatingsFormat::ml_dat(),
      data::RatingsFormat::ml_csv(),           data::RatingsFormat::csv(",", false, true),
      data::RatingsFormat::csv(";", true, false), data::RatingsFormat::csv("\t", false, false),
      data::RatingsFormat::csv("::", true, true), data::RatingsFormat::csv(", ", false, false)};
  if (size == 0) return 0;
  const data::RatingsFormat& format = formats[bytes[0] % std::size(formats)];
  const std::string& path = file.write({reinterpret_cast<const char*>(bytes) + 1, size - 1});
  data::Interactions d;
  if (!fuzz::accepts([&] { d = data::read_ratings(path, format); })) return 0;
  fuzz::require(!d.empty(), "an accepted file has ratings");
  fuzz::require(fuzz::accepts([&] { d.validate(); }), "an accepted file gives valid columns");
  for (float r : d.rating) fuzz::require(r >= format.min_rating && r <= format.max_rating, "ratings within range");
  data::Interactions again;
  fuzz::require(fuzz::accepts([&] { again = data::read_ratings(path, format, d.users, d.items); }),
                "a file reads into its own id spaces");
  fuzz::require(again.user == d.user && again.item == d.item && again.rating == d.rating, "the same rows again");
  return 0;
}

// Format detection, then reading with what it detected (as `--data FILE` does).
#include <string_view>

#include "data/ratings_reader.h"
#include "app/ratings_source.h"
#include "tests/fuzz/fuzz_input.h"

using namespace curec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static fuzz::InputFile file("detect");
  const std::string& path = file.write({reinterpret_cast<const char*>(bytes), size});
  data::RatingsFormat format;
  if (!fuzz::accepts([&] { format = data::detect_ratings_format(path); })) return 0;
  const std::string_view sep = format.separator;
  fuzz::require(sep == "::" || sep == "\t" || sep == "," || sep == ";", "a detected separator is a known one");
  data::Interactions d;
  if (!fuzz::accepts([&] { d = data::read_ratings(path, format); })) return 0;
  fuzz::require(fuzz::accepts([&] { d.validate(); }), "an accepted file gives valid columns");
  data::Interactions same;
  fuzz::require(fuzz::accepts([&] { same = app::read_ratings_file(path); }), "read_ratings_file agrees");
  fuzz::require(same.user == d.user && same.item == d.item && same.rating == d.rating, "the same rows");
  return 0;
}

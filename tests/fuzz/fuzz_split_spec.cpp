// Split specs (`--split`): the input's first line is the spec, the rest the file that a
// "test:" spec names. A spec split_spec_error accepts, split_by_spec must accept or refuse
// with an Error; an accepted split partitions the data over the same id spaces.
#include <string_view>

#include "app/ratings_source.h"
#include "app/split_spec.h"
#include "tests/fuzz/fuzz_input.h"

using namespace curec;

namespace {
// 4 users x 5 items, each user with 3 to 5 timed ratings (enough for seq and loo).
const app::RatingsSource& source() {
  static fuzz::InputFile file("split-data.tsv");
  static const app::RatingsSource s = [] {
    std::string text;
    int t = 0;
    for (int u = 1; u <= 4; ++u)
      for (int i = 1; i <= 2 + u && i <= 5; ++i)
        text += std::to_string(u) + "\t" + std::to_string(i) + "\t" + std::to_string(1 + (u + i) % 5) + "\t" +
                std::to_string(++t) + "\n";
    return app::RatingsSource{app::read_ratings_file(file.write(text)), file.path()};
  }();
  return s;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static fuzz::InputFile test_file("split-test");
  const app::RatingsSource& src = source();
  std::string_view in(reinterpret_cast<const char*>(bytes), size);
  const size_t nl = in.find('\n');
  std::string spec(in.substr(0, nl));
  if (spec.rfind("test:", 0) == 0)
    spec = "test:" + test_file.write(nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1));
  std::string problem;
  fuzz::require(fuzz::accepts([&] { problem = app::split_spec_error(spec); }), "split_spec_error never throws");
  app::NamedSplit s;
  const bool accepted = fuzz::accepts([&] { s = app::split_by_spec(src, spec, size); });
  if (!problem.empty()) fuzz::require(!accepted, "a spec with an error is refused: " + problem);
  if (!accepted) return 0;
  fuzz::require(s.split.train.size() + s.split.test.size() == src.data.size(), "train + test = the data");
  fuzz::require(!s.split.train.empty() && !s.split.test.empty(), "neither half is empty");
  fuzz::require(s.split.train.users == src.data.users && s.split.test.items == src.data.items, "same id spaces");
  fuzz::require(fuzz::accepts([&] {
                  s.split.train.validate();
                  s.split.test.validate();
                }),
                "valid halves");
  return 0;
}

#include "app/split_spec.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <utility>
#include <vector>

#include "core/error.h"

namespace curec::app {

using namespace curec::data;
namespace {

// Where row r of a data set came from, for messages: "FILE, line N" or "row N of WHAT".
std::string row_place(const Interactions& d, size_t r, const std::string& file, const std::string& what) {
  if (d.first_line > 0) return file + ", line " + std::to_string(d.first_line + static_cast<int64_t>(r));
  return "row " + std::to_string(r + 1) + " of " + what;
}

// "test:FILE": the rows of FILE leave the data set and form the test set. Each test row takes
// a data row of the same (user, item) with the same rating; a pair rated more than once takes
// its copies in data order.
NamedSplit split_by_test_file(const RatingsSource& source, const std::string& file) {
  const Interactions& data = source.data;
  CUREC_CHECK(data.users && data.items, "--split test:", file, ": the data set has no raw ids to match against");
  Interactions test = read_ratings_file(file, data.users, data.items);
  using Pair = std::pair<int32_t, int32_t>;
  std::map<Pair, std::vector<size_t>> rows_of;  // the data's rows of each pair the test set holds
  for (size_t r = 0; r < test.size(); ++r) rows_of[{test.user[r], test.item[r]}];
  for (size_t r = 0; r < data.size(); ++r)
    if (auto it = rows_of.find({data.user[r], data.item[r]}); it != rows_of.end()) it->second.push_back(r);
  std::vector<char> taken(data.size(), 0);
  for (size_t t = 0; t < test.size(); ++t) {
    const std::vector<size_t>& rows = rows_of.at({test.user[t], test.item[t]});
    auto free_same = std::find_if(rows.begin(), rows.end(),
                                  [&](size_t r) { return !taken[r] && data.rating[r] == test.rating[t]; });
    if (free_same != rows.end()) {
      taken[*free_same] = 1;
      continue;
    }
    const std::string at = row_place(test, t, file, "the test file");
    const std::string pair = "(user " + std::to_string(data.users->raw(test.user[t])) + ", item " +
                             std::to_string(data.items->raw(test.item[t])) + ")";
    auto other = std::find_if(rows.begin(), rows.end(), [&](size_t r) { return data.rating[r] != test.rating[t]; });
    CUREC_CHECK(other == rows.end(), at, ": test rating ", test.rating[t], " of ", pair,
                " differs from the data's rating ", data.rating[*other], " at ",
                row_place(data, *other, source.description, source.description),
                "; a test file must hold ratings taken out of the --data set, unchanged");
    CUREC_FAIL(at, ": test row ", pair, " is not a rating of ", source.description,
               rows.empty() ? "" : " (or appears there fewer times than in the test file)",
               "; a test file must hold ratings taken out of the --data set");
  }
  std::vector<int64_t> train;
  train.reserve(data.size() - test.size());
  for (size_t r = 0; r < data.size(); ++r)
    if (!taken[r]) train.push_back(static_cast<int64_t>(r));
  const std::string what = "test file " + file + " (" + std::to_string(test.size()) + " held out)";
  return {{data.subset(train), std::move(test)}, what};
}

// The test ratio of "random:R", or -1 when R is not a number in (0, 1).
double random_ratio(const std::string& spec) {
  std::string text = spec.substr(7);
  char* end = nullptr;
  double ratio = std::strtod(text.c_str(), &end);
  return !text.empty() && *end == '\0' && ratio > 0 && ratio < 1 ? ratio : -1;
}
}  // namespace

std::string split_spec_error(const std::string& spec) {
  if (spec.empty() || spec == "random" || spec == "seq" || spec == "loo" || is_canonical_split(spec)) return "";
  if (spec.rfind("random:", 0) == 0)
    return random_ratio(spec) > 0 ? "" : "the test ratio of " + spec + " must be a number in (0, 1), e.g. random:0.2";
  if (spec.rfind("test:", 0) == 0) return spec.size() > 5 ? "" : "test: needs a file, e.g. test:held_out.csv";
  return "unknown split '" + spec + "'; use random, random:R, seq, loo, u1..u5, ua, ub or test:FILE";
}

namespace {

NamedSplit split_named(const RatingsSource& source, const std::string& spec, uint64_t seed) {
  const std::string seed_text = ", seed " + std::to_string(seed);
  if (spec.empty() || spec == "random") return {split_random(source.data, 0.1, seed), "random 90/10" + seed_text};
  if (spec.rfind("random:", 0) == 0)
    return {split_random(source.data, random_ratio(spec), seed), "random, test ratio " + spec.substr(7) + seed_text};
  if (spec == "seq") return {split_seq_aware(source.data), "seq-aware (each user's latest interaction)"};
  if (spec == "loo") return {split_leave_one_out(source.data, seed), "leave one out" + seed_text};
  if (spec.rfind("test:", 0) == 0) return split_by_test_file(source, spec.substr(5));
  CUREC_CHECK(!source.ml100k_dir.empty(), "--split ", spec, ": canonical splits are ML-100K's files, but --data is ",
              source.description, "; pass --data with the ml-100k folder");
  return {read_canonical_split(source.ml100k_dir, spec), "ML-100K canonical " + spec + ".base / " + spec + ".test"};
}

}  // namespace

NamedSplit split_by_spec(const RatingsSource& source, const std::string& spec, uint64_t seed) {
  std::string error = split_spec_error(spec);
  CUREC_CHECK(error.empty(), "--split: ", error);
  NamedSplit s = split_named(source, spec, seed);
  // An empty half would train nothing or evaluate nothing, and report it as a result.
  CUREC_CHECK(!s.split.train.empty() && !s.split.test.empty(), "--split ", spec, " of ", source.description,
              " (", source.data.size(), " ratings) leaves the ", s.split.train.empty() ? "training" : "test",
              " set empty; use a ", spec.rfind("random:", 0) == 0 ? "test ratio nearer 0.5" : "larger data set",
              " or another split");
  return s;
}

}  // namespace curec::app

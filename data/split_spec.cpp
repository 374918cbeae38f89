#include "data/split_spec.h"

#include <cstdlib>
#include <map>
#include <utility>

#include "core/error.h"

namespace curec::data {
namespace {

// "test:FILE": the rows of FILE leave the data set and form the test set.
NamedSplit split_by_test_file(const RatingsSource& source, const std::string& file) {
  const Interactions& data = source.data;
  CUREC_CHECK(data.users && data.items, "--split test:", file, ": the data set has no raw ids to match against");
  Interactions test = read_ratings_file(file, data.users, data.items);
  // A (user, item) pair may be rated more than once; each test row takes one of the data's rows.
  std::map<std::pair<int32_t, int32_t>, int> left;
  for (size_t r = 0; r < test.size(); ++r) ++left[{test.user[r], test.item[r]}];
  const std::map<std::pair<int32_t, int32_t>, int> need = left;
  std::vector<int64_t> train;
  train.reserve(data.size());
  for (size_t r = 0; r < data.size(); ++r) {
    auto it = left.find({data.user[r], data.item[r]});
    if (it != left.end() && it->second > 0) {
      --it->second;
      continue;
    }
    train.push_back(static_cast<int64_t>(r));
  }
  // A pair with k copies unmatched: its last k test rows are the ones the data lacks. Report the first such row.
  std::map<std::pair<int32_t, int32_t>, int> seen;
  for (size_t r = 0; r < test.size(); ++r) {
    std::pair<int32_t, int32_t> key{test.user[r], test.item[r]};
    const int copies = need.at(key), matched = copies - left.at(key);
    CUREC_CHECK(++seen[key] <= matched, file, ": test row ", r + 1, " (user ", data.users->raw(test.user[r]), ", item ",
                data.items->raw(test.item[r]), ") is not a rating of ", source.description,
                "; a test file must hold ratings taken out of the --data set");
  }
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

NamedSplit split_by_spec(const RatingsSource& source, const std::string& spec, uint64_t seed) {
  std::string error = split_spec_error(spec);
  CUREC_CHECK(error.empty(), "--split: ", error);
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

}  // namespace curec::data

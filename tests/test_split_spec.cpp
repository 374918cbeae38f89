#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

#include "core/error.h"
#include "app/split_spec.h"
#include "data/synthetic_ratings.h"
#include "tests/testing.h"

using namespace curec;
using namespace curec::app;
using namespace curec::data;

namespace {
RatingsSource synthetic_source() {
  SyntheticRatingsConfig c;
  c.num_users = 40;
  c.num_items = 50;
  c.density = 0.3;
  return {synthetic_ratings(c), "synthetic"};
}

// Writes rows of `d` as a tab-separated ratings file with raw ids.
std::string write_rows(const Interactions& d, const std::vector<int64_t>& rows, const std::string& name) {
  std::string path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream out(path);
  out.precision(9);  // floats round trip: a test rating must equal the data's
  for (int64_t r : rows)
    out << d.users->raw(d.user[r]) << '\t' << d.items->raw(d.item[r]) << '\t' << d.rating[r] << '\t' << d.timestamp[r]
        << '\n';
  return path;
}

std::multiset<std::pair<int64_t, int64_t>> pairs(const Interactions& d) {
  std::multiset<std::pair<int64_t, int64_t>> s;
  for (size_t r = 0; r < d.size(); ++r) s.insert({d.users->raw(d.user[r]), d.items->raw(d.item[r])});
  return s;
}
}  // namespace

TEST_CASE("split_spec_error accepts every named split and explains the rest") {
  for (const char* ok : {"", "random", "random:0.2", "seq", "loo", "u1", "u5", "ua", "ub", "test:x.csv"})
    CHECK_MESSAGE(split_spec_error(ok).empty(), ok);
  CHECK(split_spec_error("random:1.5").find("(0, 1)") != std::string::npos);
  CHECK(split_spec_error("random:abc").find("(0, 1)") != std::string::npos);
  CHECK(split_spec_error("random:").find("(0, 1)") != std::string::npos);
  CHECK(split_spec_error("test:").find("needs a file") != std::string::npos);
  CHECK(split_spec_error("u6").find("unknown split 'u6'") != std::string::npos);
}

TEST_CASE("split_by_spec: random ratio, seq and loo partition the data") {
  RatingsSource src = synthetic_source();
  const size_t n = src.data.size();
  NamedSplit book = split_by_spec(src, "", 3);
  CHECK(book.description == "random 90/10, seed 3");
  CHECK(book.split.train.size() + book.split.test.size() == n);
  NamedSplit fifth = split_by_spec(src, "random:0.2", 3);
  CHECK(fifth.split.train.size() + fifth.split.test.size() == n);
  CHECK(std::abs(static_cast<double>(fifth.split.test.size()) / n - 0.2) < 0.03);
  CHECK(split_by_spec(src, "seq", 0).split.test.size() == static_cast<size_t>(src.data.num_users));
  NamedSplit loo = split_by_spec(src, "loo", 1);
  CHECK(loo.split.test.size() == static_cast<size_t>(src.data.num_users));
  CHECK(loo.split.train.size() + loo.split.test.size() == n);
}

TEST_CASE("split_by_spec test:FILE holds out exactly the file's ratings") {
  RatingsSource src = synthetic_source();
  std::vector<int64_t> held = {0, 7, 8, 100, static_cast<int64_t>(src.data.size()) - 1};
  std::string path = write_rows(src.data, held, "curec_split_spec_test.tsv");
  NamedSplit s = split_by_spec(src, "test:" + path, 0);
  CHECK(s.split.test.size() == held.size());
  CHECK(s.split.train.size() == src.data.size() - held.size());
  CHECK(pairs(s.split.test) == pairs(src.data.subset(held)));
  auto all = pairs(s.split.train);
  for (const auto& p : pairs(s.split.test)) all.insert(p);
  CHECK(all == pairs(src.data));
  CHECK(s.split.train.users == src.data.users);  // same id spaces: models index both halves alike
  CHECK(s.split.test.items == src.data.items);
  std::remove(path.c_str());
}

TEST_CASE("split_by_spec test:FILE rejects a rating the data does not hold") {
  RatingsSource src = synthetic_source();
  // Held out twice, but rated once: the second copy is not in the data.
  std::string path = write_rows(src.data, {5, 5}, "curec_split_spec_twice.tsv");
  std::string e = testing::error_of([&] { split_by_spec(src, "test:" + path, 0); });
  CHECK(e.find(", line 2: test row (user ") != std::string::npos);
  CHECK(e.find("is not a rating of synthetic") != std::string::npos);
  std::remove(path.c_str());
  CHECK(testing::error_of([&] { split_by_spec(src, "test:/no/such/file.tsv", 0); }).find("no such ratings file") !=
        std::string::npos);
}

TEST_CASE("split_by_spec test:FILE rejects a test rating that differs from the data's, naming both lines") {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string data_path = (dir / "curec_split_spec_data.tsv").string();
  const std::string test_path = (dir / "curec_split_spec_changed.tsv").string();
  std::ofstream(data_path) << "1\t10\t4\t100\n2\t10\t3\t101\n2\t11\t5\t102\n3\t12\t1\t103\n";
  std::ofstream(test_path) << "3\t12\t1\t103\n2\t11\t2\t102\n";
  RatingsSource src{read_ratings_file(data_path), data_path};
  std::string e = testing::error_of([&] { split_by_spec(src, "test:" + test_path, 0); });
  CHECK(e.find(test_path + ", line 2: test rating 2 of (user 2, item 11) differs from the data's rating 5 at " +
               data_path + ", line 3") != std::string::npos);
  // The same rows unchanged split cleanly.
  std::ofstream(test_path) << "3\t12\t1\t103\n2\t11\t5\t102\n";
  NamedSplit ok = split_by_spec(src, "test:" + test_path, 0);
  CHECK(ok.split.test.size() == 2);
  CHECK(ok.split.train.size() == 2);
  std::remove(data_path.c_str());
  std::remove(test_path.c_str());
}

TEST_CASE("split_by_spec refuses a split that leaves either half empty") {
  RatingsSource src = synthetic_source();
  CHECK(testing::error_of([&] { split_by_spec(src, "random:1e-300", 0); })
            .find("--split random:1e-300 of synthetic (") != std::string::npos);
  CHECK(testing::error_of([&] { split_by_spec(src, "random:1e-300", 0); }).find("leaves the test set empty") !=
        std::string::npos);
  CHECK(testing::error_of([&] { split_by_spec(src, "random:0.9999999999", 0); })
            .find("leaves the training set empty") != std::string::npos);
  std::vector<int64_t> all(src.data.size());
  for (size_t r = 0; r < all.size(); ++r) all[r] = static_cast<int64_t>(r);
  std::string path = write_rows(src.data, all, "curec_split_spec_all.tsv");
  CHECK(testing::error_of([&] { split_by_spec(src, "test:" + path, 0); }).find("leaves the training set empty") !=
        std::string::npos);
  std::remove(path.c_str());
}

TEST_CASE("split_by_spec: canonical splits need the ML-100K folder") {
  RatingsSource src = synthetic_source();
  CHECK(testing::error_of([&] { split_by_spec(src, "u1", 0); }).find("pass --data with the ml-100k folder") !=
        std::string::npos);
  CHECK(testing::error_of([&] { split_by_spec(src, "bogus", 0); }).find("unknown split 'bogus'") != std::string::npos);
}

TEST_CASE("ML-100K: --split u1 and --split test:u1.test give the same sets") {
  CUREC_REQUIRE_DATA(udata, "ml-100k/u.data");
  RatingsSource src = load_ratings_source(std::filesystem::path(udata).parent_path().string());
  NamedSplit canonical = split_by_spec(src, "u1", 0);
  CHECK(canonical.split.train.size() == 80000);
  CHECK(canonical.split.test.size() == 20000);
  NamedSplit held = split_by_spec(src, "test:" + src.ml100k_dir + "/u1.test", 0);
  CHECK(pairs(held.split.train) == pairs(canonical.split.train));
  CHECK(pairs(held.split.test) == pairs(canonical.split.test));
}

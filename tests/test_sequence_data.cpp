// Sequence data for sequential recommenders (SASRec): the `user item` reader, time-ordered user
// sequences, k-core filtering, the paper's last-two split, the next-item training examples, and
// MovieLens-1M's first 2,999 users read through all of it.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "app/ratings_source.h"
#include "data/k_core.h"
#include "data/next_item_examples.h"
#include "data/sequence_file.h"
#include "data/sequence_split.h"
#include "tests/testing.h"

using namespace curec;
using namespace curec::data;

namespace {

// A file the test writes, removed with it.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text, const std::string& name = "seq.txt") {
    path = (std::filesystem::temp_directory_path() / ("curec_" + std::to_string(::getpid()) + "_" + name)).string();
    std::ofstream(path) << text;
  }
  ~TempFile() { std::filesystem::remove(path); }
};

std::vector<int32_t> items_of(const UserSequences& s, int32_t u) { return {s.of(u).begin(), s.of(u).end()}; }

Interactions rows(const std::vector<std::array<int64_t, 3>>& uit, int32_t users, int32_t items) {
  Interactions d;
  d.num_users = users;
  d.num_items = items;
  for (auto [u, i, t] : uit) d.push_back(static_cast<int32_t>(u), static_cast<int32_t>(i), 1.0f, t);
  return d;
}

}  // namespace

TEST_CASE("the user item format: ids kept (dense = raw - 1), each user's lines in file order") {
  // User 3's lines are not adjacent; user 2 has none; item 6 is the largest id.
  TempFile f("1 1\n3 4\n1 2\t\n  1 6\n3 2\n");
  Interactions d = read_sequence_file(f.path);
  CHECK(d.num_users == 3);
  CHECK(d.num_items == 6);
  CHECK(d.size() == 5);
  CHECK(d.users->raw(2) == 3);
  CHECK(d.items->raw(5) == 6);
  UserSequences s = user_sequences(d);
  CHECK(items_of(s, 0) == std::vector<int32_t>{0, 1, 5});
  CHECK(s.length(1) == 0);
  CHECK(items_of(s, 2) == std::vector<int32_t>{3, 1});
  // Through the tool's --data spec.
  app::RatingsSource src = app::load_ratings_source("seq:" + f.path);
  CHECK(src.data.size() == 5);
  CHECK(src.description.find("user item sequences") != std::string::npos);
  CHECK(testing::error_of([] { app::load_ratings_source("seq:/nonexistent/seq.txt"); }).find("no such sequences file") !=
        std::string::npos);
}

TEST_CASE("user sequences: a stable sort by timestamp, ties in row order") {
  Interactions d = rows({{0, 5, 30}, {1, 0, 1}, {0, 2, 10}, {0, 7, 30}, {0, 1, 20}, {0, 3, 30}, {1, 9, 0}}, 2, 10);
  UserSequences s = user_sequences(d);
  CHECK(items_of(s, 0) == std::vector<int32_t>{2, 1, 5, 7, 3});
  CHECK(items_of(s, 1) == std::vector<int32_t>{9, 0});
  CHECK(s.offsets == std::vector<int64_t>{0, 5, 7});
}

TEST_CASE("k-core filtering iterates until every user and item has k interactions") {
  // Item 3 has 1 row: dropping it leaves user 2 with 1 row, whose drop leaves item 2 with 1 row...
  Interactions d = rows({{0, 0, 0}, {0, 1, 1}, {1, 0, 2}, {1, 1, 3}, {2, 2, 4}, {2, 3, 5}, {0, 2, 6}}, 3, 4);
  Interactions k2 = k_core(d, 2);
  CHECK(k2.size() == 4);
  CHECK(k2.num_users == 2);
  CHECK(k2.num_items == 2);
  CHECK(k2.user == std::vector<int32_t>{0, 0, 1, 1});
  CHECK(k2.item == std::vector<int32_t>{0, 1, 0, 1});
  CHECK(k2.timestamp == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(k_core(d, 1).size() == d.size());
  CHECK(testing::error_of([&] { k_core(d, 3); }).find("k = 3 removes every interaction") != std::string::npos);
  // Raw ids survive the renumbering.
  TempFile f("5 10\n5 20\n7 10\n7 20\n9 30\n");
  Interactions r = k_core(read_sequence_file(f.path), 2);
  CHECK(r.users->raw_ids() == std::vector<int64_t>{5, 7});
  CHECK(r.items->raw_ids() == std::vector<int64_t>{10, 20});
}

TEST_CASE("the paper's split: last item test, second-last validation, fewer than 3 train only") {
  UserSequences s = UserSequences::from_lists({{0, 1, 2, 3}, {4, 5}, {6}, {2, 1, 0}, {}}, 7);
  SequenceSplit sp = split_last_two(s);
  CHECK(items_of(sp.train, 0) == std::vector<int32_t>{0, 1});
  CHECK(sp.valid[0] == 2);
  CHECK(sp.test[0] == 3);
  CHECK(items_of(sp.train, 1) == std::vector<int32_t>{4, 5});
  CHECK(sp.valid[1] == -1);
  CHECK(sp.test[1] == -1);
  CHECK(items_of(sp.train, 2) == std::vector<int32_t>{6});
  CHECK(items_of(sp.train, 3) == std::vector<int32_t>{2});
  CHECK(sp.test[3] == 0);
  CHECK(sp.train.length(4) == 0);
  CHECK(sp.evaluated_users() == 2);
}

TEST_CASE("next-item examples: input items[:-1], positives items[1:], last maxlen, left-padded") {
  UserSequences s = UserSequences::from_lists({{0, 1, 2, 3, 4}, {5}, {6, 7}}, 8);
  NextItemExamples x = next_item_examples(s, 3);
  REQUIRE(x.size() == 2);  // the one-item user has no next item
  CHECK(x.users.to_vector<int32_t>() == std::vector<int32_t>{0, 2});
  // Sequence ids are dense + 1; user 0's input 0..3 keeps its last 3.
  CHECK(x.inputs.to_vector<int64_t>() == std::vector<int64_t>{2, 3, 4, 0, 0, 7});
  CHECK(x.positives.to_vector<int64_t>() == std::vector<int64_t>{3, 4, 5, 0, 0, 8});
  CHECK(x.mask.to_vector<float>() == std::vector<float>{1, 1, 1, 0, 0, 1});
  CHECK(x.mean_positions == doctest::Approx(2.0));
  // Negatives: sequence ids outside the user's training items, never the padding.
  NegativeSampler neg = next_item_negatives(s, 3, 7);
  CHECK(neg.num_items() == 9);
  CHECK(neg.k() == 3);
  for (uint64_t epoch = 1; epoch <= 20; ++epoch) {
    std::vector<int64_t> drawn = neg.sample(x.users, epoch).to_vector<int64_t>();
    for (size_t j = 0; j < drawn.size(); ++j) {
      const int64_t id = drawn[j];
      CHECK(id >= 1);
      CHECK(id <= 8);
      if (j < 3) CHECK((id < 1 || id > 5));  // user 0 chose sequence ids 1..5
      else CHECK((id != 7 && id != 8));
    }
  }
  CHECK(testing::error_of([&] { next_item_examples(UserSequences::from_lists({{1}, {2}}, 3), 4); })
            .find("no user has two training items") != std::string::npos);
  CHECK(testing::error_of([&] { next_item_examples(s, 0); }).find("maxlen must be at least 1") != std::string::npos);
}

TEST_CASE("a user with one item is a documented rule: kept, trained on nothing, not evaluated") {
  TempFile f("1 1\n2 2\n2 3\n2 4\n2 1\n");
  SequenceSplit sp = split_last_two(user_sequences(read_sequence_file(f.path)));
  CHECK(sp.train.length(0) == 1);
  CHECK(sp.test[0] == -1);
  CHECK(sp.evaluated_users() == 1);
  NextItemExamples x = next_item_examples(sp.train, 4);
  CHECK(x.users.to_vector<int32_t>() == std::vector<int32_t>{1});
}

TEST_CASE("MovieLens-1M's first 2,999 users as sequences (ml-1m-3k)") {
  const std::string ratings = testing::require_data("ml-1m-3k/ratings.dat");
  if (ratings.empty()) return;
  Interactions d = app::load_ratings_source(std::filesystem::path(ratings).parent_path().string()).data;
  UserSequences s = user_sequences(d);
  CHECK(s.num_users == 2999);
  CHECK(s.num_items == 3615);
  CHECK(s.size() == 487650);
  SequenceSplit sp = split_last_two(s);
  CHECK(sp.evaluated_users() == 2999);  // every user has >= 20 ratings
  CHECK(sp.train.size() == 487650 - 2 * 2999);
  // User 1 (dense 0) has 53 ratings; their latest is movie 48, and of the two rated at
  // 978824330 the later line (movie 1907) is the validation item.
  CHECK(s.length(0) == 53);
  CHECK(d.items->raw(sp.test[0]) == 48);
  CHECK(d.items->raw(sp.valid[0]) == 1907);
  CHECK(d.items->raw(sp.train.of(0).back()) == 1566);
  CHECK(next_item_examples(sp.train, 200).size() == 2999);
}

TEST_CASE("MovieLens-100K as sequences: every user has at least 20 ratings, so all are evaluated") {
  const std::string udata = testing::require_data("ml-100k/u.data");
  if (udata.empty()) return;
  SequenceSplit sp = split_last_two(user_sequences(app::load_ratings_source(std::filesystem::path(udata).parent_path().string()).data));
  CHECK(sp.num_users() == 943);
  CHECK(sp.num_items() == 1682);
  CHECK(sp.all.size() == 100000);
  CHECK(sp.evaluated_users() == 943);
  CHECK(sp.train.size() == 100000 - 2 * 943);
  // k-core with k = 20 keeps every user (each has >= 20) but drops the rarely rated items.
  Interactions d = app::load_ratings_source(std::filesystem::path(udata).parent_path().string()).data;
  Interactions k20 = k_core(d, 20);
  CHECK(k20.num_items < 1682);
  std::vector<int64_t> per_user(k20.num_users), per_item(k20.num_items);
  for (size_t r = 0; r < k20.size(); ++r) ++per_user[k20.user[r]], ++per_item[k20.item[r]];
  CHECK(*std::min_element(per_user.begin(), per_user.end()) >= 20);
  CHECK(*std::min_element(per_item.begin(), per_item.end()) >= 20);
}

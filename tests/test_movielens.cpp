#include <cstdio>
#include <fstream>

#include "data/id_map.h"
#include "data/line_reader.h"
#include "data/movielens.h"
#include "data/ratings_reader.h"
#include "data/stats.h"
#include "tests/testing.h"

using namespace curec;
using namespace curec::data;

namespace {
std::string ml100k_dir() {
  std::string p = testing::require_data("ml-100k/u.data");
  return p.empty() ? "" : p.substr(0, p.size() - std::string("/u.data").size());
}

std::string write_temp(const std::string& name, const std::string& text) {
  std::string path = "/tmp/curec_test_movielens_" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}
}  // namespace

TEST_CASE("ML-100K: statistics and rating histogram") {
  std::string dir = ml100k_dir();
  if (dir.empty()) return;
  Interactions d = read_ml100k(dir);
  Stats s = stats(d);
  CHECK(s.num_users == 943);
  CHECK(s.num_items == 1682);
  CHECK(s.num_ratings == 100000);
  CHECK(s.sparsity == doctest::Approx(0.936953).epsilon(1e-6));
  CHECK(s.histogram == std::map<float, int64_t>{{1.f, 6110}, {2.f, 11370}, {3.f, 27145}, {4.f, 34174}, {5.f, 21201}});
  // Dense ids are the book's `id - 1`: the first line is "196 242 3 881250949".
  CHECK(d.user[0] == 195);
  CHECK(d.item[0] == 241);
  CHECK(d.rating[0] == 3.0f);
  CHECK(d.timestamp[0] == 881250949);
  CHECK(d.users->raw(0) == 1);
  CHECK(d.items->dense(1682) == 1681);
  d.validate();
  Interactions imp = d.implicit();
  CHECK(stats(imp).histogram == std::map<float, int64_t>{{1.f, 100000}});
  CHECK(imp.user == d.user);
}

TEST_CASE("ML-100K: titles decode Latin-1 to UTF-8, users parse") {
  std::string dir = ml100k_dir();
  if (dir.empty()) return;
  std::vector<std::string> titles = read_ml100k_titles(dir);
  REQUIRE(titles.size() == 1682);
  CHECK(titles[0] == "Toy Story (1995)");
  CHECK(titles[1681] == "Scream of Stone (Schrei aus Stein) (1991)");
  // u.item line 543 holds "Mis\xe9rables, Les (1995)" in Latin-1.
  CHECK(titles[542] == "Mis\xC3\xA9rables, Les (1995)");
  std::vector<Ml100kItem> items = read_ml100k_items(dir);
  CHECK(items[0].release_date == "01-Jan-1995");
  CHECK(items[0].genres == ((1u << 3) | (1u << 4) | (1u << 5)));  // Animation, Children's, Comedy
  std::vector<Ml100kUser> users = read_ml100k_users(dir);
  REQUIRE(users.size() == 943);
  CHECK(users[0].age == 24);
  CHECK(users[0].gender == 'M');
  CHECK(users[0].occupation == "technician");
  CHECK(users[0].zip == "85711");
}

TEST_CASE("latin1_to_utf8 encodes every high byte as two bytes") {
  CHECK(latin1_to_utf8("abc") == "abc");
  CHECK(latin1_to_utf8("\xe9\xff\x80") == "\xC3\xA9\xC3\xBF\xC2\x80");
}

TEST_CASE("IdMap: dense ids follow numeric order, sparse ranges too") {
  IdMap m = IdMap::from_raw({30, 10, 20, 10}, "user");
  CHECK(m.size() == 3);
  CHECK(m.dense(10) == 0);
  CHECK(m.dense(30) == 2);
  CHECK(m.raw(1) == 20);
  CHECK_FALSE(m.find(15).has_value());
  CHECK_THROWS_AS(m.dense(11), Error);
  CHECK_THROWS_AS(m.raw(3), Error);
  IdMap sparse = IdMap::from_raw({int64_t(1) << 40, 5, -(int64_t(1) << 50), 5}, "item");
  CHECK(sparse.size() == 3);
  CHECK(sparse.dense(-(int64_t(1) << 50)) == 0);
  CHECK(sparse.dense(5) == 1);
  CHECK(sparse.dense(int64_t(1) << 40) == 2);
  CHECK_FALSE(sparse.find(6).has_value());
}

TEST_CASE("read_ratings: ratings.dat, ratings.csv with half stars, generic TSV without timestamps") {
  std::string dat = write_temp("ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n");
  Interactions a = read_ratings(dat, RatingsFormat::ml_dat());
  CHECK(a.size() == 3);
  CHECK(a.num_users == 2);
  CHECK(a.num_items == 2);
  CHECK(a.item == std::vector<int32_t>{1, 0, 1});  // 661 < 1193
  CHECK(a.timestamp[2] == 978298413);

  std::string csv = write_temp("ratings.csv", "userId,movieId,rating,timestamp\r\n1,31,2.5,1260759144\r\n7,1029,0.5,1\r\n");
  Interactions b = read_ratings(csv, RatingsFormat::ml_csv());
  CHECK(b.rating == std::vector<float>{2.5f, 0.5f});
  CHECK(b.user == std::vector<int32_t>{0, 1});
  RatingsFormat f = detect_ratings_format(csv);
  CHECK(f.separator == ",");
  CHECK(f.header);
  CHECK(f.has_timestamp);

  std::string tsv = write_temp("generic.tsv", "10\t7\t1\n3\t7\t0.5\n");
  RatingsFormat g = detect_ratings_format(tsv);
  CHECK(g.separator == "\t");
  CHECK_FALSE(g.header);
  CHECK_FALSE(g.has_timestamp);
  Interactions c = read_ratings(tsv, g);
  CHECK(c.user == std::vector<int32_t>{1, 0});
  CHECK(c.timestamp == std::vector<int64_t>{0, 0});
  // A last line without '\n' is fine when it is complete.
  std::string open_end = write_temp("open_end.csv", "1;2;3");
  CHECK(read_ratings(open_end, RatingsFormat::csv(";", false, false)).size() == 1);
  CHECK(detect_ratings_format(dat).separator == "::");
}

TEST_CASE("read_ratings: fixed id maps reject unknown ids with the line") {
  std::string full = write_temp("full.tsv", "1\t1\t5\t0\n2\t3\t4\t0\n");
  Interactions d = read_ratings(full, RatingsFormat::ml100k());
  std::string part = write_temp("part.tsv", "2\t3\t4\t0\n2\t2\t4\t0\n");
  try {
    read_ratings(part, RatingsFormat::ml100k(), d.users, d.items);
    FAIL("expected an error");
  } catch (const Error& e) {
    std::string m = e.what();
    CHECK(m.find("part.tsv") != std::string::npos);
    CHECK(m.find("line 2:") != std::string::npos);
    CHECK(m.find("item id 2 out of range") != std::string::npos);
  }
}

TEST_CASE("Interactions: subset keeps id spaces; columns become tensors") {
  std::string full = write_temp("cols.tsv", "1\t1\t5\t10\n2\t3\t4\t20\n2\t1\t2\t30\n");
  Interactions d = read_ratings(full, RatingsFormat::ml100k());
  Interactions s = d.subset({2, 0});
  CHECK(s.num_users == 2);
  CHECK(s.num_items == 2);
  CHECK(s.users == d.users);
  CHECK(s.rating == std::vector<float>{2, 5});
  CHECK_THROWS_AS(d.subset({3}), Error);
  Tensor u = s.users_tensor();
  CHECK(u.dtype() == DType::i32);
  CHECK(u.to_vector<int32_t>() == std::vector<int32_t>{1, 0});
  CHECK(s.ratings_tensor().to_vector<float>() == std::vector<float>{2, 5});
  CHECK(s.items_tensor().to_vector<int32_t>() == std::vector<int32_t>{0, 0});
  CHECK(s.timestamps_tensor().to_vector<int64_t>() == std::vector<int64_t>{30, 10});
}

TEST_CASE("split_fields counts every field, including past the stored ones") {
  std::string_view f[3];
  CHECK(split_fields("a::b::c::d", "::", f, 3) == 4);
  CHECK(f[2] == "c");
  CHECK(split_fields("", ",", f, 3) == 1);
  CHECK(split_fields("x,,", ",", f, 3) == 3);
  CHECK(f[1].empty());
}

TEST_SUITE("cuda") {
  TEST_CASE("Interactions columns on the GPU") {
    std::string full = write_temp("gpu.tsv", "1\t1\t5\t10\n2\t3\t4\t20\n");
    Interactions d = read_ratings(full, RatingsFormat::ml100k());
    Tensor u = d.users_tensor(Device::cuda(0));
    CHECK(u.is_cuda());
    CHECK(u.to_vector<int32_t>() == d.user);
    CHECK(d.ratings_tensor(Device::cuda(0)).to_vector<float>() == d.rating);
  }
}

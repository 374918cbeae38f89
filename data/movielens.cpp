#include "data/movielens.h"

#include "core/error.h"
#include "data/line_reader.h"
#include "data/ratings_reader.h"

namespace curec::data {
namespace {

std::string join(const std::string& dir, const char* file) {
  return dir.empty() || dir.back() == '/' ? dir + file : dir + "/" + file;
}

// Raw id of a `|`-separated ML-100K metadata line; ids must run 1, 2, 3, ... in file order so
// that index = raw id - 1 agrees with the dense ids of u.data.
void check_next_id(const LineReader& in, std::string_view field, size_t expected) {
  int64_t id;
  if (!parse_int64(field, id)) in.fail("id " + quote_field(field) + " is not an integer");
  if (id != static_cast<int64_t>(expected))
    in.fail("id " + std::to_string(id) + " out of range: expected " + std::to_string(expected) +
            " (ids must run 1..n in file order)");
}

}  // namespace

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (unsigned char c : s) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

Interactions read_ml100k(const std::string& dir) { return read_ratings(join(dir, "u.data"), RatingsFormat::ml100k()); }
Interactions read_ml_dat(const std::string& dir) { return read_ratings(join(dir, "ratings.dat"), RatingsFormat::ml_dat()); }
Interactions read_ml_csv(const std::string& dir) { return read_ratings(join(dir, "ratings.csv"), RatingsFormat::ml_csv()); }

std::vector<Ml100kItem> read_ml100k_items(const std::string& dir) {
  constexpr int kFields = 5 + kMl100kGenres;  // id|title|release|video release|url|19 genre flags
  LineReader in(join(dir, "u.item"));
  if (in.empty()) in.fail_at(1, "empty file (no items)");
  std::vector<Ml100kItem> items;
  std::string_view line, f[kFields];
  while (in.next(line)) {
    const int n = split_fields(line, "|", f, kFields);
    if (n != kFields) {
      if (in.unterminated() && n < kFields)
        in.fail("truncated last line (no trailing newline, " + std::to_string(n) + " of " +
                std::to_string(kFields) + " fields)");
      in.fail("wrong column count: expected " + std::to_string(kFields) + " fields separated by '|', found " +
              std::to_string(n));
    }
    check_next_id(in, f[0], items.size() + 1);
    Ml100kItem item;
    item.title = latin1_to_utf8(f[1]);
    item.release_date = std::string(f[2]);
    for (int g = 0; g < kMl100kGenres; ++g) {
      std::string_view flag = f[5 + g];
      if (flag != "0" && flag != "1") in.fail("genre flag " + quote_field(flag) + " is not 0 or 1");
      if (flag == "1") item.genres |= 1u << g;
    }
    items.push_back(std::move(item));
  }
  return items;
}

std::vector<std::string> read_ml100k_titles(const std::string& dir) {
  std::vector<std::string> titles;
  for (auto& item : read_ml100k_items(dir)) titles.push_back(std::move(item.title));
  return titles;
}

std::vector<Ml100kUser> read_ml100k_users(const std::string& dir) {
  constexpr int kFields = 5;  // id|age|gender|occupation|zip
  LineReader in(join(dir, "u.user"));
  if (in.empty()) in.fail_at(1, "empty file (no users)");
  std::vector<Ml100kUser> users;
  std::string_view line, f[kFields];
  while (in.next(line)) {
    const int n = split_fields(line, "|", f, kFields);
    if (n != kFields) {
      if (in.unterminated() && n < kFields)
        in.fail("truncated last line (no trailing newline, " + std::to_string(n) + " of 5 fields)");
      in.fail("wrong column count: expected 5 fields separated by '|', found " + std::to_string(n));
    }
    check_next_id(in, f[0], users.size() + 1);
    Ml100kUser u;
    int64_t age;
    if (!parse_int64(f[1], age)) in.fail("age " + quote_field(f[1]) + " is not an integer");
    if (age < 0 || age > 150) in.fail("age " + std::to_string(age) + " out of range [0, 150]");
    u.age = static_cast<int32_t>(age);
    if (f[2] != "M" && f[2] != "F") in.fail("gender " + quote_field(f[2]) + " is not M or F");
    u.gender = f[2][0];
    u.occupation = std::string(f[3]);
    u.zip = std::string(f[4]);
    users.push_back(std::move(u));
  }
  return users;
}

}  // namespace curec::data

#pragma once
// The MovieLens files: ML-100K (u.data, u.item, u.user), ML-1M/10M ratings.dat and
// ML latest/20M/25M ratings.csv.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/interactions.h"

namespace curec::data {

// DIR/u.data: 100,000 ratings 1..5 by 943 users of 1,682 items; dense id = raw id - 1.
Interactions read_ml100k(const std::string& dir);

struct Ml100kItem {
  std::string title;         // UTF-8 (u.item is Latin-1)
  std::string release_date;  // "01-Jan-1995", empty when unknown
  uint32_t genres = 0;       // bit g set when the item has genre g of u.genre (19 genres)
};
constexpr int kMl100kGenres = 19;

// DIR/u.item, index = dense item id (raw id - 1; the ids must run 1..n).
std::vector<Ml100kItem> read_ml100k_items(const std::string& dir);
std::vector<std::string> read_ml100k_titles(const std::string& dir);

struct Ml100kUser {
  int32_t age = 0;
  char gender = '?';  // 'M' or 'F'
  std::string occupation, zip;
};
// DIR/u.user, index = dense user id (raw id - 1; the ids must run 1..n).
std::vector<Ml100kUser> read_ml100k_users(const std::string& dir);

// ML-1M / ML-10M: DIR/ratings.dat ("::"). ML latest / 20M / 25M: DIR/ratings.csv.
Interactions read_ml_dat(const std::string& dir);
Interactions read_ml_csv(const std::string& dir);

// Latin-1 bytes to UTF-8 (every byte >= 0x80 becomes two bytes).
std::string latin1_to_utf8(std::string_view latin1);

}  // namespace curec::data

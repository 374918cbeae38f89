// ML-100K's metadata files (u.item titles and genres, u.user demographics), which `curec
// recommend` reads beside the ratings: the first byte picks the file, the rest is its content.
#include <sys/stat.h>

#include "data/movielens.h"
#include "tests/fuzz/fuzz_input.h"

using namespace curec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static fuzz::InputFile dir("ml-100k"), item("ml-100k/u.item"), user("ml-100k/u.user");
  static const bool made = ::mkdir(dir.path().c_str(), 0700) == 0;
  if (!made) fuzz::finding("cannot create " + dir.path());
  if (size == 0) return 0;
  const std::string_view content(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  if (bytes[0] % 2 == 0) {
    item.write(content);
    std::vector<data::Ml100kItem> items;
    if (fuzz::accepts([&] { items = data::read_ml100k_items(dir.path()); }))
      fuzz::require(!items.empty(), "an accepted u.item has items");
  } else {
    user.write(content);
    std::vector<data::Ml100kUser> users;
    if (fuzz::accepts([&] { users = data::read_ml100k_users(dir.path()); })) {
      fuzz::require(!users.empty(), "an accepted u.user has users");
      for (const auto& u : users) fuzz::require(u.age >= 0 && u.age <= 150 && (u.gender == 'M' || u.gender == 'F'),
                                                "ages and genders in range");
    }
  }
  return 0;
}

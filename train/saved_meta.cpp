#include "train/saved_meta.h"

#include <sstream>
#include <vector>

#include "core/error.h"

namespace curec::train {
namespace {
std::string join_ids(const std::vector<int64_t>& ids) {
  std::ostringstream os;
  for (size_t i = 0; i < ids.size(); ++i) os << (i ? "," : "") << ids[i];
  return os.str();
}
}  // namespace

std::map<std::string, std::string> data_meta(const data::RatingsSource& source, const RunOptions& o,
                                             const std::string& split) {
  CUREC_CHECK(source.data.users && source.data.items, "saving a model of ", source.description,
              ": the data has no raw ids to record");
  return {{"user_ids", join_ids(source.data.users->raw_ids())},
          {"item_ids", join_ids(source.data.items->raw_ids())},
          {"data", source.ml100k_dir.empty() ? o.data : source.ml100k_dir},
          {"split", split},
          {"seed", std::to_string(o.seed)}};
}

}  // namespace curec::train

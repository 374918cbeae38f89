#include "app/saved_meta.h"

#include <cstdio>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "nn/serialize.h"

namespace curec::app {

std::string join_ids(const std::vector<int64_t>& ids) {
  std::ostringstream os;
  for (size_t i = 0; i < ids.size(); ++i) os << (i ? "," : "") << ids[i];
  return os.str();
}

std::map<std::string, std::string> data_meta(const RatingsSource& source, const RunSettings& s,
                                             const std::string& split) {
  CUREC_CHECK(source.data.users && source.data.items, "saving a model of ", source.description,
              ": the data has no raw ids to record");
  return {{"user_ids", join_ids(source.data.users->raw_ids())},
          {"item_ids", join_ids(source.data.items->raw_ids())},
          {"data", source.ml100k_dir.empty() ? s.data_spec() : source.ml100k_dir},
          {"split", split},
          {"seed", std::to_string(s.seed)}};
}

void save_if_asked(const RunSettings& s, const nn::Module& model, const std::map<std::string, std::string>& meta) {
  if (!s.save.empty()) save_if_asked(s, model.state_dict(), meta);
}

void save_if_asked(const RunSettings& s, const nn::StateDict& state, const std::map<std::string, std::string>& meta) {
  if (s.save.empty()) return;
  CUREC_CHECK(meta.count("model"), "save_if_asked: the record must name the model");
  nn::save_state(s.save, state, meta);
  if (s.verbose) std::printf("saved %s\n", s.save.c_str());
}

}  // namespace curec::app

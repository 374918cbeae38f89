#pragma once
// Where curec looks for data sets.
#include <string>

namespace curec::data {

// $CUREC_DATA_DIR when set; else the download cache ($XDG_CACHE_HOME/curec or ~/.cache/curec)
// when it holds data; else ../shared/data beside the source checkout (the project's shared
// test data), else the download cache.
std::string default_data_dir();
std::string cache_dir();

}  // namespace curec::data

#include "data/paths.h"

#include <cstdlib>
#include <filesystem>

namespace curec::data {

std::string cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/curec";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/curec";
  return ".curec-cache";
}

std::string default_data_dir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("CUREC_DATA_DIR"); env && *env) return env;
  std::string cache = cache_dir();
  std::error_code ec;
  if (fs::is_directory(cache, ec) && !fs::is_empty(cache, ec)) return cache;
#ifdef CUREC_SOURCE_DIR
  fs::path shared = fs::path(CUREC_SOURCE_DIR) / ".." / "shared" / "data";
  if (fs::is_directory(shared, ec)) return fs::weakly_canonical(shared, ec).string();
#endif
  return cache;
}

}  // namespace curec::data

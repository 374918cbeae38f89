#include "core/error.h"

namespace curec {

static std::string short_path(const char* file) {
  std::string f = file ? file : "?";
  for (const char* layer : {"/core/", "/ops/", "/nn/", "/models/", "/data/", "/train/", "/examples/", "/bench/", "/tests/"}) {
    auto pos = f.rfind(layer);
    if (pos != std::string::npos) return f.substr(pos + 1);
  }
  return f;
}

Error::Error(const std::string& message, const char* file, int line)
    : std::runtime_error(message + " [" + short_path(file) + ":" + std::to_string(line) + "]"),
      message_(message), file_(file), line_(line) {}

}  // namespace curec

#pragma once
// One exception type for everything curec reports: what failed, where, and what to do.
#include <sstream>
#include <stdexcept>
#include <string>

namespace curec {

class Error : public std::runtime_error {
 public:
  Error(const std::string& message, const char* file, int line);
  const std::string& message() const { return message_; }
  const char* file() const { return file_; }
  int line() const { return line_; }

 private:
  std::string message_;
  const char* file_;
  int line_;
};

namespace detail {
template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail
}  // namespace curec

#define CUREC_FAIL(...) throw ::curec::Error(::curec::detail::concat(__VA_ARGS__), __FILE__, __LINE__)
#define CUREC_CHECK(cond, ...)        \
  do {                                \
    if (!(cond)) CUREC_FAIL(__VA_ARGS__); \
  } while (0)

#include "data/line_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

#include "core/error.h"

namespace curec::data {

LineReader::LineReader(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  CUREC_CHECK(fd >= 0, "cannot open '", path, "': ", std::strerror(errno), "; check the path and permissions");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    CUREC_FAIL("cannot stat '", path, "': ", std::strerror(err));
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      CUREC_FAIL("cannot map '", path, "' (", size_, " bytes): ", std::strerror(err));
    }
    ::madvise(p, size_, MADV_SEQUENTIAL);
    data_ = static_cast<const char*>(p);
    mapped_ = true;
  }
  ::close(fd);
}

LineReader::~LineReader() {
  if (mapped_) ::munmap(const_cast<char*>(data_), size_);
}

bool LineReader::next(std::string_view& line) {
  if (pos_ >= size_) return false;
  const char* start = data_ + pos_;
  const void* nl = std::memchr(start, '\n', size_ - pos_);
  size_t len;
  if (nl) {
    len = static_cast<size_t>(static_cast<const char*>(nl) - start);
    pos_ += len + 1;
    unterminated_ = false;
  } else {
    len = size_ - pos_;
    pos_ = size_;
    unterminated_ = true;
  }
  if (len > 0 && start[len - 1] == '\r') --len;
  line = std::string_view(start, len);
  ++line_;
  return true;
}

void LineReader::fail(const std::string& what) const { fail_at(line_, what); }

void LineReader::fail_at(int64_t line, const std::string& what) const {
  CUREC_FAIL("file '", path_, "', line ", line, ": ", what);
}

int split_fields(std::string_view line, std::string_view sep, std::string_view* fields, int max_fields) {
  int n = 0;
  size_t start = 0;
  if (sep.size() == 1) {
    const char c = sep[0];
    const char* base = line.data();
    for (;;) {
      const void* hit = std::memchr(base + start, c, line.size() - start);
      size_t end = hit ? static_cast<size_t>(static_cast<const char*>(hit) - base) : line.size();
      if (n < max_fields) fields[n] = line.substr(start, end - start);
      ++n;
      if (!hit) return n;
      start = end + 1;
    }
  }
  for (;;) {
    size_t end = line.find(sep, start);
    if (n < max_fields) fields[n] = line.substr(start, (end == std::string_view::npos ? line.size() : end) - start);
    ++n;
    if (end == std::string_view::npos) return n;
    start = end + sep.size();
  }
}

bool parse_int64(std::string_view f, int64_t& out) {
  if (f.empty()) return false;
  auto r = std::from_chars(f.data(), f.data() + f.size(), out);
  return r.ec == std::errc() && r.ptr == f.data() + f.size();
}

bool parse_float(std::string_view f, float& out) {
  if (f.empty()) return false;
  auto r = std::from_chars(f.data(), f.data() + f.size(), out);
  return r.ec == std::errc() && r.ptr == f.data() + f.size();
}

std::string describe_separator(std::string_view sep) {
  std::string s = "'";
  for (char c : sep) s += c == '\t' ? std::string("\\t") : std::string(1, c);
  return s + "'";
}

std::string quote_field(std::string_view field) {
  constexpr size_t kMax = 40;
  std::string s(1, '"');
  s.append(field.substr(0, kMax));
  if (field.size() > kMax) s.append("...");
  s.push_back('"');
  return s;
}

}  // namespace curec::data

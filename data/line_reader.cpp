#include "data/line_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

#include "core/error.h"

namespace curec::data {

namespace {

// What a non-regular file is, for the message that refuses it.
const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

[[noreturn]] void refuse(const std::string& path, const char* kind) {
  CUREC_FAIL("cannot read '", path, "': it is ", kind, ", not a regular file; give the path of a data file");
}

// A UTF-8 byte order mark (as some editors and spreadsheet exports write) is not content.
size_t bom_length(const char* data, size_t size) {
  return size >= 3 && std::memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

}  // namespace

LineReader::LineReader(const std::string& path) : path_(path) {
  // stat before open: opening a FIFO for reading would block until a writer appears.
  struct stat st {};
  CUREC_CHECK(::stat(path.c_str(), &st) == 0, "cannot open '", path, "': ", std::strerror(errno),
              "; check the path and permissions");
  if (!S_ISREG(st.st_mode)) refuse(path, file_kind(st.st_mode));
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
  CUREC_CHECK(fd >= 0, "cannot open '", path, "': ", std::strerror(errno), "; check the path and permissions");
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    CUREC_FAIL("cannot stat '", path, "': ", std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {  // replaced between stat and open
    ::close(fd);
    refuse(path, file_kind(st.st_mode));
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ == 0) {
    // /proc and /sys files report size 0 but have content: they cannot be mapped.
    char probe;
    const bool has_content = ::read(fd, &probe, 1) > 0;
    ::close(fd);
    if (has_content) refuse(path, "a pseudo-file of unknown size (as in /proc or /sys)");
    return;
  }
  void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) {
    int err = errno;
    ::close(fd);
    CUREC_FAIL("cannot map '", path, "' (", size_, " bytes): ", std::strerror(err));
  }
  ::madvise(p, size_, MADV_SEQUENTIAL);
  data_ = static_cast<const char*>(p);
  mapped_ = true;
  ::close(fd);
  pos_ = begin_ = bom_length(data_, size_);
}

LineReader::LineReader(std::string name, std::string_view bytes)
    : path_(std::move(name)), data_(bytes.data()), size_(bytes.size()) {
  pos_ = begin_ = bom_length(data_, size_);
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
  // A NUL would end every C string made of this line (messages, paths); the file is binary.
  if (const void* nul = std::memchr(start, '\0', len))
    fail("a NUL byte at column " + std::to_string(static_cast<const char*>(nul) - start + 1) +
         ": this is not a text file (binary or corrupted data)");
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
  for (unsigned char c : field.substr(0, kMax)) {
    if (c == '\t') s += "\\t";
    else if (c == '\r') s += "\\r";
    else if (c < 0x20 || c == 0x7f) {
      const char* hex = "0123456789abcdef";
      s += "\\x";
      s += hex[c >> 4];
      s += hex[c & 15];
    } else s += static_cast<char>(c);
  }
  if (field.size() > kMax) s.append("...");
  s.push_back('"');
  return s;
}

}  // namespace curec::data

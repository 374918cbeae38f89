#pragma once
// The streaming text parser every reader in data/ shares: the file is memory-mapped, lines
// are string_views into it (no per-line copies), fields are split in place and numbers are
// parsed with std::from_chars. Every error names the file and the 1-based line number.
#include <cstdint>
#include <string>
#include <string_view>

namespace curec::data {

class LineReader {
 public:
  // Throws if the file cannot be opened or is not a regular file (a directory, FIFO, device or
  // /proc pseudo-file). A leading UTF-8 byte order mark is skipped.
  explicit LineReader(const std::string& path);
  // Lines of `bytes` held in memory (which must outlive the reader), named `name` in messages.
  LineReader(std::string name, std::string_view bytes);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its '\n' (and a trailing '\r'); false at the end of the file. A line
  // holding a NUL byte is an error naming the file, line and column.
  bool next(std::string_view& line);
  int64_t line_number() const { return line_; }  // of the line returned last; 0 before
  // True when the line returned last ended the file without a '\n'.
  bool unterminated() const { return unterminated_; }
  bool empty() const { return size_ == begin_; }  // no bytes besides a UTF-8 byte order mark
  size_t bytes() const { return size_; }
  const std::string& path() const { return path_; }

  // Throws curec::Error "file 'PATH', line N: WHAT" for the line returned last.
  [[noreturn]] void fail(const std::string& what) const;
  [[noreturn]] void fail_at(int64_t line, const std::string& what) const;

 private:
  std::string path_;
  const char* data_ = nullptr;
  size_t size_ = 0, pos_ = 0, begin_ = 0;  // begin_: past a UTF-8 byte order mark
  int64_t line_ = 0;
  bool unterminated_ = false;
  bool mapped_ = false;
};

// Splits `line` at `sep` into at most `max_fields` views; returns how many fields the line
// has (which may exceed max_fields: only the first max_fields are stored).
int split_fields(std::string_view line, std::string_view sep, std::string_view* fields, int max_fields);

// from_chars wrappers: the whole field must be the number (no spaces, no trailing text).
bool parse_int64(std::string_view field, int64_t& out);
bool parse_float(std::string_view field, float& out);

// Shows a separator in messages: tab as '\t'.
std::string describe_separator(std::string_view sep);
// A field as it appears in a message (quoted, cut when long).
std::string quote_field(std::string_view field);

}  // namespace curec::data

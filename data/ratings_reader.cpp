#include "data/ratings_reader.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "data/line_reader.h"

namespace curec::data {

RatingsFormat RatingsFormat::ml100k() { return {"\t", false, true, 1.0f, 5.0f}; }
RatingsFormat RatingsFormat::ml_dat() { return {"::", false, true, 0.5f, 5.0f}; }
RatingsFormat RatingsFormat::ml_csv() { return {",", true, true, 0.5f, 5.0f}; }
RatingsFormat RatingsFormat::csv(const std::string& separator, bool header, bool has_timestamp) {
  return {separator, header, has_timestamp, 0.5f, 5.0f};
}

namespace {

constexpr int kMaxFields = 5;

bool looks_integer(std::string_view f) {
  size_t k = (!f.empty() && f[0] == '-') ? 1 : 0;
  if (k == f.size()) return false;
  for (; k < f.size(); ++k)
    if (f[k] < '0' || f[k] > '9') return false;
  return true;
}

std::string fmt_float(float v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

int64_t parse_id(const LineReader& in, std::string_view f, const char* what) {
  int64_t v;
  if (!parse_int64(f, v)) {
    if (looks_integer(f)) in.fail(std::string(what) + " id " + quote_field(f) + " out of range (does not fit in 64 bits)");
    in.fail(std::string(what) + " id " + quote_field(f) + " is not an integer");
  }
  if (v < 0) in.fail(std::string(what) + " id " + std::to_string(v) + " out of range (ids must be >= 0)");
  return v;
}

void check_format(const std::string& path, const RatingsFormat& f) {
  CUREC_CHECK(!f.separator.empty(), "file '", path, "': unknown separator: the format's separator is empty");
  CUREC_CHECK(f.separator.find_first_of("0123456789.-\n\r") == std::string::npos, "file '", path,
              "': unknown separator ", describe_separator(f.separator),
              ": it contains digits, '.', '-' or a line break, which would split numbers");
  CUREC_CHECK(f.min_rating <= f.max_rating, "file '", path, "': rating range [", f.min_rating, ", ", f.max_rating,
              "] is empty");
}

// The raw columns of a ratings file, before ids are mapped.
struct RawRatings {
  std::vector<int64_t> user, item, timestamp;
  std::vector<float> rating;
  int64_t first_line = 1;  // line of row 0
};

RawRatings parse(const std::string& path, const RatingsFormat& fmt) {
  check_format(path, fmt);
  LineReader in(path);
  if (in.empty()) in.fail_at(1, "empty file (no ratings)");
  const int want = fmt.has_timestamp ? 4 : 3;
  const std::string sep_desc = describe_separator(fmt.separator);
  RawRatings raw;
  // A rough row count from the size keeps reallocation off the hot loop.
  const size_t guess = in.bytes() / 20 + 16;
  raw.user.reserve(guess);
  raw.item.reserve(guess);
  raw.rating.reserve(guess);
  if (fmt.has_timestamp) raw.timestamp.reserve(guess);
  std::string_view line, f[kMaxFields];
  if (fmt.header) {
    in.next(line);
    split_fields(line, fmt.separator, f, kMaxFields);
    int64_t ignored;
    if (parse_int64(f[0], ignored))
      in.fail("expected a header line naming the columns, found data " + quote_field(line) +
              "; read it with header = false");
    raw.first_line = 2;
  }
  while (in.next(line)) {
    const int n = split_fields(line, fmt.separator, f, kMaxFields);
    if (n != want) {
      if (in.unterminated() && n < want)
        in.fail("truncated last line (no trailing newline, " + std::to_string(n) + " of " + std::to_string(want) +
                " fields)");
      in.fail("wrong column count: expected " + std::to_string(want) + " fields separated by " + sep_desc +
              ", found " + std::to_string(n) + (line.empty() ? " (empty line)" : ""));
    }
    raw.user.push_back(parse_id(in, f[0], "user"));
    raw.item.push_back(parse_id(in, f[1], "item"));
    float r;
    if (!parse_float(f[2], r)) in.fail("rating " + quote_field(f[2]) + " is not a number");
    if (!(r >= fmt.min_rating && r <= fmt.max_rating))
      in.fail("rating " + fmt_float(r) + " outside the declared range [" + fmt_float(fmt.min_rating) + ", " +
              fmt_float(fmt.max_rating) + "]");
    raw.rating.push_back(r);
    if (fmt.has_timestamp) {
      int64_t t;
      if (!parse_int64(f[3], t)) in.fail("timestamp " + quote_field(f[3]) + " is not an integer");
      raw.timestamp.push_back(t);
    }
  }
  if (raw.user.empty()) in.fail_at(in.line_number() + 1, "empty file (a header but no ratings)");
  if (!fmt.has_timestamp) raw.timestamp.assign(raw.user.size(), 0);
  return raw;
}

Interactions assemble(const std::string& path, RawRatings&& raw, std::shared_ptr<const IdMap> users,
                      std::shared_ptr<const IdMap> items) {
  Interactions out;
  out.users = std::move(users);
  out.items = std::move(items);
  out.num_users = out.users->size();
  out.num_items = out.items->size();
  const size_t n = raw.user.size();
  out.user.resize(n);
  out.item.resize(n);
  for (size_t k = 0; k < n; ++k) {
    auto u = out.users->find(raw.user[k]);
    auto i = out.items->find(raw.item[k]);
    if (!u || !i) {
      const bool bad_user = !u;
      CUREC_FAIL("file '", path, "', line ", raw.first_line + static_cast<int64_t>(k), ": ",
                 bad_user ? "user" : "item", " id ", bad_user ? raw.user[k] : raw.item[k],
                 " out of range: not among the ", bad_user ? out.num_users : out.num_items, " ",
                 bad_user ? "user" : "item", " ids of the data set");
    }
    out.user[k] = *u;
    out.item[k] = *i;
  }
  out.rating = std::move(raw.rating);
  out.timestamp = std::move(raw.timestamp);
  out.first_line = raw.first_line;
  return out;
}

}  // namespace

Interactions read_ratings(const std::string& path, const RatingsFormat& format) {
  RawRatings raw = parse(path, format);
  auto users = std::make_shared<const IdMap>(IdMap::from_raw(raw.user, "user"));
  auto items = std::make_shared<const IdMap>(IdMap::from_raw(raw.item, "item"));
  return assemble(path, std::move(raw), std::move(users), std::move(items));
}

Interactions read_ratings(const std::string& path, const RatingsFormat& format, std::shared_ptr<const IdMap> users,
                          std::shared_ptr<const IdMap> items) {
  CUREC_CHECK(users && items, "read_ratings('", path, "'): the given id maps are null");
  return assemble(path, parse(path, format), std::move(users), std::move(items));
}

RatingsFormat detect_ratings_format(const std::string& path) {
  LineReader in(path);
  if (in.empty()) in.fail_at(1, "empty file (no ratings)");
  std::string_view line;
  in.next(line);
  RatingsFormat fmt;
  bool found = false;
  for (const char* sep : {"::", "\t", ",", ";"}) {
    if (line.find(sep) != std::string_view::npos) {
      fmt.separator = sep;
      found = true;
      break;
    }
  }
  if (!found)
    in.fail("unknown separator: the first line " + quote_field(line) +
            " contains none of '::', '\\t', ',', ';'; pass a RatingsFormat naming it");
  std::string_view f[kMaxFields];
  split_fields(line, fmt.separator, f, kMaxFields);
  int64_t ignored;
  fmt.header = !parse_int64(f[0], ignored);
  if (fmt.header && !in.next(line)) in.fail_at(2, "empty file (a header but no ratings)");
  const int n = split_fields(line, fmt.separator, f, kMaxFields);
  if (n != 3 && n != 4)
    in.fail("wrong column count: expected 3 or 4 fields (user, item, rating[, timestamp]) separated by " +
            describe_separator(fmt.separator) + ", found " + std::to_string(n));
  fmt.has_timestamp = n == 4;
  return fmt;
}

}  // namespace curec::data

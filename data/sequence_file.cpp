#include "data/sequence_file.h"

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "data/line_reader.h"

namespace curec::data {

namespace {

// Fields separated by runs of spaces and tabs; returns how many (only the first `max` stored).
int split_whitespace(std::string_view line, std::string_view* fields, int max) {
  int n = 0;
  size_t k = 0;
  while (k < line.size()) {
    while (k < line.size() && (line[k] == ' ' || line[k] == '\t')) ++k;
    if (k == line.size()) break;
    size_t end = k;
    while (end < line.size() && line[end] != ' ' && line[end] != '\t') ++end;
    if (n < max) fields[n] = line.substr(k, end - k);
    ++n;
    k = end;
  }
  return n;
}

int32_t parse_one_based(const LineReader& in, std::string_view field, const char* what) {
  int64_t v;
  if (!parse_int64(field, v))
    in.fail(std::string(what) + " id " + quote_field(field) + " is not an integer (the format is `user item`, " +
            "two integer ids a line)");
  if (v < 1)
    in.fail(std::string(what) + " id " + std::to_string(v) + " out of range: ids in the `user item` format are " +
            "1-based (the smallest is 1); add 1 to every id of a 0-based file");
  if (v > std::numeric_limits<int32_t>::max())
    in.fail(std::string(what) + " id " + std::to_string(v) + " out of range: ids above 2147483647 are not supported");
  return static_cast<int32_t>(v - 1);
}

}  // namespace

Interactions read_sequence_file(const std::string& path) {
  LineReader in(path);
  if (in.empty()) in.fail_at(1, "empty file (no interactions): expected `user item` lines");
  Interactions out;
  out.reserve(in.bytes() / 8 + 16);
  std::string_view line, f[2];
  int32_t max_user = -1, max_item = -1;
  while (in.next(line)) {
    const int n = split_whitespace(line, f, 2);
    if (n != 2)
      in.fail("wrong field count: expected 2 fields (user item) separated by spaces or tabs, found " +
              std::to_string(n) + (n == 0 ? " (blank line: remove it)" : ""));
    const int32_t u = parse_one_based(in, f[0], "user"), i = parse_one_based(in, f[1], "item");
    max_user = std::max(max_user, u);
    max_item = std::max(max_item, i);
    out.push_back(u, i, 1.0f, static_cast<int64_t>(out.size()));
  }
  out.num_users = max_user + 1;
  out.num_items = max_item + 1;
  out.users = std::make_shared<const IdMap>(IdMap::one_based(out.num_users, "user"));
  out.items = std::make_shared<const IdMap>(IdMap::one_based(out.num_items, "item"));
  out.first_line = 1;
  return out;
}

}  // namespace curec::data

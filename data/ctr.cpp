#include "data/ctr.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/atomic_file.h"
#include "data/line_reader.h"

namespace curec::data {

namespace {

constexpr int kD2lFields = 34, kCriteoInts = 13, kCriteoCats = 26;
constexpr int kMaxColumns = 256;

// Where the label and the features sit in a line of one format.
struct Layout {
  std::string sep;
  int columns = 0;         // fields a line must have
  int label = 0;           // column of the label
  std::vector<int> features;  // columns of the features, in field order
  std::vector<std::string> names;
  std::vector<std::string> header;  // avazu
};

// Written with append: GCC 12 warns falsely (-Wrestrict) on "x" + std::to_string(n).
std::string numbered(const char* prefix, int n) {
  std::string s(prefix);
  s.append(std::to_string(n));
  return s;
}

Layout fixed_layout(CtrFormat format) {
  Layout l;
  l.sep = "\t";
  if (format == CtrFormat::d2l) {
    l.columns = 1 + kD2lFields;
    for (int f = 0; f < kD2lFields; ++f) l.names.push_back(numbered("f", f + 1));
  } else {
    l.columns = 1 + kCriteoInts + kCriteoCats;
    for (int f = 0; f < kCriteoInts; ++f) l.names.push_back(numbered("I", f + 1));
    for (int f = 0; f < kCriteoCats; ++f) l.names.push_back(numbered("C", f + 1));
  }
  for (int c = 1; c < l.columns; ++c) l.features.push_back(c);
  return l;
}

Layout avazu_layout(const std::vector<std::string>& header, const std::string& path) {
  Layout l;
  l.sep = ",";
  l.columns = static_cast<int>(header.size());
  l.header = header;
  l.label = -1;
  for (int c = 0; c < l.columns; ++c) {
    if (header[c] == "click") l.label = c;
    else if (header[c] != "id") {
      l.features.push_back(c);
      l.names.push_back(header[c]);
    }
  }
  CUREC_CHECK(l.label >= 0, "file '", path, "', line 1: the Avazu header has no 'click' column");
  CUREC_CHECK(!l.features.empty(), "file '", path, "', line 1: the Avazu header has no feature columns");
  return l;
}

std::vector<std::string> read_header(LineReader& r) {
  std::string_view line;
  if (!r.next(line)) r.fail_at(1, "empty file: an Avazu CSV starts with a header line");
  std::string_view cols[kMaxColumns];
  int n = split_fields(line, ",", cols, kMaxColumns);
  if (n > kMaxColumns) r.fail("the header has " + std::to_string(n) + " columns, more than " +
                              std::to_string(kMaxColumns));
  if (line.find('\r') != std::string_view::npos)
    r.fail("the header holds a carriage return ('\\r') inside the line; the file mixes line endings: convert it "
           "to '\\n' endings (e.g. with dos2unix)");
  return std::vector<std::string>(cols, cols + n);
}

// Parses the lines of one file: label and the feature values of each row (Criteo integers
// replaced by their bucket keys).
class RowParser {
 public:
  RowParser(LineReader& reader, const Layout& layout, CtrFormat format)
      : r_(reader), l_(layout), format_(format), values_(layout.features.size()), keys_(kCriteoInts) {}

  bool next(float& label) {
    std::string_view line;
    if (!r_.next(line)) return false;
    int n = split_fields(line, l_.sep, cols_, kMaxColumns);
    if (n != l_.columns)
      r_.fail("expected " + std::to_string(l_.columns) + " " + describe_separator(l_.sep) +
              "-separated fields (" + what_fields() + "), got " + std::to_string(n));
    if (line.find('\r') != std::string_view::npos) reject_carriage_return();
    std::string_view y = cols_[l_.label];
    if (y == "0") label = 0.0f;
    else if (y == "1") label = 1.0f;
    else r_.fail("the label must be 0 or 1, got " + quote_field(y));
    for (size_t f = 0; f < l_.features.size(); ++f) values_[f] = cols_[l_.features[f]];
    if (format_ == CtrFormat::criteo)
      for (int f = 0; f < kCriteoInts; ++f) {
        if (!criteo_bucket(values_[f], keys_[f]))
          r_.fail("integer field " + l_.names[f] + " must be an integer or empty, got " + quote_field(values_[f]));
        values_[f] = keys_[f];
      }
    return true;
  }
  const std::vector<std::string_view>& values() const { return values_; }

 private:
  // A '\r' inside a line (a file with mixed line endings) would become part of a value, and
  // an encoder file could not hold that value: it reads its lines without a trailing '\r'.
  [[noreturn]] void reject_carriage_return() const {
    int c = 0;
    while (cols_[c].find('\r') == std::string_view::npos) ++c;
    std::string where = "column " + std::to_string(c + 1);
    for (size_t f = 0; f < l_.features.size(); ++f)
      if (l_.features[f] == c) where += " (field " + l_.names[f] + ")";
    r_.fail(where + " holds a carriage return ('\\r') inside the line, in " + quote_field(cols_[c]) +
            "; the file mixes line endings: convert it to '\\n' endings (e.g. with dos2unix)");
  }
  std::string what_fields() const {
    switch (format_) {
      case CtrFormat::d2l: return "a label and 34 categorical fields";
      case CtrFormat::criteo: return "a label, 13 integer and 26 categorical fields";
      case CtrFormat::avazu: return "as many as the header";
    }
    return "";
  }
  LineReader& r_;
  const Layout& l_;
  CtrFormat format_;
  std::string_view cols_[kMaxColumns];
  std::vector<std::string_view> values_;
  std::vector<std::string> keys_;
};

std::optional<CtrFormat> parse_format(std::string_view name) {
  if (name == "d2l") return CtrFormat::d2l;
  if (name == "criteo") return CtrFormat::criteo;
  if (name == "avazu") return CtrFormat::avazu;
  return std::nullopt;
}

// Names in a message: the first few, then how many more.
std::string list_names(const std::vector<std::string>& names) {
  std::string s = "[";
  for (size_t i = 0; i < names.size() && i < 6; ++i) s += (i ? ", " : "") + quote_field(names[i]);
  if (names.size() > 6) s += ", ... (" + std::to_string(names.size()) + " in all)";
  return s + "]";
}

}  // namespace

std::string ctr_format_name(CtrFormat f) {
  switch (f) {
    case CtrFormat::d2l: return "d2l";
    case CtrFormat::criteo: return "criteo";
    case CtrFormat::avazu: return "avazu";
  }
  return "?";
}

bool criteo_bucket(std::string_view raw, std::string& key) {
  if (raw.empty()) {
    key.clear();
    return true;
  }
  int64_t v;
  if (!parse_int64(raw, v)) return false;
  if (v > 2) v = static_cast<int64_t>(std::floor(std::log(static_cast<double>(v)) * std::log(static_cast<double>(v))));
  key = std::to_string(v);
  return true;
}

Tensor CtrData::fields_tensor(Device device) const {
  return Tensor::from_vector(fields, {rows(), num_fields()}).to(device);
}
Tensor CtrData::labels_tensor(Device device) const { return Tensor::from_vector(labels, {rows()}).to(device); }

void CtrEncoder::build_index() {
  index_.assign(values_.size(), Index{});
  for (size_t f = 0; f < values_.size(); ++f)
    for (size_t i = 0; i < values_[f].size(); ++i) index_[f].emplace(values_[f][i], static_cast<int32_t>(i));
}

CtrEncoder CtrEncoder::fit(const std::string& path, CtrFormat format, int64_t min_count, RowRange range) {
  CUREC_CHECK(min_count >= 1, "CtrEncoder::fit: min_count must be at least 1, got ", min_count);
  LineReader reader(path);
  CtrEncoder e;
  e.format_ = format;
  e.min_count_ = min_count;
  Layout layout = format == CtrFormat::avazu ? avazu_layout(read_header(reader), path) : fixed_layout(format);
  e.names_ = layout.names;
  e.header_ = layout.header;
  struct Seen {
    int64_t count, first;
  };
  std::vector<std::unordered_map<std::string, Seen, Hash, std::equal_to<>>> counts(layout.names.size());
  RowParser rows(reader, layout, format);
  float label;
  int64_t row = 0;
  int64_t kept_rows = 0;
  for (; rows.next(label); ++row) {
    if (!range.holds(row)) continue;
    ++kept_rows;
    for (size_t f = 0; f < counts.size(); ++f) {
      std::string_view v = rows.values()[f];
      auto it = counts[f].find(v);
      if (it == counts[f].end()) counts[f].emplace(std::string(v), Seen{1, row});
      else ++it->second.count;
    }
  }
  CUREC_CHECK(kept_rows > 0, "file '", path, "': no data rows to learn the CTR feature maps from");
  e.values_.resize(counts.size());
  for (size_t f = 0; f < counts.size(); ++f) {
    std::vector<std::pair<int64_t, const std::string*>> kept;
    for (const auto& [value, seen] : counts[f])
      if (seen.count >= min_count) kept.emplace_back(seen.first, &value);
    std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : *a.second < *b.second;
    });
    for (const auto& k : kept) e.values_[f].push_back(*k.second);
  }
  e.build_index();
  return e;
}

int32_t CtrEncoder::local_index(int64_t field, std::string_view value) const {
  CUREC_CHECK(field >= 0 && field < num_fields(), "CtrEncoder: field ", field, " out of range for ", num_fields(),
              " fields");
  auto it = index_[field].find(value);
  return it == index_[field].end() ? default_index(field) : it->second;
}

std::vector<int64_t> CtrEncoder::field_dims() const {
  std::vector<int64_t> d;
  for (const auto& v : values_) d.push_back(static_cast<int64_t>(v.size()) + 1);
  return d;
}

std::vector<int64_t> CtrEncoder::offsets() const {
  std::vector<int64_t> o, d = field_dims();
  int64_t acc = 0;
  for (int64_t x : d) {
    o.push_back(acc);
    acc += x;
  }
  return o;
}

CtrData CtrEncoder::encode(const std::string& path, RowRange range) const {
  LineReader reader(path);
  Layout layout;
  if (format_ == CtrFormat::avazu) {
    std::vector<std::string> header = read_header(reader);
    if (header != header_) reader.fail_at(1, "the header differs from the training file's header (columns must match)");
    layout = avazu_layout(header, path);
  } else {
    layout = fixed_layout(format_);
  }
  CtrData d;
  d.field_dims = field_dims();
  d.offsets = offsets();
  RowParser rows(reader, layout, format_);
  float label;
  for (int64_t row = 0; rows.next(label); ++row) {
    if (!range.holds(row)) continue;
    d.labels.push_back(label);
    for (int64_t f = 0; f < num_fields(); ++f)
      d.fields.push_back(static_cast<int32_t>(d.offsets[f] + local_index(f, rows.values()[f])));
  }
  return d;
}

std::vector<int32_t> CtrEncoder::encode_row(const std::vector<std::string_view>& values) const {
  CUREC_CHECK(static_cast<int64_t>(values.size()) == num_fields(), "CtrEncoder::encode_row: expected ",
              num_fields(), " values, got ", values.size());
  std::vector<int64_t> off = offsets();
  std::vector<int32_t> out;
  std::string key;
  for (int64_t f = 0; f < num_fields(); ++f) {
    std::string_view v = values[f];
    if (format_ == CtrFormat::criteo && f < kCriteoInts) {
      CUREC_CHECK(criteo_bucket(v, key), "CtrEncoder::encode_row: integer field ", names_[f],
                  " must be an integer or empty, got ", quote_field(v));
      v = key;
    }
    out.push_back(static_cast<int32_t>(off[f] + local_index(f, v)));
  }
  return out;
}

// Text, one item per line (values never hold a newline: they come from lines):
//   curec-ctr-encoder 1 / format F / min_count M / header N + N names / fields K /
//   then per field: "field NAME COUNT" + COUNT values.
std::string CtrEncoder::to_text() const {
  std::ostringstream out;
  out << "curec-ctr-encoder 1\nformat " << ctr_format_name(format_) << "\nmin_count " << min_count_ << "\nheader "
      << header_.size() << "\n";
  for (const auto& h : header_) out << h << "\n";
  out << "fields " << names_.size() << "\n";
  for (size_t f = 0; f < names_.size(); ++f) {
    out << "field " << names_[f] << " " << values_[f].size() << "\n";
    for (const auto& v : values_[f]) out << v << "\n";
  }
  return out.str();
}

void CtrEncoder::save(const std::string& path) const { write_file_atomically(path, to_text(), "CtrEncoder::save"); }

CtrEncoder CtrEncoder::load(const std::string& path) {
  LineReader r(path);
  return read_encoder(r);
}

CtrEncoder CtrEncoder::from_text(std::string_view text, const std::string& name) {
  LineReader r(name, text);
  return read_encoder(r);
}

CtrEncoder CtrEncoder::read_encoder(LineReader& r) {
  std::string_view line;
  auto next = [&](const char* what) {
    if (!r.next(line)) r.fail_at(r.line_number() + 1, std::string("unexpected end of file, expected ") + what);
    // fit() refuses values holding '\r', so none is saved; one here would not survive a save.
    if (line.find('\r') != std::string_view::npos)
      r.fail("a carriage return ('\\r') inside the line; a CTR encoder file holds none (was it edited?)");
    return line;
  };
  // "KEY NUMBER" lines.
  auto keyed_number = [&](std::string_view key) {
    std::string_view l = next(std::string(key).c_str());
    int64_t v;
    if (l.substr(0, key.size() + 1) != std::string(key) + " " || !parse_int64(l.substr(key.size() + 1), v) || v < 0)
      r.fail("expected '" + std::string(key) + " <non-negative number>', got " + quote_field(l));
    return v;
  };
  if (next("the signature") != "curec-ctr-encoder 1")
    r.fail("not a curec CTR encoder file (expected 'curec-ctr-encoder 1')");
  std::string_view fmt = next("format");
  std::optional<CtrFormat> format;
  if (fmt.substr(0, 7) != "format " || !(format = parse_format(fmt.substr(7))))
    r.fail("expected 'format d2l', 'format criteo' or 'format avazu', got " + quote_field(fmt));
  CtrEncoder e;
  e.format_ = *format;
  e.min_count_ = keyed_number("min_count");
  if (e.min_count_ < 1) r.fail("min_count must be at least 1, got " + std::to_string(e.min_count_));
  const int64_t header_line = r.line_number() + 1;
  for (int64_t h = keyed_number("header"); h > 0; --h) e.header_.emplace_back(next("a header column"));
  int64_t fields = keyed_number("fields");
  const int64_t fields_line = r.line_number();
  for (int64_t f = 0; f < fields; ++f) {
    std::string_view l = next("a field line");
    size_t sp = l.rfind(' ');
    int64_t count;
    if (l.substr(0, 6) != "field " || sp == std::string_view::npos || sp < 6 || !parse_int64(l.substr(sp + 1), count) ||
        count < 0)
      r.fail("expected 'field <name> <count>', got " + quote_field(l));
    e.names_.emplace_back(l.substr(6, sp - 6));
    e.values_.emplace_back();
    for (int64_t i = 0; i < count; ++i) e.values_.back().emplace_back(next("a field value"));
  }
  // The fields must be the format's (the encoder indexes rows by field position): an edited or
  // foreign file would otherwise encode a part of each row, or the wrong columns.
  std::vector<std::string> expected;
  if (e.format_ == CtrFormat::avazu) {
    if (std::find(e.header_.begin(), e.header_.end(), "click") == e.header_.end())
      r.fail_at(header_line, "the saved Avazu header has no 'click' column");
    for (const auto& h : e.header_)
      if (h != "click" && h != "id") expected.push_back(h);
  } else {
    if (!e.header_.empty()) r.fail_at(header_line, "a " + ctr_format_name(e.format_) + " encoder has no header");
    expected = fixed_layout(e.format_).names;
  }
  if (e.names_ != expected)
    r.fail_at(fields_line, "the fields " + list_names(e.names_) + " are not those of the " +
                               ctr_format_name(e.format_) + " format " + list_names(expected) +
                               "; the file was edited or is corrupted: save the encoder again");
  e.build_index();
  return e;
}

bool CtrEncoder::operator==(const CtrEncoder& o) const {
  return format_ == o.format_ && min_count_ == o.min_count_ && names_ == o.names_ && values_ == o.values_ &&
         header_ == o.header_;
}

int64_t count_ctr_rows(const std::string& path, CtrFormat format) {
  LineReader reader(path);
  std::string_view line;
  int64_t n = 0;
  while (reader.next(line)) ++n;
  return format == CtrFormat::avazu && n > 0 ? n - 1 : n;
}

CtrFormat detect_ctr_format(const std::string& path) {
  LineReader reader(path);
  std::string_view line;
  if (!reader.next(line)) reader.fail_at(1, "empty file: no CTR rows");
  if (line.find("click") != std::string_view::npos && line.find(',') != std::string_view::npos)
    return CtrFormat::avazu;
  const auto columns = std::count(line.begin(), line.end(), '\t') + 1;
  if (columns == 40) return CtrFormat::criteo;
  if (columns == 35) return CtrFormat::d2l;
  reader.fail("not a CTR file curec can detect (" + std::to_string(columns) +
              " tab-separated columns; Criteo has 40, the book's format 35, Avazu is a CSV with a 'click' column); "
              "name the format as criteo:PATH, avazu:PATH or d2l:PATH");
}

CtrSplit read_ctr_split(const std::string& path, CtrFormat format, double test_fraction, int64_t min_count) {
  CUREC_CHECK(test_fraction > 0 && test_fraction < 1, "read_ctr_split: test_fraction must be in (0, 1), got ",
              test_fraction);
  const int64_t n = count_ctr_rows(path, format);
  CUREC_CHECK(n >= 2, "CTR data file '", path, "' has ", n, " data rows; a train/test split needs at least 2");
  const int64_t test_rows = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(n) * test_fraction));
  const RowRange train{0, n - test_rows}, test{n - test_rows, test_rows};
  CtrSplit s{CtrEncoder::fit(path, format, min_count, train), {}, {}};
  s.train = s.encoder.encode(path, train);
  s.test = s.encoder.encode(path, test);
  return s;
}

CtrSplit read_ctr(const std::string& train_path, const std::string& test_path, CtrFormat format, int64_t min_count) {
  CtrSplit s{CtrEncoder::fit(train_path, format, min_count), {}, {}};
  s.train = s.encoder.encode(train_path);
  if (!test_path.empty()) s.test = s.encoder.encode(test_path);
  return s;
}

namespace {
CtrData row_range(const CtrData& d, int64_t start, int64_t count) {
  CtrData out;
  out.field_dims = d.field_dims;
  out.offsets = d.offsets;
  const int64_t F = d.num_fields();
  out.fields.assign(d.fields.begin() + start * F, d.fields.begin() + (start + count) * F);
  out.labels.assign(d.labels.begin() + start, d.labels.begin() + start + count);
  return out;
}
}  // namespace

std::pair<CtrData, CtrData> split_tail(const CtrData& d, double fraction) {
  CUREC_CHECK(fraction > 0 && fraction < 1, "split_tail: fraction must be in (0, 1), got ", fraction);
  const auto tail = static_cast<int64_t>(std::llround(static_cast<double>(d.rows()) * fraction));
  CUREC_CHECK(tail >= 1 && tail < d.rows(), "split_tail: ", d.rows(), " rows are too few to hold out ", fraction,
              " of them (each part needs at least one row)");
  return {row_range(d, 0, d.rows() - tail), row_range(d, d.rows() - tail, tail)};
}

}  // namespace curec::data

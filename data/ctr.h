#pragma once
// Click-through-rate data: rows of a 0/1 label and categorical fields, encoded as one global
// feature index per field (the input of FM and DeepFM). Three file formats:
//   d2l     the book's CTR file (D2L section 15.8): label, then 34 categorical fields, tab-separated.
//   criteo  Criteo Display Advertising: label, 13 integer then 26 hashed categorical fields,
//           tab-separated, missing values empty. Integers are bucketed as in the Criteo
//           winners' solution: v > 2 ? floor(ln(v)^2) : v; a missing value is its own bucket.
//   avazu   Avazu CSV with a header: `id` is dropped, `click` is the label, every other column
//           is categorical.
// Per field, values seen at least min_count times in the training file get local indices
// 0..m-1 (in order of first appearance); every rarer or unseen value maps to the field's
// default index m. So field_dims[f] = m + 1 and global index = offsets[f] + local (the book's
// CTRDataset with its min_threshold). A test file is encoded with the training file's maps.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace curec::data {

enum class CtrFormat { d2l, criteo, avazu };
std::string ctr_format_name(CtrFormat f);

struct CtrData {
  std::vector<int32_t> fields;  // [rows * num_fields] global indices, row-major
  std::vector<float> labels;    // [rows], 0 or 1
  std::vector<int64_t> field_dims, offsets;

  int64_t num_fields() const { return static_cast<int64_t>(field_dims.size()); }
  int64_t rows() const { return static_cast<int64_t>(labels.size()); }
  int64_t num_features() const { return offsets.empty() ? 0 : offsets.back() + field_dims.back(); }
  Tensor fields_tensor(Device device = Device::cpu()) const;  // i32 [rows, num_fields]
  Tensor labels_tensor(Device device = Device::cpu()) const;  // f32 [rows]
};

// The first rows and the last `fraction` of the rows (at least one row each), same encoding:
// a validation set held out of the training rows.
std::pair<CtrData, CtrData> split_tail(const CtrData& d, double fraction);

// Data rows [first, first + count) of a file, in file order (count -1: to the end). Every row is
// still parsed, so an error anywhere names the file and its own line number.
struct RowRange {
  int64_t first = 0;
  int64_t count = -1;
  bool holds(int64_t row) const { return row >= first && (count < 0 || row < first + count); }
};

class LineReader;

// The per-field value -> index maps learned from a training file; saved with a model so that
// new rows are encoded the same way.
class CtrEncoder {
 public:
  // Counts values in the training rows of a file and keeps those seen >= min_count times.
  static CtrEncoder fit(const std::string& path, CtrFormat format, int64_t min_count = 4, RowRange rows = {});
  // Encodes rows of a file of the same format (the training file itself, or a test file).
  CtrData encode(const std::string& path, RowRange rows = {}) const;
  // One row's raw feature values (no label; for avazu in header order without id and click;
  // for criteo the 13 integers as written) -> global indices.
  std::vector<int32_t> encode_row(const std::vector<std::string_view>& values) const;

  // The encoder as text ("curec-ctr-encoder 1", then its maps), which an FM/DeepFM model file
  // holds beside its weights so that the two are written as one unit; from_text reads it back,
  // naming `name` (the file it came from) and the line in its errors.
  std::string to_text() const;
  static CtrEncoder from_text(std::string_view text, const std::string& name);
  // The text in a file of its own, written atomically (tmp + rename).
  void save(const std::string& path) const;
  static CtrEncoder load(const std::string& path);

  CtrFormat format() const { return format_; }
  int64_t min_count() const { return min_count_; }
  int64_t num_fields() const { return static_cast<int64_t>(names_.size()); }
  const std::vector<std::string>& field_names() const { return names_; }
  std::vector<int64_t> field_dims() const;
  std::vector<int64_t> offsets() const;
  // Local index of a (bucketed, for criteo integers) value in field f; the default m if absent.
  int32_t local_index(int64_t field, std::string_view value) const;
  int32_t default_index(int64_t field) const { return static_cast<int32_t>(values_[field].size()); }
  const std::vector<std::string>& kept_values(int64_t field) const { return values_[field]; }
  bool operator==(const CtrEncoder& o) const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Index = std::unordered_map<std::string, int32_t, Hash, std::equal_to<>>;
  void build_index();
  static CtrEncoder read_encoder(LineReader& r);

  CtrFormat format_ = CtrFormat::d2l;
  int64_t min_count_ = 1;
  std::vector<std::string> names_;
  std::vector<std::vector<std::string>> values_;  // per field: kept values by local index
  std::vector<Index> index_;
  // avazu: the header's columns, to check that a test file has the same layout.
  std::vector<std::string> header_;
};

// Reads a training file and its maps in one call; `test_path` (optional) reuses them.
struct CtrSplit {
  CtrEncoder encoder;
  CtrData train, test;
};
CtrSplit read_ctr(const std::string& train_path, const std::string& test_path, CtrFormat format,
                  int64_t min_count = 4);
// One file split in place (no copies on disk): its first rows train, the last `test_fraction`
// of its rows (at least one) test, the maps learned from the training rows alone.
CtrSplit read_ctr_split(const std::string& path, CtrFormat format, double test_fraction = 0.2,
                        int64_t min_count = 4);
// Data rows in a CTR file (lines, less an Avazu header).
int64_t count_ctr_rows(const std::string& path, CtrFormat format);
// The format of a CTR file from its first line: an Avazu CSV header with 'click', 40
// tab-separated columns (Criteo) or 35 (the book's); anything else is an error naming the file.
CtrFormat detect_ctr_format(const std::string& path);

// The Criteo integer bucket as a map key ("" for a missing value); false if not an integer.
bool criteo_bucket(std::string_view raw, std::string& key);

}  // namespace curec::data

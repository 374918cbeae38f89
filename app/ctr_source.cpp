#include "app/ctr_source.h"

#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <vector>

#include "data/paths.h"
#include "data/synthetic_ctr.h"

namespace curec::app {
namespace fs = std::filesystem;

namespace {

CtrSource synthetic_source(uint64_t seed) {
  // The anchor's shape: 34 fields of 20 values (+1 unused default), a rank-4 planted FM with
  // linear weights of std 0.3 and a pairwise term of std ~1.07 around a 0.5 click rate.
  data::SyntheticCtrOptions so;
  so.rows = 18000;
  so.field_dims.assign(34, 21);
  so.latent_dim = 4;
  so.bias = 0.0f;
  so.linear_scale = 0.3f;
  so.interaction_scale = 1.07f;
  so.seed = seed;
  data::SyntheticCtr s = data::synthetic_ctr(so);
  CtrSource src;
  src.train = s.data;
  src.test = s.data;
  const int64_t n_train = 15000, F = s.data.num_fields();
  src.train.labels.resize(n_train);
  src.train.fields.resize(n_train * F);
  src.test.labels.erase(src.test.labels.begin(), src.test.labels.begin() + n_train);
  src.test.fields.erase(src.test.fields.begin(), src.test.fields.begin() + n_train * F);
  src.description = "synthetic CTR (planted FM, 34 fields, seed " + std::to_string(seed) + ")";
  return src;
}

data::CtrFormat detect_format(const std::string& path) {
  std::ifstream in(path);
  CUREC_CHECK(in.good(), "cannot open CTR data file '", path, "'");
  std::string line;
  CUREC_CHECK(static_cast<bool>(std::getline(in, line)), "CTR data file '", path, "' is empty");
  if (line.find("click") != std::string::npos && line.find(',') != std::string::npos) return data::CtrFormat::avazu;
  size_t tabs = 0;
  for (char ch : line) tabs += ch == '\t';
  if (tabs + 1 == 40) return data::CtrFormat::criteo;
  if (tabs + 1 == 35) return data::CtrFormat::d2l;
  CUREC_FAIL("file '", path, "', line 1: not a CTR file curec can detect (", tabs + 1,
             " tab-separated columns; Criteo has 40, the book's format 35, Avazu is a CSV with a 'click' "
             "column); name the format as criteo:PATH, avazu:PATH or d2l:PATH");
}

// Splits one file into training and test files (the first 80% of the data rows, the rest) in a
// scratch folder, so the feature maps are learned from the training rows alone.
struct SplitFiles {
  fs::path dir, train, test;
  int64_t train_rows = 0, test_rows = 0;
  ~SplitFiles() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
};

void split_file(const std::string& path, bool header, SplitFiles& out) {
  std::ifstream in(path, std::ios::binary);
  CUREC_CHECK(in.good(), "cannot open CTR data file '", path, "'");
  std::vector<std::string> lines;
  std::string head, line;
  if (header) std::getline(in, head);
  while (std::getline(in, line))
    if (!line.empty() && line != "\r") lines.push_back(line);
  auto n = static_cast<int64_t>(lines.size());
  CUREC_CHECK(n >= 2, "CTR data file '", path, "' has ", n, " data rows; a train/test split needs at least 2");
  out.test_rows = std::max<int64_t>(1, n / 5);
  out.train_rows = n - out.test_rows;
  static int counter = 0;
  out.dir = fs::temp_directory_path() /
            ("curec-ctr-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::create_directories(out.dir);
  out.train = out.dir / "train.txt";
  out.test = out.dir / "test.txt";
  std::ofstream tr(out.train, std::ios::binary), te(out.test, std::ios::binary);
  if (header) {
    tr << head << '\n';
    te << head << '\n';
  }
  for (int64_t i = 0; i < n; ++i) (i < out.train_rows ? tr : te) << lines[i] << '\n';
  CUREC_CHECK(tr.good() && te.good(), "could not write the train/test split of '", path, "' under ", out.dir.string());
}

}  // namespace

CtrSource load_ctr_source(const std::string& spec, uint64_t seed) {
  if (spec.empty() || spec == "synthetic") return synthetic_source(seed);
  std::string path = spec;
  bool named = false;
  data::CtrFormat format = data::CtrFormat::criteo;
  for (auto f : {data::CtrFormat::criteo, data::CtrFormat::avazu, data::CtrFormat::d2l}) {
    std::string prefix = data::ctr_format_name(f) + ":";
    if (spec.rfind(prefix, 0) == 0) {
      path = spec.substr(prefix.size());
      format = f;
      named = true;
    }
  }
  if (spec == "criteo") path = (fs::path(data::default_data_dir()) / "criteo" / "train-10k.txt").string();
  if (spec == "avazu") path = (fs::path(data::default_data_dir()) / "avazu" / "train-first10k.csv").string();

  CtrSource src;
  if (fs::is_directory(path)) {
    fs::path tr = fs::path(path) / "train.csv", te = fs::path(path) / "test.csv";
    CUREC_CHECK(fs::exists(tr) && fs::exists(te), "CTR folder '", path,
                "' has no train.csv and test.csv (the book's ctr data set)");
    data::CtrSplit s = data::read_ctr(tr.string(), te.string(), named ? format : data::CtrFormat::d2l, 4);
    src.train = std::move(s.train);
    src.test = std::move(s.test);
    src.encoder = std::make_shared<data::CtrEncoder>(std::move(s.encoder));
    src.description = "ctr folder " + path + " (" + data::ctr_format_name(src.encoder->format()) + ")";
    return src;
  }
  if (!named) format = detect_format(path);
  SplitFiles files;
  split_file(path, format == data::CtrFormat::avazu, files);
  data::CtrSplit s = data::read_ctr(files.train.string(), files.test.string(), format, 4);
  src.train = std::move(s.train);
  src.test = std::move(s.test);
  src.encoder = std::make_shared<data::CtrEncoder>(std::move(s.encoder));
  src.description = data::ctr_format_name(format) + " " + path + " (first " + std::to_string(files.train_rows) +
                    " rows train, last " + std::to_string(files.test_rows) + " test)";
  return src;
}

}  // namespace curec::app

#include "app/ctr_source.h"

#include <filesystem>
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

// What a CTR spec names: its file or folder, and the format a FORMAT: prefix gives.
struct CtrSpec {
  std::string path;
  data::CtrFormat format = data::CtrFormat::criteo;
  bool named = false;
};

CtrSpec parse_ctr_spec(const std::string& spec) {
  CtrSpec out{spec};
  for (auto f : {data::CtrFormat::criteo, data::CtrFormat::avazu, data::CtrFormat::d2l}) {
    std::string prefix = data::ctr_format_name(f) + ":";
    if (spec.rfind(prefix, 0) == 0) out = {spec.substr(prefix.size()), f, true};
  }
  if (spec == "criteo") out.path = (fs::path(data::default_data_dir()) / "criteo" / "train-10k.txt").string();
  if (spec == "avazu") out.path = (fs::path(data::default_data_dir()) / "avazu" / "train-first10k.csv").string();
  return out;
}

}  // namespace

std::string ctr_path(const std::string& spec) {
  return spec.empty() || spec == "synthetic" ? "" : parse_ctr_spec(spec).path;
}

CtrSource load_ctr_source(const std::string& spec, uint64_t seed) {
  if (spec.empty() || spec == "synthetic") return synthetic_source(seed);
  auto [path, format, named] = parse_ctr_spec(spec);

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
  if (!named) format = data::detect_ctr_format(path);
  // The split happens in place: errors name the user's file and its own line numbers.
  data::CtrSplit s = data::read_ctr_split(path, format, 0.2, 4);
  src.train = std::move(s.train);
  src.test = std::move(s.test);
  src.encoder = std::make_shared<data::CtrEncoder>(std::move(s.encoder));
  src.description = data::ctr_format_name(format) + " " + path + " (first " + std::to_string(src.train.rows()) +
                    " rows train, last " + std::to_string(src.test.rows()) + " test)";
  return src;
}

}  // namespace curec::app

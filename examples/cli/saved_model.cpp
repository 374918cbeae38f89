#include "examples/cli/saved_model.h"

#include <algorithm>
#include <sstream>

#include "core/autograd.h"
#include "core/error.h"
#include "nn/serialize.h"

namespace curec::cli {
namespace {

const std::string& meta_at(const std::map<std::string, std::string>& meta, const std::string& key,
                           const std::string& file) {
  auto it = meta.find(key);
  CUREC_CHECK(it != meta.end(), file, ": model file lacks '", key, "'; was it written by `curec train --save`?");
  return it->second;
}

// A whole integer of a model file's metadata; anything else means the file is damaged.
int64_t parse_integer(const std::string& text, const std::string& file, const std::string& what) {
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  CUREC_CHECK(used == text.size() && used > 0, file, ": the saved ", what, " '", text,
              "' is not a whole number; the file is damaged");
  return value;
}

std::vector<int64_t> parse_ids(const std::string& list, const std::string& file, const char* what) {
  std::vector<int64_t> ids;
  std::istringstream in(list);
  std::string tok;
  while (std::getline(in, tok, ',')) ids.push_back(parse_integer(tok, file, std::string(what) + " id"));
  CUREC_CHECK(std::is_sorted(ids.begin(), ids.end()), file, ": the saved ", what, " ids are out of order");
  return ids;
}

int32_t find_id(const std::vector<int64_t>& ids, int64_t raw, const char* what) {
  auto it = std::lower_bound(ids.begin(), ids.end(), raw);
  CUREC_CHECK(it != ids.end() && *it == raw, what, " ", raw, " does not appear in the data the model was trained on");
  return static_cast<int32_t>(it - ids.begin());
}

// The model with the book's settings but the saved sizes, holding the saved tensors, in eval mode.
template <class Model, class Config>
std::shared_ptr<Model> build(int64_t num_users, int64_t num_items, int64_t factors, const nn::StateDict& tensors) {
  Config c;
  c.num_users = num_users;
  c.num_items = num_items;
  c.factors = factors;
  auto model = std::make_shared<Model>(c);
  model->load_state_dict(tensors);
  model->eval();
  return model;
}

}  // namespace

int32_t SavedModel::dense_user(int64_t raw) const { return find_id(user_ids, raw, "user"); }
int32_t SavedModel::dense_item(int64_t raw) const { return find_id(item_ids, raw, "item"); }

std::string SavedModel::data() const { return meta.count("data") ? meta.at("data") : ""; }
std::string SavedModel::split() const { return meta.count("split") ? meta.at("split") : ""; }
uint64_t SavedModel::seed() const {
  return meta.count("seed") ? static_cast<uint64_t>(parse_integer(meta.at("seed"), file, "seed")) : 0;
}

Tensor SavedModel::score(const Tensor& users, const Tensor& items) const {
  NoGradGuard ng;
  return mf ? mf->predict(users, items) : neumf->forward(users, items);
}

SavedModel load_saved_model(const std::string& file) {
  nn::LoadedState st = nn::load_state(file);
  SavedModel s;
  s.file = file;
  s.kind = meta_at(st.meta, "model", file);
  const int64_t num_users = parse_integer(meta_at(st.meta, "num_users", file), file, "num_users");
  const int64_t num_items = parse_integer(meta_at(st.meta, "num_items", file), file, "num_items");
  const int64_t factors = parse_integer(meta_at(st.meta, "factors", file), file, "factors");
  if (s.kind == "mf") {
    s.mf = build<models::MatrixFactorization, models::MFConfig>(num_users, num_items, factors, st.tensors);
  } else if (s.kind == "neumf") {
    s.neumf = build<models::NeuMF, models::NeuMFConfig>(num_users, num_items, factors, st.tensors);
  } else {
    CUREC_FAIL(file, ": holds a '", s.kind, "' model; predict, recommend and evaluate take mf and neumf models");
  }
  s.user_ids = parse_ids(meta_at(st.meta, "user_ids", file), file, "user");
  s.item_ids = parse_ids(meta_at(st.meta, "item_ids", file), file, "item");
  CUREC_CHECK(static_cast<int64_t>(s.user_ids.size()) == num_users &&
                  static_cast<int64_t>(s.item_ids.size()) == num_items,
              file, ": ", s.user_ids.size(), " user and ", s.item_ids.size(), " item ids saved for a model of ",
              num_users, " users and ", num_items, " items; the file is damaged");
  s.meta = std::move(st.meta);
  return s;
}

}  // namespace curec::cli

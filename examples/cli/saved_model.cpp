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

std::vector<int64_t> parse_ids(const std::string& list, const std::string& file, const char* what) {
  std::vector<int64_t> ids;
  std::istringstream in(list);
  std::string tok;
  while (std::getline(in, tok, ',')) {
    size_t used = 0;
    int64_t id = 0;
    try {
      id = std::stoll(tok, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    CUREC_CHECK(used == tok.size() && !tok.empty(), file, ": the saved ", what, " ids hold '", tok,
                "', not a number; the file is damaged");
    ids.push_back(id);
  }
  CUREC_CHECK(std::is_sorted(ids.begin(), ids.end()), file, ": the saved ", what, " ids are out of order");
  return ids;
}

int32_t find_id(const std::vector<int64_t>& ids, int64_t raw, const char* what) {
  auto it = std::lower_bound(ids.begin(), ids.end(), raw);
  CUREC_CHECK(it != ids.end() && *it == raw, what, " ", raw, " does not appear in the data the model was trained on");
  return static_cast<int32_t>(it - ids.begin());
}

}  // namespace

int32_t SavedModel::dense_user(int64_t raw) const { return find_id(user_ids, raw, "user"); }
int32_t SavedModel::dense_item(int64_t raw) const { return find_id(item_ids, raw, "item"); }

std::string SavedModel::data() const {
  auto it = meta.find("data");
  return it == meta.end() ? "" : it->second;
}

std::string SavedModel::split() const {
  auto it = meta.find("split");
  return it == meta.end() ? "" : it->second;
}

uint64_t SavedModel::seed() const {
  auto it = meta.find("seed");
  if (it == meta.end()) return 0;
  size_t used = 0;
  uint64_t seed = 0;
  try {
    seed = std::stoull(it->second, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  CUREC_CHECK(used == it->second.size() && used > 0, file, ": the saved seed '", it->second,
              "' is not a number; the file is damaged");
  return seed;
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
  const int64_t num_users = std::stoll(meta_at(st.meta, "num_users", file));
  const int64_t num_items = std::stoll(meta_at(st.meta, "num_items", file));
  const int64_t factors = std::stoll(meta_at(st.meta, "factors", file));
  if (s.kind == "mf") {
    models::MFConfig c;
    c.num_users = num_users;
    c.num_items = num_items;
    c.factors = factors;
    s.mf = std::make_shared<models::MatrixFactorization>(c);
    s.mf->load_state_dict(st.tensors);
    s.mf->eval();
  } else if (s.kind == "neumf") {
    models::NeuMFConfig c;
    c.num_users = num_users;
    c.num_items = num_items;
    c.factors = factors;
    s.neumf = std::make_shared<models::NeuMF>(c);
    s.neumf->load_state_dict(st.tensors);
    s.neumf->eval();
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

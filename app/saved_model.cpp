#include "app/saved_model.h"

#include <algorithm>
#include <sstream>

#include "core/autograd.h"
#include "core/error.h"
#include "data/csr.h"
#include "app/ratings_source.h"
#include "data/sequence.h"
#include "app/split_spec.h"
#include "data/take.h"
#include "models/als.h"
#include "models/autorec.h"
#include "models/bpmf.h"
#include "models/caser.h"
#include "models/deep_rating.h"
#include "models/mf.h"
#include "models/neumf.h"
#include "models/sasrec.h"
#include "data/next_item_examples.h"
#include "data/user_sequences.h"
#include "nn/serialize.h"

namespace curec::app {
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
  // A repeated id would give one raw id two dense places (dense_user finds only the first).
  const auto repeated = std::adjacent_find(ids.begin(), ids.end());
  CUREC_CHECK(repeated == ids.end(), file, ": the saved ", what, " id ", repeated == ids.end() ? 0 : *repeated,
              " appears twice; the file is damaged");
  return ids;
}

int32_t find_id(const std::vector<int64_t>& ids, int64_t raw, const char* what) {
  auto it = std::lower_bound(ids.begin(), ids.end(), raw);
  CUREC_CHECK(it != ids.end() && *it == raw, what, " ", raw, " does not appear in the data the model was trained on");
  return static_cast<int32_t>(it - ids.begin());
}

// The split the model was trained on, rebuilt from its record (AutoRec and Caser score from it).
data::Interactions training_part(const SavedModel& s, bool implicit) {
  CUREC_CHECK(!s.data().empty(), s.file, ": the model file does not record its training data, which ",
              s.kind, " needs to score users; retrain it with `curec train ", s.kind, " --save`");
  RatingsSource src = load_ratings_source(
      s.data(), s.seed(), implicit ? Synthetic::sequences : Synthetic::ratings);
  if (implicit) src.data = src.data.implicit();
  CUREC_CHECK(src.data.users->raw_ids() == s.user_ids && src.data.items->raw_ids() == s.item_ids, s.file,
              ": the data it records (", src.description, ") no longer has the users and items it was trained on");
  return split_by_spec(src, s.split(), s.seed()).split.train;
}

// SASRec's input for scoring what a user does next: the last maxlen items of everything the
// user did in the recorded data, as left-padded sequence ids, i64 [users, maxlen].
Tensor whole_sequences(const SavedModel& s, int64_t maxlen) {
  CUREC_CHECK(!s.data().empty(), s.file, ": the model file does not record its training data; retrain it with ",
              "`curec train sasrec --save`");
  RatingsSource src = load_ratings_source(s.data(), s.seed(), Synthetic::sequences);
  CUREC_CHECK(src.data.users->raw_ids() == s.user_ids && src.data.items->raw_ids() == s.item_ids, s.file,
              ": the data it records (", src.description, ") no longer has the users and items it was trained on");
  const data::UserSequences seqs = data::user_sequences(src.data);
  std::vector<int64_t> out(static_cast<size_t>(seqs.num_users * maxlen));
  for (int32_t u = 0; u < seqs.num_users; ++u) data::left_padded(seqs.of(u), maxlen, out.data() + u * maxlen);
  return Tensor::from_vector(out, {seqs.num_users, maxlen});
}

// [n, 1 + items] -> [n, items]: the padding id's column dropped.
Tensor without_first_column(const Tensor& m) {
  const int64_t rows = m.size(0), cols = m.size(1);
  std::vector<float> v = m.to_vector<float>(), out;
  out.reserve(static_cast<size_t>(rows * (cols - 1)));
  for (int64_t r = 0; r < rows; ++r) out.insert(out.end(), v.begin() + r * cols + 1, v.begin() + (r + 1) * cols);
  return Tensor::from_vector(out, {rows, cols - 1});
}

template <class M>
std::shared_ptr<M> loaded(std::shared_ptr<M> model, const nn::StateDict& tensors) {
  model->load_state_dict(tensors);
  model->eval();
  return model;
}

// [rows, cols] -> [cols, rows], on the CPU (an item-based AutoRec reconstructs items' rows).
Tensor transposed(const Tensor& m) {
  const int64_t rows = m.size(0), cols = m.size(1);
  const float* p = m.data<float>();
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[c * rows + r] = p[r * cols + c];
  return Tensor::from_vector(out, {cols, rows});
}

// Rows of a [rows, cols] matrix picked for each pair: out[k] = m[row[k], col[k]].
Tensor pick(const Tensor& m, const std::vector<int32_t>& row, const std::vector<int32_t>& col) {
  const int64_t cols = m.size(1);
  const float* p = m.data<float>();
  std::vector<float> out(row.size());
  for (size_t k = 0; k < row.size(); ++k) out[k] = p[row[k] * cols + col[k]];
  return Tensor::from_vector(out, {static_cast<int64_t>(out.size())});
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
  if (pairs) return pairs(users, items);
  const std::vector<int32_t> u = users.to_vector<int32_t>(), i = items.to_vector<int32_t>();
  // Score each distinct user once, then pick the pairs.
  std::vector<int32_t> distinct = u;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  Tensor all = all_items(Tensor::from_vector(distinct, {static_cast<int64_t>(distinct.size())}));
  std::vector<int32_t> row(u.size());
  for (size_t k = 0; k < u.size(); ++k)
    row[k] = static_cast<int32_t>(std::lower_bound(distinct.begin(), distinct.end(), u[k]) - distinct.begin());
  return pick(all, row, i);
}

Tensor SavedModel::score_all_items(const Tensor& users) const {
  NoGradGuard ng;
  if (all_items) return all_items(users);
  const std::vector<int32_t> u = users.to_vector<int32_t>();
  const auto n = static_cast<int64_t>(u.size()), items = static_cast<int64_t>(item_ids.size());
  std::vector<int32_t> pu, pi;
  for (int32_t user : u)
    for (int32_t i = 0; i < items; ++i) {
      pu.push_back(user);
      pi.push_back(i);
    }
  return pairs(Tensor::from_vector(pu, {n * items}), Tensor::from_vector(pi, {n * items})).view({n, items});
}

SavedModel load_saved_model(const std::string& file) {
  nn::LoadedState st = nn::load_state(file);
  SavedModel s;
  s.file = file;
  s.kind = meta_at(st.meta, "model", file);
  s.user_ids = parse_ids(meta_at(st.meta, "user_ids", file), file, "user");
  s.item_ids = parse_ids(meta_at(st.meta, "item_ids", file), file, "item");
  s.meta = std::move(st.meta);
  const auto num_users = static_cast<int64_t>(s.user_ids.size()), num_items = static_cast<int64_t>(s.item_ids.size());
  auto integer = [&](const char* key) { return parse_integer(meta_at(s.meta, key, file), file, key); };
  if (s.kind != "autorec")
    CUREC_CHECK(integer("num_users") == num_users && integer("num_items") == num_items, file, ": ", num_users,
                " user and ", num_items, " item ids saved for a model of ", integer("num_users"), " users and ",
                integer("num_items"), " items; the file is damaged");
  const nn::StateDict& w = st.tensors;
  if (s.kind == "mf") {
    models::MFConfig c{num_users, num_items, integer("factors")};
    auto m = loaded(std::make_shared<models::MatrixFactorization>(c), w);
    s.model = m;
    s.pairs = [m](const Tensor& u, const Tensor& i) { return m->predict(u, i); };
  } else if (s.kind == "deep_rating" || s.kind == "residual_rating") {
    models::DeepRatingConfig c;
    c.num_users = num_users;
    c.num_items = num_items;
    c.factors = integer("factors");
    c.hidden = integer("hidden");
    c.global_mean = std::stof(meta_at(s.meta, "global_mean", file));
    std::shared_ptr<models::RatingModel> m;
    if (s.kind == "deep_rating")
      m = loaded(std::make_shared<models::DeepRatingNet>(c), w);
    else
      m = loaded(std::make_shared<models::ResidualRatingNet>(c), w);
    s.model = m;
    s.pairs = [m](const Tensor& u, const Tensor& i) { return m->predict(u, i); };
  } else if (s.kind == "als") {
    models::ALSConfig c;
    c.factors = integer("factors");
    auto m = std::make_shared<models::ALS>(num_users, num_items, c);
    m->load_state_dict(w);
    s.model = m;
    s.pairs = [m](const Tensor& u, const Tensor& i) { return m->predict(u, i); };
  } else if (s.kind == "bpmf") {
    auto state = std::make_shared<models::BPMFState>(models::BPMFState::from_state_dict(w));
    CUREC_CHECK(state->num_users == num_users && state->num_items == num_items && state->kept() > 0, file,
                ": the saved BPMF posterior has ", state->num_users, " users x ", state->num_items, " items and ",
                state->kept(), " samples; the file is damaged");
    const float lo = std::stof(meta_at(s.meta, "clip_min", file)), hi = std::stof(meta_at(s.meta, "clip_max", file));
    s.model = state;
    s.pairs = [state, lo, hi](const Tensor& u, const Tensor& i) { return models::bpmf_posterior_mean(*state, u, i, lo, hi); };
  } else if (s.kind == "neumf") {
    models::NeuMFConfig c;
    c.num_users = num_users;
    c.num_items = num_items;
    c.factors = integer("factors");
    auto m = loaded(std::make_shared<models::NeuMF>(c), w);
    s.model = m;
    s.pairs = [m](const Tensor& u, const Tensor& i) { return m->forward(u, i); };
    s.all_items = [m](const Tensor& u) { return m->score_all_items(u); };
  } else if (s.kind == "caser") {
    models::CaserConfig c;
    c.num_users = num_users;
    c.num_items = num_items;
    c.factors = integer("factors");
    c.L = integer("L");
    auto m = loaded(std::make_shared<models::Caser>(c), w);
    Tensor sequences = data::make_sequences(training_part(s, true), c.L).test_sequences;
    s.model = m;
    s.all_items = [m, sequences](const Tensor& u) { return m->score_all_items(u, data::take_rows(sequences, u)); };
  } else if (s.kind == "sasrec") {
    models::SASRecConfig c{.num_items = num_items, .maxlen = integer("maxlen"), .hidden = integer("hidden"),
                           .blocks = integer("blocks"), .heads = integer("heads")};
    auto m = loaded(std::make_shared<models::SASRec>(c), w);
    Tensor inputs = whole_sequences(s, c.maxlen);
    s.model = m;
    s.all_items = [m, inputs](const Tensor& u) {
      return without_first_column(m->score_all_items(data::take_rows(inputs, u)));
    };
  } else if (s.kind == "autorec") {
    models::AutoRecConfig c;
    c.kind = models::parse_autorec_kind(meta_at(s.meta, "kind", file));
    c.num_inputs = integer("num_inputs");
    c.hidden = integer("hidden");
    if (c.kind == models::AutoRecKind::user_based) {
      c = models::AutoRecConfig::user_based(c.num_inputs, std::stof(meta_at(s.meta, "empty_row_mean", file)), c.hidden);
    }
    auto m = loaded(std::make_shared<models::AutoRec>(c), w);
    const bool by_item = c.kind == models::AutoRecKind::item_based;
    data::Interactions train = training_part(s, false);
    // Every row reconstructed from the training ratings once: [users, items] either way.
    Tensor rows = by_item ? data::dense_item_user(train) : data::dense_user_item(train);
    NoGradGuard ng;  // scoring only: no graph for the whole matrix
    Tensor full = m->forward(rows);
    Tensor by_user = by_item ? transposed(full) : full;
    s.model = m;
    s.all_items = [by_user](const Tensor& u) { return data::take_rows(by_user, u); };
  } else {
    CUREC_FAIL(file, ": holds a '", s.kind, "' model; predict, recommend and evaluate take mf, autorec, neumf, ",
               "caser, sasrec, deep_rating, residual_rating, als and bpmf models (fm and deepfm: evaluate on a CTR file)");
  }
  return s;
}

}  // namespace curec::app

#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>

#include "app/ratings_source.h"
#include "app/split_spec.h"
#include "app/commands.h"
#include "app/output_paths.h"
#include "app/run_flags.h"
#include "app/saved_model.h"
#include "app/saved_model_ctr.h"
#include "models/deepfm.h"
#include "nn/serialize.h"
#include "train/metrics.h"
#include "train/tasks/ctr_task.h"
#include "train/tasks/ranking_task.h"

namespace curec::app {
namespace {

struct EvaluateFlags {
  std::string model, data, split;
  uint64_t seed = 0;
  bool seed_given = false, json = false;
};

// A saved ranking model as the ranking evaluator sees it (it is in eval mode already, and its
// own context: the evaluator's is not needed).
class SavedScorer : public models::RankingModel {
 public:
  explicit SavedScorer(const SavedModel& s) : s_(s) {}
  std::string name() const override { return s_.kind; }
  std::pair<Tensor, Tensor> score_pairs(const Tensor&, const Tensor&, const Tensor&, const Tensor&) override {
    CUREC_FAIL("a saved model is not trained here");
  }
  Tensor score_all_items(const Tensor& users, const Tensor&) override { return s_.score_all_items(users); }

 private:
  const SavedModel& s_;
};

std::vector<int64_t> integers(const std::string& list, const std::string& file) {
  std::vector<int64_t> out;
  std::stringstream in(list);
  std::string tok;
  try {
    while (std::getline(in, tok, ',')) out.push_back(std::stoll(tok));
  } catch (const std::exception&) {
    CUREC_FAIL(file, ": the saved list '", list, "' is not whole numbers; the file is damaged");
  }
  return out;
}

// FM and DeepFM: the test metrics of the rows of a CTR file, encoded with the saved encoder.
void evaluate_ctr(const EvaluateFlags& f, const nn::LoadedState& st) {
  const std::string kind = st.meta.at("model");
  CUREC_CHECK(!f.data.empty(), "evaluate ", f.model, ": a ", kind,
              " model scores CTR rows; pass --data FILE (rows in the format it was trained on)");
  CUREC_CHECK(f.split.empty(), "evaluate ", f.model, ": --split is for rating models; a ", kind,
              " model scores every row of --data");
  const data::CtrEncoder encoder = saved_ctr_encoder(f.model, st.meta);
  data::CtrData rows = encoder.encode(f.data);
  CUREC_CHECK(rows.rows() > 0, f.data, ": no CTR rows to evaluate");
  const std::vector<int64_t> dims = integers(st.meta.at("field_dims"), f.model);
  CUREC_CHECK(dims == rows.field_dims, f.model, ": its encoder gives other field sizes than the model was built for; ",
              "the model and its encoder come from different runs");
  const int64_t factors = integers(st.meta.at("factors"), f.model).at(0);
  std::shared_ptr<models::FactorizationMachine> m;
  if (kind == "deepfm") {
    models::DeepFMConfig c;
    c.field_dims = dims;
    c.factors = factors;
    c.hidden = integers(st.meta.at("hidden"), f.model);
    m = std::make_shared<models::DeepFM>(c);
  } else {
    m = std::make_shared<models::FactorizationMachine>(models::FMConfig{dims, factors});
  }
  m->load_state_dict(st.tensors);
  const train::CtrMetrics r =
      train::ctr_metrics(train::predict_ctr(*m, train::CtrColumns::from(rows, Device::cpu())), rows.labels);
  nlohmann::json j = {{"model", f.model}, {"kind", kind}, {"data", f.data}, {"test_rows", rows.rows()},
                      {"test_acc", r.accuracy}, {"auc", r.auc}, {"logloss", r.logloss}};
  if (f.json) {
    print_json_line(j);
    return;
  }
  std::printf("%s on %s, %lld rows: test_acc %.4f auc %.4f logloss %.4f\n", f.model.c_str(), f.data.c_str(),
              static_cast<long long>(rows.rows()), r.accuracy, r.auc, r.logloss);
}

void evaluate(const EvaluateFlags& f) {
  nn::LoadedState st = nn::load_state(f.model);
  if (st.meta.count("model") && (st.meta.at("model") == "fm" || st.meta.at("model") == "deepfm"))
    return evaluate_ctr(f, st);
  SavedModel s = load_saved_model(f.model);
  // By default the test half of the split the model was trained with.
  const std::string data_spec = f.data.empty() ? s.data() : f.data;
  const std::string split_spec = f.split.empty() ? s.split() : f.split;
  const uint64_t seed = f.seed_given ? f.seed : s.seed();
  const bool ratings = s.predicts_ratings();
  RatingsSource src =
      load_ratings_source(data_spec, seed, ratings ? Synthetic::ratings : Synthetic::sequences);
  if (!ratings) src.data = src.data.implicit();  // NeuMF ranks interactions
  CUREC_CHECK(src.data.users->raw_ids() == s.user_ids && src.data.items->raw_ids() == s.item_ids, f.model,
              " was trained on other users or items than ", src.description, "; pass the --data it was trained on");
  CUREC_CHECK(ratings || split_spec == "seq" || split_spec == "loo", "--split ", split_spec,
              ": a ranking model is ranked against one held-out item per user; use --split seq or loo");
  NamedSplit named = split_by_spec(src, split_spec, seed);
  if (split_spec != s.split() || seed != s.seed())
    std::fprintf(stderr,
                 "note: %s was trained on another split (--split '%s', seed %llu): some of these test ratings may "
                 "have been in its training set\n",
                 f.model.c_str(), s.split().c_str(), static_cast<unsigned long long>(s.seed()));
  CUREC_CHECK(!named.split.test.empty(), "--split ", split_spec, " leaves no test ratings to evaluate");
  nlohmann::json j = {{"model", f.model},
                      {"kind", s.kind},
                      {"data", src.description},
                      {"split", named.description},
                      {"test_rows", named.split.test.size()}};
  if (ratings) {
    const data::Interactions& t = named.split.test;
    const auto n = static_cast<int64_t>(t.size());
    std::vector<float> p = s.score(Tensor::from_vector(t.user, {n}), Tensor::from_vector(t.item, {n})).to_vector<float>();
    double se = 0;
    for (int64_t k = 0; k < n; ++k) se += (p[k] - t.rating[k]) * (p[k] - t.rating[k]);
    j["test_rmse"] = std::sqrt(se / static_cast<double>(n));
  } else {
    SavedScorer scorer(s);
    const int hit_k = 50, ndcg_k = 10;  // the book's
    const train::RankingMetrics r = train::evaluate_ranking_model(
        scorer, train::RankingEvalSet::from(named.split.train, named.split.test, Device::cpu()), hit_k, ndcg_k);
    j["hit_at_" + std::to_string(hit_k)] = r.hit_at_k;
    j["auc"] = r.auc;
    j["ndcg_at_" + std::to_string(ndcg_k)] = r.ndcg_at_k;
  }
  if (f.json) {
    print_json_line(j);
    return;
  }
  std::printf("%s on %s, %s, %zu test rows:", f.model.c_str(), src.description.c_str(), named.description.c_str(),
              named.split.test.size());
  for (const auto& [key, value] : j.items())
    if (value.is_number_float()) std::printf(" %s %.4f", key.c_str(), value.get<double>());
  std::printf("\n");
}

}  // namespace

void add_evaluate(CLI::App& app) {
  auto* cmd = app.add_subcommand("evaluate", "Test metrics of a saved model (by default on the split it was trained with): RMSE for rating models, Hit@50, AUC and NDCG@10 for NeuMF and Caser; FM and DeepFM on the CTR rows of --data");
  auto f = std::make_shared<EvaluateFlags>();
  cmd->add_option("--model", f->model, "Model file written by `curec train MODEL --save FILE`")
      ->required()
      ->check(non_empty_path());
  cmd->add_option("--data", f->data, "Ratings (default: the data the model was trained on)")->check(non_empty_path());
  cmd->add_option("--split", f->split, "Split whose test half is scored (default: the training run's); see `train`")
      ->check([](const std::string& s) { return split_spec_error(s); });
  cmd->add_option("--seed", f->seed, "Seed of a random split (default: the training run's)")
      ->each([f](const std::string&) { f->seed_given = true; });
  cmd->add_flag("--json", f->json, "Print one JSON object");
  cmd->callback([f] { evaluate(*f); });
}

}  // namespace curec::app

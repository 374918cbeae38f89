#include <cmath>
#include <cstdio>
#include <tuple>

#include "app/ctr_source.h"
#include "app/flags.h"
#include "app/recipes.h"
#include "app/report.h"
#include "app/saved_meta.h"
#include "app/saved_model_ctr.h"
#include "train/tasks/ctr_task.h"

namespace curec::app {

CtrRecipe::CtrRecipe(bool is_deep) : deep(is_deep), factors(is_deep ? 10 : 20) {
  // The book's §15.9 / §15.10: 30 epochs of Adam, batch 2048.
  train.epochs = 30;
  train.batch_size = 2048;
  train.optimizer = nn::AdamOptions{.lr = deep ? 0.01f : 0.02f};
}

void CtrRecipe::bind(Flags& f) {
  f.trainer(train);
  f.positive("--factors", factors, "Latent factors per feature");
  f.flag("--early-stop", early_stop, "Validate on the last tenth of the training rows, keep the best epoch");
}

void CtrRecipe::for_reproduce(RunSettings& s) {
  // The targets are stated for the Criteo sample with early stopping (the book's 30 epochs overfit).
  if (s.data.empty()) {
    s.data = "criteo";
    early_stop = true;
  }
}

RunResult CtrRecipe::run(const RunSettings& s) {
  CtrSource src = load_ctr_source(s.data_spec(), s.seed);
  Generator gen(s.seed);
  std::shared_ptr<models::FactorizationMachine> net;
  std::map<std::string, std::string> meta = {
      {"model", name()}, {"field_dims", join_ids(src.train.field_dims)}, {"factors", std::to_string(factors)}};
  if (deep) {
    models::DeepFMConfig dc;
    dc.field_dims = src.train.field_dims;
    dc.factors = factors;
    meta["hidden"] = join_ids(dc.hidden);
    net = std::make_shared<models::DeepFM>(dc, gen);
  } else {
    net = std::make_shared<models::FactorizationMachine>(models::FMConfig{src.train.field_dims, factors}, gen);
  }
  train::TrainerConfig tc = train;
  take_run_settings(tc, s);
  data::CtrData train_rows, valid_rows;
  if (early_stop) {
    tc.early_stop = train::EarlyStopping{"auc"};
    std::tie(train_rows, valid_rows) = data::split_tail(src.train, validation_fraction);
  }
  if (s.verbose)
    std::printf("%s: %s, %lld train / %lld test rows, %lld fields, %lld features, %lld factors%s, %s\n",
                name().c_str(), src.description.c_str(), static_cast<long long>(src.train.rows()),
                static_cast<long long>(src.test.rows()), static_cast<long long>(src.train.num_fields()),
                static_cast<long long>(src.train.num_features()), static_cast<long long>(factors),
                early_stop ? ", early stopping on the last tenth of the training rows" : "", tc.device.str().c_str());
  train::CtrTask task(*net, early_stop ? train_rows : src.train, src.test, valid_rows);
  const train::TrainResult r = train::Trainer(task, tc, run_hooks(s)).fit();
  auto test = [&r](const char* metric) {  // NaN without a test set
    auto it = r.final_test.find(metric);
    return it == r.final_test.end() ? std::nan("") : it->second;
  };
  if (s.verbose && early_stop)
    std::printf("early stopping: restored epoch %d (valid AUC %.3f): test acc %.3f, AUC %.3f, logloss %.3f\n",
                r.best_epoch, r.best_validation().at("auc"), test("accuracy"), test("auc"), test("logloss"));
  RunResult out = run_result(name(), r, src.description,
                             early_stop ? "train / last tenth of train as validation / test" : "train / test");
  // The tool's name for the accuracy since its first version.
  out.metrics["test_acc"] = test("accuracy");
  out.metrics.erase("accuracy");
  if (early_stop) {
    out.metrics["best_epoch"] = r.best_epoch;
    out.metrics["valid_auc"] = r.best_validation().at("auc");
  }
  out.trained = net;
  save_ctr_model_if_asked(s, *net, meta, src.encoder.get());  // the encoder inside: one atomic file
  return out;
}

}  // namespace curec::app

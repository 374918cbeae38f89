#include <cstdio>

#include "app/ctr_source.h"
#include "app/flags.h"
#include "app/recipes.h"
#include "app/report.h"
#include "app/saved_meta.h"
#include "app/saved_model_ctr.h"

namespace curec::app {

CtrRecipe::CtrRecipe(bool is_deep) : deep(is_deep), factors(is_deep ? 10 : 20) {
  nn::learning_rate(train.optimizer) = deep ? 0.01f : 0.02f;  // the book's §15.9 / §15.10
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
  train::CtrTrainConfig tc = train;
  take_run_settings(tc, s);
  if (early_stop) tc.early_stop = train::EarlyStopping{"auc"};
  if (s.verbose)
    std::printf("%s: %s, %lld train / %lld test rows, %lld fields, %lld features, %lld factors%s, %s\n",
                name().c_str(), src.description.c_str(), static_cast<long long>(src.train.rows()),
                static_cast<long long>(src.test.rows()), static_cast<long long>(src.train.num_fields()),
                static_cast<long long>(src.train.num_features()), static_cast<long long>(factors),
                early_stop ? ", early stopping on the last tenth of the training rows" : "", tc.device.str().c_str());
  train::CtrTrainResult r = train::train_ctr_model(*net, src.train, src.test, tc, run_hooks(s));
  if (s.verbose && early_stop)
    std::printf("early stopping: restored epoch %d (valid AUC %.3f): test acc %.3f, AUC %.3f, logloss %.3f\n",
                r.best_epoch, r.best_valid_auc, r.final_test.accuracy, r.final_test.auc, r.final_test.logloss);
  RunResult out;
  out.model = name();
  out.epochs = static_cast<int>(r.epochs.size());
  out.metrics["train_loss"] = r.final_train_loss();
  out.metrics["test_acc"] = r.final_test.accuracy;
  out.metrics["auc"] = r.final_test.auc;
  out.metrics["logloss"] = r.final_test.logloss;
  if (early_stop) {
    out.metrics["best_epoch"] = r.best_epoch;
    out.metrics["valid_auc"] = r.best_valid_auc;
  }
  out.train_seconds = r.train_seconds;
  out.examples_per_sec = r.examples_per_sec;
  out.info["data"] = src.description;
  out.info["split"] = early_stop ? "train / last tenth of train as validation / test" : "train / test";
  out.trained = net;
  save_ctr_model_if_asked(s, *net, meta, src.encoder.get());  // the encoder inside: one atomic file
  return out;
}

}  // namespace curec::app

// Time of the full-ranking evaluation (train/tasks/ranking_task.h evaluate_ranking_model: Hit@50,
// AUC, NDCG@10 over every item per user) of NeuMF and Caser on MovieLens-100K's sequence-aware
// split, one JSON line per model. The models are trained for --train-epochs first (the book's
// settings) so that the scores are a trained model's; the metrics are printed in full so two
// builds can be compared for identical results.
//   bench_ranking_eval [--data DIR] [--device cpu|cuda] [--repeats N] [--train-epochs E] [--only neumf|caser]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/parallel.h"
#include "data/movielens.h"
#include "data/paths.h"
#include "data/sequence.h"
#include "data/split.h"
#include "models/caser.h"
#include "models/neumf.h"
#include "train/tasks/ranking_task.h"
#include "train/trainer.h"

namespace {

using namespace curec;

struct Timing {
  std::vector<double> seconds;
  train::RankingMetrics result;
};

Timing time_evaluation(models::RankingModel& model, const train::RankingEvalSet& eval, int repeats) {
  Timing t;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    t.result = train::evaluate_ranking_model(model, eval, 50, 10);
    t.seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return t;
}

void print(const std::string& model, const Device& device, const Timing& t, int train_epochs) {
  std::vector<double> s = t.seconds;
  std::sort(s.begin(), s.end());
  nlohmann::json j{{"bench", "ranking_eval"},
                   {"model", model},
                   {"device", device.str()},
                   {"cpu_threads", cpu_threads()},
                   {"train_epochs", train_epochs},
                   {"repeats", s.size()},
                   {"median_seconds", s[s.size() / 2]},
                   {"min_seconds", s.front()},
                   {"users", t.result.users},
                   {"hit_at_50", t.result.hit_at_k},
                   {"auc", t.result.auc},
                   {"ndcg_at_10", t.result.ndcg_at_k}};
  std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict).c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time of NeuMF's and Caser's full-ranking evaluation on MovieLens-100K"};
  std::string data_dir = data::default_data_dir() + "/ml-100k", device_name = "cpu";
  std::vector<std::string> only;
  int repeats = 5, train_epochs = 1;
  app.add_option("--data", data_dir, "MovieLens-100K folder (u.data)");
  app.add_option("--device", device_name);
  app.add_option("--repeats", repeats, "Timed evaluations per model (the median is reported)")->check(CLI::PositiveNumber);
  app.add_option("--train-epochs", train_epochs, "Epochs trained before timing (0: the initial weights)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--only", only, "neumf and/or caser (default: both)");
  CLI11_PARSE(app, argc, argv);
  try {
    const Device device = Device::parse(device_name);
    const data::Interactions all = data::read_ml100k(data_dir).implicit();
    const data::Split split = data::split_seq_aware(all);
    train::RankingEvalSet eval = train::RankingEvalSet::from(split.train, split.test, device);
    auto wanted = [&](const char* m) { return only.empty() || std::find(only.begin(), only.end(), m) != only.end(); };
    train::TrainerConfig tc;  // the book's NeuMF schedule
    tc.batch_size = 1024;
    tc.optimizer = nn::AdamOptions{.lr = 0.01f, .weight_decay = 1e-5f};
    tc.device = device;
    tc.seed = 0;
    tc.epochs = train_epochs;
    tc.eval_every = 0;
    if (wanted("neumf")) {
      Generator gen(0);
      models::NeuMF model(models::NeuMFConfig{.num_users = all.num_users, .num_items = all.num_items}, gen);
      model.to(device);
      train::RankingTask task(model, split.train, split.test);
      if (train_epochs > 0) train::Trainer(task, tc).fit();
      print("neumf", device, time_evaluation(model, eval, repeats), train_epochs);
    }
    if (wanted("caser")) {
      Generator gen(0);
      models::CaserConfig mc;
      mc.num_users = all.num_users;
      mc.num_items = all.num_items;
      models::Caser model(mc, gen);
      model.to(device);
      train::TrainerConfig cc = tc;  // the book's Caser schedule
      cc.batch_size = 4096;
      cc.optimizer = nn::AdamOptions{.lr = 0.04f, .weight_decay = 1e-5f};
      train::RankingTask task(model, split.train, split.test);
      if (train_epochs > 0) train::Trainer(task, cc).fit();
      eval.context = data::make_sequences(split.train, mc.L).test_sequences.to(device);
      print("caser", device, time_evaluation(model, eval, repeats), train_epochs);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_ranking_eval: %s\n", e.what());
    return 1;
  }
  return 0;
}

// MF training throughput at MovieLens-20M scale, as pytorch_book.py's `mf-scale` measures it:
// 20M uniformly random (user, item, rating 1..5) rows over 138,493 users and 26,744 items, 32
// factors, batch 65,536, Adam lr 0.002 without weight decay, 3 epochs; dense gradients (fused
// steps by default) or row-sparse gradients with lazy Adam (--sparse, like SparseAdam).
//   bench_mf_scale [--device cuda] [--rows N] [--epochs 3] [--sparse] [--no-fused]
// Prints one JSON object: examples/sec over all epochs and the median of epochs 2.. (steady).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/allocator.h"
#include "core/philox.h"
#include "models/mf.h"
#include "train/tasks/rating_task.h"
#include "train/trainer.h"

namespace {

// Uniform random ratings from the seed: row r draws its user, item and rating from Philox.
curec::data::Interactions random_ratings(int64_t rows, int32_t users, int32_t items, uint64_t seed) {
  using curec::data::IdMap;
  curec::data::Interactions d;
  d.num_users = users;
  d.num_items = items;
  d.users = std::make_shared<const IdMap>(IdMap::one_based(users, "user"));
  d.items = std::make_shared<const IdMap>(IdMap::one_based(items, "item"));
  d.reserve(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const auto row = static_cast<uint64_t>(r) * 3;
    d.push_back(static_cast<int32_t>(curec::philox::below(seed, 0, row, users)),
                static_cast<int32_t>(curec::philox::below(seed, 0, row + 1, items)),
                static_cast<float>(1 + curec::philox::below(seed, 0, row + 2, 5)), 0);
  }
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"MF training throughput at MovieLens-20M scale"};
  std::string device = "cpu";
  int64_t rows = 20'000'000, batch = 65'536, factors = 32;
  int32_t users = 138'493, items = 26'744;
  int epochs = 3;
  bool sparse = false, fused = true;
  app.add_option("--device", device);
  app.add_option("--rows", rows, "Training rows (default 20M)")->check(CLI::PositiveNumber);
  app.add_option("--users", users)->check(CLI::PositiveNumber);
  app.add_option("--items", items)->check(CLI::PositiveNumber);
  app.add_option("--factors", factors)->check(CLI::PositiveNumber);
  app.add_option("--batch-size", batch)->check(CLI::PositiveNumber);
  app.add_option("--epochs", epochs)->check(CLI::PositiveNumber);
  app.add_flag("--sparse", sparse, "row-sparse embedding gradients and lazy Adam (autograd path)");
  app.add_flag("--fused,!--no-fused", fused, "dense: one fused kernel per step (default) or the autograd path");
  CLI11_PARSE(app, argc, argv);
  try {
    curec::data::Interactions train = random_ratings(rows, users, items, 0);
    curec::models::MFConfig mc;
    mc.num_users = users;
    mc.num_items = items;
    mc.factors = factors;
    mc.sparse_grad = sparse;
    curec::models::MatrixFactorization model(mc);
    curec::train::TrainerConfig tc;
    tc.epochs = epochs;
    tc.batch_size = batch;
    tc.optimizer = curec::nn::AdamOptions{.lr = 0.002f};
    tc.device = curec::Device::parse(device);
    const bool fused_steps = fused && !sparse;
    const curec::data::Interactions none = train.empty_like();
    curec::train::RatingTask task(model, train, none, fused_steps);
    curec::train::TrainResult r = curec::train::Trainer(task, tc).fit();
    std::vector<double> steady;
    for (size_t e = 1; e < r.history.size(); ++e) steady.push_back(static_cast<double>(rows) / r.history[e].seconds);
    std::sort(steady.begin(), steady.end());
    nlohmann::json j{{"bench", sparse ? "mf_scale_sparse" : "mf_scale"},
                     {"device", tc.device.str()},
                     {"rows", rows},
                     {"users", users},
                     {"items", items},
                     {"factors", factors},
                     {"batch_size", batch},
                     {"epochs", epochs},
                     {"fused", fused_steps},
                     {"examples_per_sec", r.examples_per_sec},
                     {"steady_examples_per_sec", steady.empty() ? 0.0 : steady[steady.size() / 2]},
                     {"train_seconds", r.train_seconds},
                     {"final_train_loss", r.final_train_loss()},
                     {"peak_device_bytes", curec::memory_stats(tc.device).peak_bytes}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_mf_scale: %s\n", e.what());
    return 1;
  }
}

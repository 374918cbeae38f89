// The recipes fitted by sweeps instead of an optimizer: ALS and BPMF, through the one Trainer
// (train/tasks/sweep_task.h: an epoch is a sweep), which checkpoints, resumes, reports and
// stops them as it does every model.
#include <cstdio>

#include "app/flags.h"
#include "app/recipes.h"
#include "app/report.h"
#include "app/saved_meta.h"
#include "app/split_spec.h"
#include "train/distributed/communicator.h"
#include "train/tasks/sweep_task.h"

namespace curec::app {

namespace {
// The trainer's settings for a sweep model: `sweeps` epochs of one step, checkpoints as asked.
train::TrainerConfig sweep_config(const RunSettings& s, int sweeps, const std::string& checkpoint,
                                  const std::string& resume) {
  train::TrainerConfig c;
  c.epochs = sweeps;
  c.batch_size = 1;
  c.checkpoint = checkpoint;
  c.resume = resume;
  take_run_settings(c, s);
  return c;
}

// A sweep run's result: the last sweep's stand-in for a loss under `loss_name`, the test
// metrics, and the speed in training ratings per second.
RunResult sweep_result(const std::string& model, const train::TrainResult& t, const std::string& loss_name,
                       size_t train_rows, const RatingsSource& src, const NamedSplit& named) {
  RunResult out = run_result(model, t, src.description, named.description);
  out.metrics.erase("train_loss");
  out.metrics[loss_name] = t.final_train_loss();
  out.examples_per_sec = t.examples_per_sec * static_cast<double>(train_rows);  // the trainer counts sweeps
  return out;
}

// The trained model as `curec train --save` writes it: its state and what predict needs to load it.
void save_model(const RunSettings& s, const RatingsSource& src, const std::string& split, const std::string& model,
                int64_t factors, const nn::StateDict& state, const std::map<std::string, std::string>& extra = {}) {
  auto meta = data_meta(src, s, split);
  meta["model"] = model;
  meta["num_users"] = std::to_string(src.data.num_users);
  meta["num_items"] = std::to_string(src.data.num_items);
  meta["factors"] = std::to_string(factors);
  for (const auto& [k, v] : extra) meta[k] = v;
  save_if_asked(s, state, meta);
}

// ALS's exchange between the ranks of a data-parallel run: the solved rows all-gathered with
// the counts every rank knows (one collective per half-sweep); one rank without a communicator.
models::ALSExchange als_exchange(const RunSettings& s) {
  models::ALSExchange x;
  if (!s.communicator) return x;
  dist::Communicator& comm = *s.communicator;
  x.rank = comm.rank();
  x.world = comm.world_size();
  x.gather = [&comm](const Tensor& mine, const std::vector<int64_t>& counts) {
    return comm.all_gather_v(mine, counts).data;
  };
  return x;
}
}  // namespace

void AlsRecipe::bind(Flags& f) {
  f.split(split);
  f.positive("--factors", model.factors, "Latent factors");
  f.positive("--sweeps", model.sweeps, "Sweeps (all users, then all items, solved exactly)");
  f.non_negative("--lambda", model.lambda, "L2 regularisation (scaled by each row's count)");
  f.checkpoints(checkpoint, resume, "sweep");
}

RunResult AlsRecipe::run(const RunSettings& s) {
  RatingsSource src = load_ratings_source(s.data_spec(), s.seed);
  NamedSplit named = split_by_spec(src, split, s.seed);
  models::ALSConfig c = model;
  c.seed = s.seed;
  if (s.verbose)
    std::printf("als: %s, %s: %zu train / %zu test ratings, %lld factors, lambda %g, %s\n", src.description.c_str(),
                named.description.c_str(), named.split.train.size(), named.split.test.size(),
                static_cast<long long>(c.factors), c.lambda, s.device.str().c_str());
  models::ALS als(src.data.num_users, src.data.num_items, c, s.device);
  // Every rank holds the whole model after each sweep; rank 0 writes the checkpoints.
  models::ALSSweeps sweeps(als, named.split.train, named.split.test, als_exchange(s));
  train::SweepTask task(sweeps);
  const train::TrainResult t = train::Trainer(task, sweep_config(s, c.sweeps, checkpoint, resume), run_hooks(s)).fit();
  RunResult out = sweep_result("als", t, "train_rmse", named.split.train.size(), src, named);  // training RMSE as the loss
  if (!s.save.empty()) save_model(s, src, split, "als", c.factors, als.state_dict());
  return out;
}

void BpmfRecipe::bind(Flags& f) {
  f.split(split);
  f.positive("--factors", model.factors, "Latent factors");
  f.positive("--samples", model.samples, "Gibbs sweeps averaged into the posterior mean");
  f.count("--burn-in", model.burn_in, "Sweeps discarded before averaging");
  f.checkpoints(checkpoint, resume, "sweep");
}

RunResult BpmfRecipe::run(const RunSettings& s) {
  RatingsSource src = load_ratings_source(s.data_spec(), s.seed);
  NamedSplit named = split_by_spec(src, split, s.seed);
  models::BPMFConfig c = model;
  c.seed = s.seed;
  if (s.verbose)
    std::printf("bpmf: %s, %s: %zu train / %zu test ratings, %lld factors, alpha %g, %d burn-in + %d samples, cpu\n",
                src.description.c_str(), named.description.c_str(), named.split.train.size(),
                named.split.test.size(), static_cast<long long>(c.factors), c.alpha, c.burn_in, c.samples);
  // Every sample is kept only when a checkpoint or the saved model needs it.
  const bool keep = !checkpoint.empty() || !resume.empty() || !s.save.empty();
  models::BPMFSampler sampler(named.split.train, named.split.test, c, keep);
  train::SweepTask task(sampler);
  const train::TrainResult t =
      train::Trainer(task, sweep_config(s, c.burn_in + c.samples, checkpoint, resume), run_hooks(s)).fit();
  // The sample's RMSE as the loss, the posterior mean's as the test metric.
  RunResult out = sweep_result("bpmf", t, "test_rmse_last_sample", named.split.train.size(), src, named);
  out.info["device"] = "cpu (BPMF has no CUDA path)";
  // The posterior mean over every kept sample, as predict scores it.
  if (!s.save.empty())
    save_model(s, src, split, "bpmf", c.factors, sampler.state_dict(),
               {{"clip_min", std::to_string(c.clip_min)}, {"clip_max", std::to_string(c.clip_max)}});
  return out;
}

}  // namespace curec::app

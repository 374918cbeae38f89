// The recipes trained by sweeps instead of an optimizer: ALS and BPMF. They share the trainer's
// reporting (epoch records, logs, curves, interruption) through report_sweep, and its
// checkpoint file: the sweep model's state as the model, the sweeps as epochs, batch size 0.
#include <cstdio>

#include "app/flags.h"
#include "app/recipes.h"
#include "app/report.h"
#include "app/saved_meta.h"
#include "app/split_spec.h"
#include "nn/serialize.h"
#include "train/checkpoint.h"
#include "train/distributed/communicator.h"

namespace curec::app {

namespace {
// sweeps: of the whole run; ran: those this process ran (fewer after a resume), in `seconds`.
RunResult sweep_result(const std::string& model, int sweeps, size_t ran, double seconds, size_t train_rows,
                       const RatingsSource& src, const NamedSplit& named) {
  RunResult out;
  out.model = model;
  out.epochs = sweeps;
  out.train_seconds = seconds;
  out.examples_per_sec = seconds > 0 ? static_cast<double>(train_rows * ran) / seconds : 0;
  out.info["data"] = src.description;
  out.info["split"] = named.description;
  return out;
}
// A sweep as the trainer reports an epoch; a sweep has no loss, `stand_in` is reported in its place.
train::EpochRecord sweep_record(int sweep, double stand_in, double seconds, double test_rmse) {
  train::EpochRecord e;
  e.epoch = sweep;
  e.train_loss = stand_in;
  e.seconds = seconds;
  e.evaluated = true;
  e.test["test_rmse"] = test_rmse;
  return e;
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

// After every sweep: the state that continues the run, and the records so far.
class SweepCheckpoints {
 public:
  SweepCheckpoints(std::string model, const std::string& checkpoint, const std::string& resume, uint64_t seed,
                   int sweeps)
      : checkpoint_(checkpoint) {
    k_.task = model;
    k_.seed = seed;
    if (resume.empty()) return;
    k_ = train::read_checkpoint(resume);
    train::check_resumable(k_, resume, model, 0, seed, sweeps);
    resume_ = resume;
  }
  int done() const { return k_.epoch; }
  // The state to continue from ({} on a fresh start), through `load`; a state that does not fit
  // is an error naming the file.
  template <class F>
  void restore(F&& load) const {
    if (resume_.empty()) return;
    try {
      load(k_.model);
    } catch (const Error& e) {
      CUREC_FAIL("checkpoint ", resume_, " does not fit this ", k_.task, " run: ", e.message());
    }
  }
  void after_sweep(const train::EpochRecord& r, const nn::StateDict& state) {
    k_.epoch = r.epoch;
    k_.history.push_back(r);
    if (checkpoint_.empty()) return;
    k_.model = state;
    train::write_checkpoint(checkpoint_, k_);
  }

 private:
  std::string checkpoint_, resume_;
  train::Checkpoint k_;
};
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
  const models::ALSExchange ranks = als_exchange(s);
  // Every rank holds the whole model after each sweep; rank 0 writes the checkpoints.
  SweepCheckpoints ckpt("als", ranks.rank == 0 ? checkpoint : std::string(), resume, s.seed, c.sweeps);
  ckpt.restore([&](const nn::StateDict& state) { als.load_state_dict(state); });
  models::ALSResult r = models::train_als(
      named.split.train, named.split.test, c, s.device,
      [&](const models::ALSSweep& w, const models::ALS& m) {
        const train::EpochRecord e = sweep_record(w.sweep, w.train_rmse, w.seconds, w.test_rmse);  // training RMSE as the loss
        ckpt.after_sweep(e, m.state_dict());
        report_sweep(s, e);
      },
      &als, ckpt.done(), ranks);
  double seconds = 0;
  for (const auto& w : r.history) seconds += w.seconds;
  RunResult out = sweep_result("als", c.sweeps, r.history.size(), seconds, named.split.train.size(), src, named);
  out.metrics["train_rmse"] = r.history.back().train_rmse;
  out.metrics["test_rmse"] = r.history.back().test_rmse;
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
  SweepCheckpoints ckpt("bpmf", checkpoint, resume, s.seed, c.burn_in + c.samples);
  // The state is kept only when a checkpoint or the saved model needs it (it holds every sample).
  models::BPMFState state;
  const bool keep = !checkpoint.empty() || !resume.empty() || !s.save.empty();
  ckpt.restore([&](const nn::StateDict& saved) { state = models::BPMFState::from_state_dict(saved); });
  models::BPMFResult r = models::train_bpmf(
      named.split.train, named.split.test, c,
      [&](const models::BPMFSweep& w) {
        // The sample's RMSE as the loss, the posterior mean's as the test metric.
        const train::EpochRecord e = sweep_record(w.sweep, w.test_rmse_sample, w.seconds, w.test_rmse_posterior);
        ckpt.after_sweep(e, checkpoint.empty() ? nn::StateDict{} : state.state_dict());
        report_sweep(s, e);
      },
      keep ? &state : nullptr);
  double seconds = 0;
  for (const auto& w : r.history) seconds += w.seconds;
  RunResult out = sweep_result("bpmf", c.burn_in + c.samples, r.history.size(), seconds, named.split.train.size(), src, named);
  out.metrics["test_rmse"] = r.test_rmse;
  out.metrics["test_rmse_last_sample"] = r.history.back().test_rmse_sample;
  out.info["device"] = "cpu (BPMF has no CUDA path)";
  // The posterior mean over every kept sample, as predict scores it.
  if (!s.save.empty())
    save_model(s, src, split, "bpmf", c.factors, state.state_dict(),
               {{"clip_min", std::to_string(c.clip_min)}, {"clip_max", std::to_string(c.clip_max)}});
  return out;
}

}  // namespace curec::app

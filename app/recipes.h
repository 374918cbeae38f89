#pragma once
// The book's and the course's experiments as recipes (app/recipe.h): each holds the library's
// own configs with the book's values; `bind` exposes exactly the fields a user may change.
#include <memory>
#include <string>

#include "app/recipe.h"
#include "models/als.h"
#include "models/autorec.h"
#include "models/bpmf.h"
#include "models/caser.h"
#include "models/deep_rating.h"
#include "models/deepfm.h"
#include "models/mf.h"
#include "models/neumf.h"
#include "models/sasrec.h"
#include "train/tasks/ranking_task.h"
#include "train/tasks/sequence_task.h"

namespace curec::app {

// D2L §15.3: MF on explicit ratings, the book's 20 epochs of Adam (lr 0.002, wd 1e-5, batch 512).
struct MfRecipe : Recipe {
  MfRecipe();
  std::string split;  // "" = the book's random 90/10
  models::MFConfig model;
  train::TrainerConfig train;
  bool fused = false;  // each step one fused kernel (RatingModel::fused_step) instead of autograd
  std::string name() const override { return "mf"; }
  void bind(Flags& flags) override;
  RunResult run(const RunSettings& s) override;
};

// D2L §15.4 (item-based) and the course notes' user-based AutoRec.
struct AutoRecRecipe : Recipe {
  AutoRecRecipe();
  std::string split;
  std::string variant = "item";  // item | user
  int64_t hidden = 500;
  train::TrainerConfig train;  // batch_size counts rows; a batch is at most every row
  std::string name() const override { return "autorec"; }
  void bind(Flags& flags) override;
  RunResult run(const RunSettings& s) override;
};

// D2L §15.5-15.7: NeuMF or Caser on the sequence-aware split, BPR (or hinge) with sampled negatives.
struct RankingRecipe : Recipe {
  explicit RankingRecipe(bool caser);
  bool caser;
  std::string loss = "bpr";  // bpr | hinge
  models::NeuMFConfig neumf;
  models::CaserConfig caser_model;
  train::TrainerConfig train;
  train::RankingOptions ranking;  // the loss is set from `loss`, the negatives' seed from the run's
  std::string name() const override { return caser ? "caser" : "neumf"; }
  void bind(Flags& flags) override;
  RunResult run(const RunSettings& s) override;
};

// SASRec (Kang & McAuley 2018) with the paper's MovieLens-1M settings: d = 50, 2 blocks, 1 head,
// maxlen 200, dropout 0.2, Adam (lr 0.001, β₂ 0.98), batch 128, up to 200 epochs validated every
// 20, stopping after 3 validations without a gain; test at the best validation NDCG@10.
struct SasrecRecipe : Recipe {
  SasrecRecipe();
  models::SASRecConfig model;  // num_items is set from the data
  train::TrainerConfig train;
  train::SequenceOptions sequence;  // the negatives' seed is the run's
  int patience = 3;                 // validations without a gain (0: run every epoch)
  std::string name() const override { return "sasrec"; }
  void bind(Flags& flags) override;
  RunResult run(const RunSettings& s) override;
  void for_reproduce(RunSettings& s) override;  // the reference's data: ml-1m-3k
};

// D2L §15.9-15.10: FM or DeepFM on CTR rows, the book's 30 epochs; early stopping on request.
struct CtrRecipe : Recipe {
  explicit CtrRecipe(bool deep);
  bool deep;
  int64_t factors;
  bool early_stop = false;     // on the validation AUC
  double validation_fraction = 0.1;  // of the training rows, held out under early stopping
  train::TrainerConfig train;
  std::string name() const override { return deep ? "deepfm" : "fm"; }
  void bind(Flags& flags) override;
  RunResult run(const RunSettings& s) override;
  void for_reproduce(RunSettings& s) override;
};

// Course notes: embeddings -> Dense 400 -> ReLU -> 1 (+ an MF branch for the residual net), SGD.
struct RatingNetRecipe : Recipe {
  explicit RatingNetRecipe(bool residual);
  bool residual;
  std::string split;
  models::DeepRatingConfig model;
  train::TrainerConfig train;
  std::string name() const override { return residual ? "residual_rating" : "deep_rating"; }
  void bind(Flags& flags) override;
  RunResult run(const RunSettings& s) override;
};

// Course notes: alternating least squares with biases (sweeps of exact solves, no optimizer),
// trained by the Trainer an epoch a sweep. Data parallel: each rank solves its rows of each
// half-sweep, the tables are all-gathered.
struct AlsRecipe : Recipe {
  std::string split;
  std::string checkpoint, resume;  // after every sweep; continue from one
  models::ALSConfig model;
  std::string name() const override { return "als"; }
  void bind(Flags& flags) override;
  RunResult run(const RunSettings& s) override;
  int stop_poll_every() const override { return 1; }  // once a sweep
};

// Course notes §9: Bayesian PMF by Gibbs sampling (CPU only).
struct BpmfRecipe : Recipe {
  std::string split;
  std::string checkpoint, resume;  // after every sweep; continue from one
  models::BPMFConfig model;
  std::string name() const override { return "bpmf"; }
  void bind(Flags& flags) override;
  RunResult run(const RunSettings& s) override;
  bool runs_on_cuda() const override { return false; }
  bool data_parallel() const override { return false; }
};

}  // namespace curec::app

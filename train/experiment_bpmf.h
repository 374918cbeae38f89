#pragma once
#include "train/experiment.h"

namespace curec::train {

// The course's Bayesian PMF on MovieLens-100K, random 90/10 split: K = 10, α = 2, Gibbs sampling
// on the CPU (16 burn-in sweeps, then 64 samples averaged into the posterior-mean prediction).
// --epochs sets the number of samples averaged; the device is ignored (CPU only).
RunResult run_bpmf(const RunOptions& options);

}  // namespace curec::train

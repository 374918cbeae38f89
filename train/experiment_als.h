#pragma once
#include "train/experiment.h"

namespace curec::train {

// The course's ALS with biases on MovieLens-100K, random 90/10 split: 30 factors, weighted λ,
// 20 sweeps of closed-form solves (cuSOLVER batched Cholesky on the GPU).
RunResult run_als(const RunOptions& options);

}  // namespace curec::train

#pragma once
// The umbrella header of the installed package: `#include <curec/curec.h>` gives the common API
// of a program that defines and trains its own models. Installed as include/curec/curec.h, where
// every include below reads <curec/...> (cmake/CurecInstallHeaders.cmake); any one header can
// also be included alone, e.g. <curec/nn/linear.h>.
#include "core/version.h"

// Tensors, devices, errors, random numbers, grad mode (NoGradGuard, no_grad).
#include "core/autograd.h"
#include "core/device.h"
#include "core/error.h"
#include "core/generator.h"
#include "core/random.h"
#include "core/tensor.h"

// Differentiable ops (CPU reference and CUDA kernels behind one call).
#include "ops/concat.h"
#include "ops/conv2d.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/fm.h"
#include "ops/index_select.h"
#include "ops/linear.h"
#include "ops/loss.h"
#include "ops/matmul.h"
#include "ops/max_pool.h"
#include "ops/reduce.h"
#include "ops/shape.h"

// Modules, initialisers, optimizers, state-dict files.
#include "nn/activation.h"
#include "nn/adam.h"
#include "nn/conv2d.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/eval_guard.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/max_pool.h"
#include "nn/mlp.h"
#include "nn/module.h"
#include "nn/module_list.h"
#include "nn/optimizer.h"
#include "nn/optimizer_config.h"
#include "nn/sequential.h"
#include "nn/serialize.h"
#include "nn/sgd.h"
#include "nn/state_dict.h"

// Data: readers, splits, batches, samplers, synthetic data sets.
#include "data/batch_sampler.h"
#include "data/csr.h"
#include "data/ctr.h"
#include "data/interactions.h"
#include "data/movielens.h"
#include "data/negative_sampler.h"
#include "data/paths.h"
#include "data/ratings_reader.h"
#include "data/sequence.h"
#include "data/split.h"
#include "data/stats.h"
#include "data/synthetic_ctr.h"
#include "data/synthetic_ratings.h"
#include "data/synthetic_sequences.h"
#include "data/take.h"

// The book's models.
#include "models/autorec.h"
#include "models/caser.h"
#include "models/deep_rating.h"
#include "models/deepfm.h"
#include "models/fm.h"
#include "models/mf.h"
#include "models/neumf.h"
#include "models/rating_model.h"
#include "models/ctr_model.h"
#include "models/ranking_model.h"
#include "models/row_model.h"
#include "models/sweep_model.h"

// Training: the Task a model supplies, the Trainer, metrics and evaluators; data parallelism
// (the hooks a rank adds, in-process ranks).
#include "train/data_parallel.h"
#include "train/distributed/local_ranks.h"
#include "train/metrics.h"
#include "train/ranking_eval.h"
#include "train/tasks/autorec_task.h"
#include "train/tasks/ctr_task.h"
#include "train/tasks/ranking_task.h"
#include "train/tasks/rating_task.h"
#include "train/tasks/sweep_task.h"
#include "train/task.h"
#include "train/trainer.h"

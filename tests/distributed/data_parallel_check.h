#pragma once
// The data-parallel equality check that the thread tests (tests/test_distributed.cpp) and the MPI
// test program (tests/distributed/test_mpi.cpp) share: a small recommender trained for a few
// steps by N ranks on uneven shards of each global batch must take, on every rank, the steps
// one rank takes on the whole batches. Header-only, on doctest's assertions.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "nn/adam.h"
#include "nn/embedding.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "ops/concat.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/loss.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "train/distributed/communicator.h"
#include "train/distributed/grad_sync.h"

namespace curec::dist::check {

constexpr float kRtol = 1.3e-6f, kAtol = 1e-5f;  // PyTorch's DDP test tolerance

// A small recommender: user and item embeddings (dense or row-sparse gradients), a linear head
// on their concatenation, and an `extra` linear term that only examples with item < 3 use (so a
// shard without such an example gives it no gradient at all).
struct Tiny : nn::Module {
  Generator gen;
  nn::Embedding users, items;
  nn::Linear head, extra;
  Tiny(bool sparse, uint64_t seed, int64_t n_users = 20, int64_t n_items = 30)
      : gen(seed),
        users(n_users, 4, {.sparse_grad = sparse}, gen),
        items(n_items, 4, {.sparse_grad = sparse}, gen),
        head(8, 1, {}, gen),
        extra(3, 1, {.bias = false}, gen) {
    register_module("users", users);
    register_module("items", items);
    register_module("head", head);
    register_module("extra", extra);
  }
};

struct Batch {
  Tensor users, items, y, feats;  // [B], [B], [B], [B, 3]
  std::vector<int64_t> item_ids;
  int64_t size() const { return users.size(0); }
  Batch rows(int64_t start, int64_t count) const {
    return {users.rows(start, count), items.rows(start, count), y.rows(start, count), feats.rows(start, count),
            std::vector<int64_t>(item_ids.begin() + start, item_ids.begin() + start + count)};
  }
  Batch to(Device d) const { return {users.to(d), items.to(d), y.to(d), feats.to(d), item_ids}; }
};

inline Tensor normal(const Shape& s, uint64_t seed) {
  Tensor t = Tensor::empty(s);
  Generator g(seed);
  nn::normal_(t, 0.0f, 1.0f, g);
  return t;
}

inline Batch make_batch(int64_t n, uint64_t seed, int64_t n_users = 20, int64_t n_items = 30) {
  Batch b;
  std::vector<int64_t> users(static_cast<size_t>(n)), items(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    users[i] = (i * 13 + static_cast<int64_t>(seed) * 7 + (i * i) % 5) % n_users;  // repeats across ranks too
    // Only the last example has an item < 3 (uses `extra`), so earlier shards give it no gradient.
    items[i] = i + 1 == n ? 1 : 3 + (i * 7 + static_cast<int64_t>(seed)) % (n_items - 3);
  }
  b.users = Tensor::from_vector<int64_t>(users, {n});
  b.items = Tensor::from_vector<int64_t>(items, {n});
  b.y = normal({n}, seed + 2);
  b.feats = normal({n, 3}, seed + 3);
  b.item_ids = items;
  return b;
}

// The mean over the batch of (pred - y)^2 + [item < 3] * extra(feats).
inline Tensor tiny_loss(Tiny& m, const Batch& b) {
  Tensor x = concat({m.users(b.users), m.items(b.items)}, 1);
  Tensor pred = reshape(m.head(x), {b.size()});
  Tensor loss = squared_error(pred, b.y);
  std::vector<float> mask(b.item_ids.size());
  bool any = false;
  for (size_t i = 0; i < mask.size(); ++i) any |= (mask[i] = b.item_ids[i] < 3 ? 1.0f : 0.0f) != 0.0f;
  if (any) {
    Tensor t = reshape(m.extra(b.feats), {b.size()});
    loss = loss + mean(t * Tensor::from_vector<float>(mask, {b.size()}, b.y.device()));
  }
  return loss;
}

// A parameter's gradient as a dense tensor (row-sparse ones summed into their rows); undefined if none.
inline Tensor dense_grad(const Tensor& p) {
  if (p.has_sparse_grad()) return scatter_add_rows(p.sparse_grad_rows(), p.sparse_grad_indices(), p.shape(), true);
  if (p.grad().defined()) return p.grad();
  return Tensor();
}

inline void check_close(const Tensor& actual, const Tensor& expected, const std::string& what, float atol = kAtol,
                        float rtol = kRtol) {
  REQUIRE_MESSAGE(actual.shape() == expected.shape(), what, ": shape ", shape_str(actual.shape()), " vs ",
                  shape_str(expected.shape()));
  std::vector<float> a = actual.cpu().to_vector<float>(), e = expected.cpu().to_vector<float>();
  for (size_t i = 0; i < a.size(); ++i)
    if (!(std::fabs(a[i] - e[i]) <= atol + rtol * std::fabs(e[i]))) {
      FAIL_CHECK(what, ": element ", i, " is ", a[i], ", expected ", e[i]);
      return;
    }
}

// What one rank on the whole batches gives: the gradients after each step's backward, and the
// parameters after the last step.
struct Reference {
  std::vector<std::vector<Tensor>> grads;  // [step][parameter], undefined where none
  std::vector<std::vector<float>> params;
};

struct Plan {
  bool sparse = false;
  std::vector<int64_t> sizes;  // examples per rank in each global batch
  int steps = 3;
  Device device = Device::cpu();       // where the ranks train (the reference trains on the CPU)
  float atol = kAtol, rtol = kRtol;    // CUDA against the CPU reference needs more
  int64_t global() const {
    int64_t g = 0;
    for (int64_t s : sizes) g += s;
    return g;
  }
  int64_t start(int rank) const {
    int64_t s = 0;
    for (int r = 0; r < rank; ++r) s += sizes[r];
    return s;
  }
  Batch batch(int step) const { return make_batch(global(), 100 + 10 * static_cast<uint64_t>(step)); }
};

constexpr uint64_t kRank0Seed = 1000;  // rank r builds its model from seed 1000 + r; rank 0's wins

inline Reference reference(const Plan& plan) {
  Tiny ref(plan.sparse, kRank0Seed);
  nn::Adam opt(ref.parameters(), {.lr = 0.05f});
  Reference out;
  for (int s = 0; s < plan.steps; ++s) {
    tiny_loss(ref, plan.batch(s)).backward();
    out.grads.emplace_back();
    for (const Tensor& p : ref.parameters()) {
      Tensor g = dense_grad(p);
      out.grads.back().push_back(g.defined() ? g.clone() : Tensor());
    }
    opt.step();
    opt.zero_grad();
  }
  for (const Tensor& p : ref.parameters()) out.params.push_back(p.to_vector<float>());
  return out;
}

// One rank's part: trains its copy on its shards through GradientSync, checking after every sync
// that its gradients are the reference's. Returns its final parameters (compare across ranks:
// they must be equal bit for bit), the last sync's stats and the buckets started during backward
// over every step.
struct RankResult {
  std::vector<std::vector<float>> params;
  SyncStats stats;
  int overlapped = 0;
};

inline RankResult run_rank(Communicator& c, const Plan& plan, const Reference& ref, GradSyncOptions options = {}) {
  const int64_t local = plan.sizes[static_cast<size_t>(c.rank())];
  Tiny model(plan.sparse, kRank0Seed + static_cast<uint64_t>(c.rank()));  // broadcast_parameters fixes the difference
  model.to(plan.device);
  GradientSync sync(model, c, options);
  sync.broadcast_parameters();
  nn::Adam opt(model.parameters(), {.lr = 0.05f});
  RankResult out;
  for (int s = 0; s < plan.steps; ++s) {
    // As the trainer does: begin() before backward (buckets start as backward completes them),
    // sync() after it.
    const double weight = GradientSync::shard_weight(local, plan.global());
    const BackwardObserver observer = sync.begin(weight);
    if (local > 0)
      tiny_loss(model, plan.batch(s).rows(plan.start(c.rank()), local).to(plan.device)).backward(Tensor(), observer);
    sync.sync(weight);
    out.overlapped += sync.last_stats().overlapped;
    auto params = model.named_parameters();
    for (size_t i = 0; i < params.size(); ++i) {
      Tensor g = dense_grad(params[i].second);
      std::string what = detail::concat(c.who(), " step ", s, " gradient of ", params[i].first);
      REQUIRE_MESSAGE(g.defined() == ref.grads[s][i].defined(), what, ": defined ", g.defined(), " vs ",
                      ref.grads[s][i].defined());
      if (g.defined()) check_close(g, ref.grads[s][i], what, plan.atol, plan.rtol);
    }
    opt.step();
    opt.zero_grad();
  }
  auto params = model.named_parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    out.params.push_back(params[i].second.to_vector<float>());
    Shape shape = params[i].second.shape();
    check_close(params[i].second, Tensor::from_vector<float>(ref.params[i], shape),
                detail::concat(c.who(), " final ", params[i].first), plan.atol, plan.rtol);
  }
  out.stats = sync.last_stats();
  return out;
}

}  // namespace curec::dist::check

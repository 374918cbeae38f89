// The CUDA path's steady state (these cases run only on a GPU): after its first iteration a
// training step neither allocates device memory (no cudaMalloc: the caching allocator serves
// it) nor makes the host wait for the device, for each kind of model the book trains. Also the
// primitives that keep it so (copies, zeroing, the prefetcher), and the kernels rewritten
// without a GPU at hand (reductions, segmented sums, max pooling) against the CPU.
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "core/tensor_kernels.h"
#include "data/prefetch.h"
#include "models/caser.h"
#include "models/deepfm.h"
#include "models/mf.h"
#include "models/neumf.h"
#include "nn/adam.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/loss.h"
#include "ops/max_pool.h"
#include "ops/reduce.h"
#include "tests/testing.h"
#include "train/distributed/grad_sync.h"
#include "train/distributed/nccl_communicator.h"

using namespace curec;

namespace {

const Device kGpu = Device::cuda(0);

struct Counters {
  uint64_t allocations, syncs;
};
Counters counters() { return {memory_stats(kGpu).system_allocations, host_sync_count(kGpu)}; }

// Runs `step` `steps` times; steps 2..N must add no device allocation and no host sync.
void check_steady(const std::string& what, const std::function<void()>& step, int steps = 8) {
  step();  // the first step may allocate (the allocator's cache) and plan; the optimizer made its state
  const Counters before = counters();
  for (int s = 1; s < steps; ++s) step();
  const Counters after = counters();
  CHECK_MESSAGE(after.allocations == before.allocations, what, ": steps 2..", steps, " called cudaMalloc ",
                after.allocations - before.allocations, " times");
  CHECK_MESSAGE(after.syncs == before.syncs, what, ": steps 2..", steps, " made the host wait for the GPU ",
                after.syncs - before.syncs, " times");
  synchronize(kGpu);  // outside the counted steps: surfaces any device error
}

Tensor ids(int64_t n, int64_t bound, uint64_t seed) { return testing::randint({n}, bound, seed).to(kGpu); }

models::MFConfig ml100k_mf(bool sparse_grad) {  // MovieLens-100K's users and items
  models::MFConfig c;
  c.num_users = 943;
  c.num_items = 1682;
  c.sparse_grad = sparse_grad;
  return c;
}

template <class Model>
std::unique_ptr<nn::Adam> adam_for(Model& m) {
  return std::make_unique<nn::Adam>(m.parameters(), nn::AdamOptions{.lr = 0.01f});
}

}  // namespace

TEST_SUITE("cuda") {
  TEST_CASE("steady state: an MF step (row-sparse lazy Adam, and dense) allocates nothing and syncs nothing") {
    for (bool sparse : {true, false}) {
      const models::MFConfig c = ml100k_mf(sparse);
      models::MatrixFactorization mf(c);
      mf.to(kGpu);
      auto opt = adam_for(mf);
      Tensor u = ids(1024, c.num_users, 1), i = ids(1024, c.num_items, 2);
      Tensor r = testing::rand_uniform({1024}, 3, 1.0f, 5.0f).to(kGpu);
      Tensor loss_sum = Tensor::zeros({}, DType::f32, kGpu);
      check_steady(sparse ? "MF, sparse" : "MF, dense", [&] {
        Tensor loss = squared_error(mf.predict(u, i), r);
        loss.backward();
        opt->step();
        opt->zero_grad();
        loss_sum = loss_sum + loss.detach();  // the trainers' device-side running loss
      });
      CHECK(std::isfinite(loss_sum.item()));
    }
  }

  TEST_CASE("steady state: a NeuMF step with BPR loss allocates nothing and syncs nothing") {
    models::NeuMFConfig c;
    c.num_users = 943;
    c.num_items = 1682;
    models::NeuMF model(c);
    model.to(kGpu);
    auto opt = adam_for(model);
    Tensor u = ids(512, c.num_users, 4), pos = ids(512, c.num_items, 5), neg = ids(512, c.num_items, 6);
    check_steady("NeuMF", [&] {
      Tensor loss = bpr_loss(model.forward(u, pos), model.forward(u, neg));
      loss.backward();
      opt->step();
      opt->zero_grad();
    });
  }

  TEST_CASE("steady state: a Caser step (conv2d, max pool, dropout) allocates nothing and syncs nothing") {
    models::CaserConfig c;
    c.num_users = 943;
    c.num_items = 1682;
    models::Caser model(c);
    model.to(kGpu);
    model.train();
    auto opt = adam_for(model);
    Tensor u = ids(256, c.num_users, 7), pos = ids(256, c.num_items, 8), neg = ids(256, c.num_items, 9);
    Tensor seq = testing::randint({256, c.L}, c.num_items, 10).to(kGpu);
    check_steady("Caser", [&] {
      Tensor loss = bpr_loss(model.forward(u, seq, pos), model.forward(u, seq, neg));
      loss.backward();
      opt->step();
      opt->zero_grad();
    });
  }

  TEST_CASE("steady state: a DeepFM step (FM interaction, MLP, dropout) allocates nothing and syncs nothing") {
    models::DeepFMConfig c;
    c.field_dims = std::vector<int64_t>(10, 50);
    models::DeepFM model(c);
    model.to(kGpu);
    model.train();
    auto opt = adam_for(model);
    Tensor fields = testing::randint({512, 10}, 500, 11).to(kGpu);
    std::vector<float> y(512);
    for (int k = 0; k < 512; ++k) y[k] = static_cast<float>(k % 2);
    Tensor labels = Tensor::from_vector(y, {512}, kGpu);
    check_steady("DeepFM", [&] {
      Tensor loss = bce_with_logits(model.logits(fields), labels);
      loss.backward();
      opt->step();
      opt->zero_grad();
    });
  }

  TEST_CASE("steady state: a data-parallel MF step over NCCL (one GPU, the whole exchange) allocates and waits for nothing") {
    // Dense: every parameter is in a bucket, the buckets started from backward's observer, and
    // (all gradients this rank's own) no flag is read. Row-sparse: the row counts go over the
    // ranks' host channel and the rows are gathered with those counts: no wait either.
    auto comms = dist::nccl_init_all({0}, {.timeout_s = 60});
    for (bool sparse : {false, true}) {
      CAPTURE(sparse);
      const models::MFConfig c = ml100k_mf(sparse);
      models::MatrixFactorization mf(c);
      mf.to(kGpu);
      dist::GradientSync sync(mf, *comms[0], {.first_bucket_bytes = 4096, .exchange_alone = true});
      sync.broadcast_parameters();
      auto opt = adam_for(mf);
      Tensor u = ids(1024, c.num_users, 1), i = ids(1024, c.num_items, 2);
      Tensor r = testing::rand_uniform({1024}, 3, 1.0f, 5.0f).to(kGpu);
      auto step = [&] {
        Tensor loss = squared_error(mf.predict(u, i), r);
        loss.backward(Tensor(), sync.begin(1.0));
        sync.sync(1.0);
        opt->step();
        opt->zero_grad();
      };
      step();  // the first step fills the allocator's cache
      check_steady(sparse ? "data-parallel MF over NCCL, row-sparse" : "data-parallel MF over NCCL, dense", step);
      CHECK(sync.last_stats().host_waits == 0);
      // Row-sparse: all four tables (factors and biases) are gathered (SparseExchange::gather).
      if (sparse) CHECK(sync.last_stats().meta_bytes == 4 * 8);  // a row count per table
      else CHECK(sync.last_stats().overlapped >= 2);
    }
  }

  TEST_CASE("steady state: the prefetcher streams batches without a host wait per batch") {
    const int64_t n = 20000, batch = 1000;
    Tensor x = testing::randint({n}, 943, 13), y = testing::randn({n, 3}, 14);
    data::Prefetcher p({x, y}, batch, kGpu);
    std::vector<Tensor> got;
    Tensor acc = Tensor::zeros({}, DType::f32, kGpu);
    for (int b = 0; b < 2; ++b) {  // batches 1 and 2 fill the allocator's cache
      REQUIRE(p.next(got));
      acc = acc + sum(got[1]);
    }
    const Counters before = counters();
    int batches = 2;
    while (p.next(got)) {
      acc = acc + sum(got[1]);
      ++batches;
    }
    CHECK(batches == n / batch);
    CHECK(counters().syncs == before.syncs);
    CHECK(counters().allocations == before.allocations);
    // A shuffled epoch hands out the gathered rows intact.
    std::vector<int64_t> order(n);
    for (int64_t k = 0; k < n; ++k) order[k] = (k * 7919) % n;
    p.start_epoch(order);
    std::vector<int64_t> xs = x.to_vector<int64_t>();
    for (int64_t b = 0; p.next(got); ++b) {
      std::vector<int64_t> g = got[0].to_vector<int64_t>();
      for (int64_t k = 0; k < batch; ++k) REQUIRE(g[k] == xs[order[b * batch + k]]);
    }
  }

  TEST_CASE("copies and zeroing: pageable uploads and memsets do not wait; downloads do, and are counted") {
    const uint64_t before = host_sync_count(kGpu);
    std::vector<int64_t> v(5000, 3);
    Tensor t = Tensor::from_vector(v, {5000}, kGpu);  // pageable host -> device
    zero_bytes(t.raw_data(), t.nbytes(), kGpu);
    Tensor f = Tensor::full({777}, 0.0f, kGpu);  // fill 0: a memset
    CHECK(host_sync_count(kGpu) == before);
    CHECK(t.to_vector<int64_t>() == std::vector<int64_t>(5000, 0));
    CHECK(host_sync_count(kGpu) == before + 1);
    CHECK(f.to_vector<float>() == std::vector<float>(777, 0.0f));
    for (DType d : {DType::u8, DType::i32, DType::i64, DType::f32}) {
      Tensor z = Tensor::zeros({1001}, d, kGpu);
      testing::check_same_output(z, Tensor::zeros({1001}, d), 0, 0, "zeros " + dtype_name(d));
    }
    // A reused host buffer after an upload: the device has what it held at the call.
    std::vector<float> host(100000, 1.0f);
    Tensor a = Tensor::from_vector(host, {100000}, kGpu);
    std::fill(host.begin(), host.end(), 2.0f);
    CHECK(sum(a).item() == 100000.0f);
  }

  TEST_CASE("reductions: every kernel path (warp rows, block rows, split rows, columns, split columns) matches the CPU") {
    struct Case {
      Shape shape;
      int64_t dim;  // INT64_MIN: everything
    };
    const std::vector<Case> cases = {
        {{1000, 30}, 1},      {{1000, 30}, 0},     {{7, 5000}, 1},       {{3, 100000}, 1}, {{100000}, INT64_MIN},
        {{1000, 30, 7}, 1},   {{5, 50000, 33}, 1}, {{100000, 30}, 0},    {{2, 3, 2}, 1},   {{4, 0, 3}, 1},
        {{64, 2, 3000}, 1},   {{300, 40, 65}, 0},  {{1, 2049}, 1},       {{9, 1, 5}, 1},
    };
    for (const Case& c : cases) {
      Tensor x = testing::randn(c.shape, 15);
      Tensor cpu = c.dim == INT64_MIN ? sum(x) : sum(x, c.dim);
      Tensor g1 = c.dim == INT64_MIN ? sum(x.to(kGpu)) : sum(x.to(kGpu), c.dim);
      Tensor g2 = c.dim == INT64_MIN ? sum(x.to(kGpu)) : sum(x.to(kGpu), c.dim);
      const int64_t d = c.dim == INT64_MIN ? x.numel() : x.size(c.dim);
      const std::string what = shape_str(c.shape) + " over " + (c.dim == INT64_MIN ? "all" : std::to_string(c.dim));
      testing::check_close(g1, cpu, 1e-5f * std::sqrt(static_cast<float>(d)) + 1e-5f, 1e-4f, what);
      testing::check_close(g2, g1, 0.0f, 0.0f, what + ", run twice");
    }
  }

  TEST_CASE("segmented sums: a run of 70000 equal ids, deterministic and close to the CPU; lazy Adam on it") {
    const int64_t n = 70000, rows = 10, width = 8;
    std::vector<int64_t> id(n);
    for (int64_t k = 0; k < n; ++k) id[k] = k % 1000 == 0 ? k / 1000 % rows : 3;  // row 3: ~69930 times
    Tensor idx = Tensor::from_vector(id, {n});
    Tensor grad = testing::randn({n, width}, 16, 0.01f);
    Tensor cpu = scatter_add_rows(grad, idx, {rows, width}, true);
    Tensor g1 = scatter_add_rows(grad.to(kGpu), idx.to(kGpu), {rows, width}, true);
    Tensor g2 = scatter_add_rows(grad.to(kGpu), idx.to(kGpu), {rows, width}, true);
    testing::check_close(g1, cpu, 1e-4f, 1e-4f, "sorted scatter vs CPU");
    testing::check_close(g2, g1, 0.0f, 0.0f, "sorted scatter run twice");
    Tensor atomic = scatter_add_rows(grad.to(kGpu), idx.to(kGpu), {rows, width}, false);
    testing::check_close(atomic, cpu, 1e-4f, 1e-4f, "atomic scatter vs CPU");
    // The lazy optimizer sums the same runs.
    Tensor w_cpu = testing::randn({rows, width}, 17).set_requires_grad();
    Tensor w_gpu = w_cpu.to(kGpu).detach().set_requires_grad();
    nn::Adam a({w_cpu}, {.lr = 0.1f}), b({w_gpu}, {.lr = 0.1f});
    w_cpu.set_sparse_grad(idx, grad);
    w_gpu.set_sparse_grad(idx.to(kGpu), grad.to(kGpu));
    a.step();
    b.step();
    testing::check_close(w_gpu, w_cpu, 1e-5f, 1e-5f, "lazy Adam over a long run");
  }

  TEST_CASE("max_pool1d on CUDA: ties everywhere and overlapping windows, bit for bit the CPU's first maximum") {
    // Small integers: most windows hold tied maxima.
    std::vector<int64_t> r = testing::randint({8 * 4 * 13}, 4, 18).to_vector<int64_t>();
    std::vector<float> v(r.begin(), r.end());
    Tensor x = Tensor::from_vector(v, {8, 4, 13});
    x.set_requires_grad();
    for (auto [kernel, stride] : {std::pair<int64_t, int64_t>{13, 0}, {3, 1}, {4, 2}, {5, 3}, {2, 1}, {1, 1}})
      testing::check_parity([k = kernel, s = stride](const std::vector<Tensor>& in) { return max_pool1d(in[0], k, s); },
                            {x}, 0.0f, 0.0f);
  }
}

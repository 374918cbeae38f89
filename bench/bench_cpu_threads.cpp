// Speed of curec's CPU loops by thread count, and the CPU BLAS on curec's pool against
// OpenBLAS's own threads (the measurement behind ops/blas.h).
//   bench_cpu_threads [--threads 1,2] [--repeat 7]
// Prints one JSON object: per loop and thread count the median seconds of --repeat runs, and
// for the matrix products each way of threading them.
#include <cblas.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>
#include <tuple>
#include <vector>

#include "core/autograd.h"
#include "core/parallel.h"
#include "core/random.h"
#include "nn/adam.h"
#include "ops/blas.h"
#include "ops/bmm.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/matmul.h"
#include "ops/mf_step.h"
#include "ops/reduce.h"

extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace {

using namespace curec;

double median_seconds(int repeat, const std::function<void()>& f) {
  f();  // warm: first-touch pages, the pool's threads
  std::vector<double> t;
  for (int r = 0; r < repeat; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

Tensor randn(const Shape& s, uint64_t seed) {
  Generator g(seed);
  Tensor t = Tensor::empty(s);
  return normal_(t, 0.0f, 1.0f, g);
}

Tensor ids(int64_t n, int64_t rows, uint64_t seed) {
  Generator g(seed);
  Tensor t = Tensor::empty({n}, DType::i64);
  return randint_(t, rows, g);
}

// An Adam whose update_dense / update_sparse the bench calls directly, as the optimizer's step does.
struct AdamLoops : nn::Adam {
  using nn::Adam::Adam;
  void dense(Tensor& p, const Tensor& g, std::vector<Tensor>& s) { update_dense(p, g, s, 3); }
  void sparse(Tensor& p, const Tensor& i, const Tensor& r, std::vector<Tensor>& s) { update_sparse(p, i, r, s, 3); }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"curec's CPU loops by thread count"};
  std::vector<int> thread_counts{1, 2};
  int repeat = 7;
  app.add_option("--threads", thread_counts, "thread counts to run")->delimiter(',');
  app.add_option("--repeat", repeat, "timed runs per loop (the median is reported)")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    NoGradGuard no_grad;
    // MovieLens-20M-sized MF (bench_mf_scale): 138,493 users x 32 factors, batches of 65,536.
    const int64_t users = 138'493, items = 26'744, k = 32, batch = 65'536;
    Tensor P = randn({users, k}, 1).set_requires_grad(), Q = randn({items, k}, 2), bu = randn({users, 1}, 3), bi = randn({items, 1}, 4);
    Tensor u = ids(batch, users, 5), it = ids(batch, items, 6), rating = randn({batch}, 7);
    Tensor gP = Tensor::zeros({users, k}), gQ = Tensor::zeros({items, k}), gbu = Tensor::zeros({users, 1}),
           gbi = Tensor::zeros({items, 1}), loss = Tensor::zeros({1});
    Tensor grad = randn({users, k}, 8), rows = randn({batch, k}, 9);
    Tensor a = randn({4'000'000}, 10), b = randn({4'000'000}, 11);
    AdamLoops adam({P}, nn::AdamOptions{.lr = 1e-3f});
    std::vector<Tensor> slots{Tensor::zeros({users, k}), Tensor::zeros({users, k})};
    Tensor A = randn({943, 1682}, 12), B = randn({1682, 500}, 13), C = Tensor::empty({943, 500});
    Tensor X = randn({4096, 400}, 14), W = randn({400, 400}, 15), Y = Tensor::empty({4096, 400});
    // Attention at SASRec's ML-1M shapes (batch 128, 200 positions, d = 50): scores Q Kᵀ, then
    // scores V, and a key mask [128, 1, 200] broadcast over the scores (the general path).
    Tensor Qs = randn({128, 200, 50}, 16), S = randn({128, 200, 200}, 17), keys = randn({128, 1, 200}, 18);
    Tensor rows3 = randn({128, 200, 1}, 19);

    std::vector<std::pair<std::string, std::function<void()>>> loops = {
        {"mul 4M", [&] { (void)(a * b); }},
        {"sigmoid 4M", [&] { (void)sigmoid(a); }},
        {"sum 4M", [&] { (void)sum(a); }},
        {"sum [65536, 32] over dim 1", [&] { (void)sum(rows, 1); }},
        {"embedding gather 65536 x 32", [&] { (void)embedding(P, u); }},
        {"embedding scatter-add 65536 x 32 (deterministic)",
         [&] { (void)scatter_add_rows(rows, u, {users, k}, true); }},
        {"adam dense 4.4M", [&] { adam.dense(P, grad, slots); }},
        {"adam row-sparse 65536 x 32", [&] { adam.sparse(P, u, rows, slots); }},
        {"mf fused step 65536", [&] { mf_fused_step(P, Q, bu, bi, u, it, rating, gP, gQ, gbu, gbi, loss); }},
        {"zero 4.4M", [&] { gP.zero_(); }},
        {"randperm 2M", [&] {
           Generator g(1);
           (void)randperm(2'000'000, g);
         }},
        {"matmul 943x1682 . 1682x500", [&] { (void)matmul(A, B); }},
        {"matmul 4096x400 . 400x400", [&] { (void)matmul(X, W); }},
        {"bmm 128 x (200x50 . (200x50)^T)", [&] { (void)bmm(Qs, Qs, false, true); }},
        {"bmm 128 x (200x200 . 200x50)", [&] { (void)bmm(S, Qs); }},
        {"add [128, 200, 200] + [128, 1, 200] (row per batch entry)", [&] { (void)(S + keys); }},
        {"mul [128, 1, 200] * [128, 200, 1] (both stretched)", [&] { (void)(keys * rows3); }},
    };
    nlohmann::json results = nlohmann::json::array();
    for (auto& [name, f] : loops) {
      nlohmann::json row{{"loop", name}};
      for (int t : thread_counts) {
        set_cpu_threads(t);
        row["seconds_" + std::to_string(t)] = median_seconds(repeat, f);
      }
      const double t1 = row["seconds_" + std::to_string(thread_counts.front())];
      const double tn = row["seconds_" + std::to_string(thread_counts.back())];
      row["speedup"] = t1 / tn;
      results.push_back(row);
      std::fprintf(stderr, "%-50s %s\n", name.c_str(), row.dump().c_str());
    }

    // The products three ways at the largest thread count: curec's pool with a single-threaded
    // BLAS (what matmul does), OpenBLAS's own threads, and OpenBLAS's threads under a pool of
    // as many threads each running a product (what a product inside a parallel_for would do).
    const int t = thread_counts.back();
    nlohmann::json blas = nlohmann::json::array();
    auto raw = [](const Tensor& x, const Tensor& y, Tensor& z) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(x.size(0)), static_cast<int>(y.size(1)),
                  static_cast<int>(x.size(1)), 1.0f, x.data<float>(), static_cast<int>(x.size(1)), y.data<float>(),
                  static_cast<int>(y.size(1)), 0.0f, z.data<float>(), static_cast<int>(y.size(1)));
    };
    for (const auto& product : {std::tuple{&A, &B, &C, "943x1682 . 1682x500"}, std::tuple{&X, &W, &Y, "4096x400 . 400x400"}}) {
      // Plain variables, not a structured binding: the lambdas below capture them (clang before 16
      // cannot capture a structured binding).
      Tensor* x = std::get<0>(product);
      Tensor* y = std::get<1>(product);
      Tensor* z = std::get<2>(product);
      const char* name = std::get<3>(product);
      nlohmann::json row{{"product", name}, {"threads", t}};
      set_cpu_threads(t);
      row["pool_seconds"] = median_seconds(repeat, [&] { cpu_gemm(false, false, x->size(0), y->size(1), x->size(1),
                                                                  x->data<float>(), x->size(1), y->data<float>(),
                                                                  y->size(1), 0.0f, z->data<float>(), y->size(1)); });
      if (openblas_set_num_threads) {
        openblas_set_num_threads(t);
        set_cpu_threads(1);
        row["openblas_threads_seconds"] = median_seconds(repeat, [&] { raw(*x, *y, *z); });
        set_cpu_threads(t);
        // t pool tasks, each a product with OpenBLAS's t threads: t x t threads on the cores.
        std::vector<Tensor> outs;
        for (int i = 0; i < t; ++i) outs.push_back(Tensor::empty(z->shape()));
        row["nested_openblas_seconds_per_product"] =
            median_seconds(repeat, [&] {
              std::vector<std::thread> th;
              for (int i = 0; i < t; ++i) th.emplace_back([&, i] { raw(*x, *y, outs[i]); });
              for (auto& h : th) h.join();
            }) / t;
        openblas_set_num_threads(1);
        row["pool_nested_seconds_per_product"] =
            median_seconds(repeat, [&] {
              parallel_for(0, t, 1, [&](int64_t b0, int64_t e0) {
                for (int64_t i = b0; i < e0; ++i)
                  cpu_gemm(false, false, x->size(0), y->size(1), x->size(1), x->data<float>(), x->size(1),
                           y->data<float>(), y->size(1), 0.0f, outs[i].data<float>(), y->size(1));
              });
            }) / t;
      }
      blas.push_back(row);
      std::fprintf(stderr, "%s\n", row.dump().c_str());
    }
    nlohmann::json j{{"bench", "cpu_threads"}, {"repeat", repeat}, {"loops", results}, {"blas", blas}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cpu_threads: %s\n", e.what());
    return 1;
  }
}

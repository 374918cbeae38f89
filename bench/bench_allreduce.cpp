// All-reduce bandwidth as nccl-tests reports it (all_reduce_perf): for each size, the time of one
// in-place f32 sum all-reduce, the algorithm bandwidth algbw = bytes / time and the bus bandwidth
// busbw = algbw * 2(n-1)/n (what each rank's link carries in a ring, comparable across n).
//   bench_allreduce [--device cpu|cuda] [--world-size N] [--min-bytes 8] [--max-bytes 256M]
//                   [--factor 2] [--iters I] [--warmup W]
// cpu: N in-process ranks over threads (default 2); cuda: N GPUs of this process over NCCL
// (default: every GPU). One JSON line per size, then a summary line (the last line).
// Time per size: the slowest rank's mean over the timed iterations. Each size is also checked:
// after timing, rank r all-reduces r + 1 and every element must be n(n+1)/2 ("wrong" counts misses).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/tensor.h"
#include "train/distributed/communicator.h"
#include "train/distributed/local_ranks.h"

using namespace curec;
using namespace curec::dist;

namespace {

int64_t parse_bytes(const std::string& s) {
  CUREC_CHECK(!s.empty(), "empty size; give bytes such as 8, 64K, 256M or 1G");
  int64_t mult = 1;
  std::string digits = s;
  char last = s.back();
  if (last == 'K' || last == 'k') mult = int64_t{1} << 10;
  else if (last == 'M' || last == 'm') mult = int64_t{1} << 20;
  else if (last == 'G' || last == 'g') mult = int64_t{1} << 30;
  if (mult != 1) digits.pop_back();
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(digits, &used);
  } catch (...) {
    used = 0;
  }
  CUREC_CHECK(used == digits.size() && v > 0, "'", s, "' is not a size; give bytes such as 8, 64K, 256M or 1G");
  return v * mult;
}

struct Row {
  double seconds = 0;  // per all-reduce, slowest rank
  int64_t wrong = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"All-reduce algorithm and bus bandwidth (nccl-tests' definitions)"};
  std::string device = "cpu", min_s = "8", max_s = "256M";
  int world = 0, iters = 0, warmup = 2;
  double factor = 2;
  app.add_option("--device", device, "cpu (threads) or cuda (NCCL, GPUs 0..N-1)");
  app.add_option("--world-size", world, "ranks (default: 2 on the CPU, every GPU with cuda)");
  app.add_option("--min-bytes", min_s);
  app.add_option("--max-bytes", max_s);
  app.add_option("--factor", factor, "size step (x factor)")->check(CLI::Range(1.01, 1024.0));
  app.add_option("--iters", iters, "timed iterations per size (default: by size, 5..1000)");
  app.add_option("--warmup", warmup)->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    Device dev = Device::parse(device);
    const int64_t min_bytes = std::max<int64_t>(4, parse_bytes(min_s)), max_bytes = parse_bytes(max_s);
    CUREC_CHECK(min_bytes <= max_bytes, "--min-bytes ", min_s, " exceeds --max-bytes ", max_s);
    if (dev.is_cuda()) {
      if (world == 0) world = cuda_device_count();
      CUREC_CHECK(world >= 1 && world <= cuda_device_count(), "--world-size ", world, " with --device cuda: this machine has ",
                  cuda_device_count(), " GPUs (NCCL takes one rank per GPU)");
    } else {
      if (world == 0) world = 2;
      CUREC_CHECK(world >= 1, "--world-size ", world, " must be >= 1");
    }
    LocalRanks ranks(world, dev.is_cuda() ? Device::cuda(0) : dev);
    const std::string backend = ranks.communicator(0).backend();

    std::vector<int64_t> sizes;
    for (double b = static_cast<double>(min_bytes); b <= static_cast<double>(max_bytes) * 1.0000001; b *= factor)
      sizes.push_back(std::max<int64_t>(4, static_cast<int64_t>(b) / 4 * 4));
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());

    std::vector<std::vector<Row>> rows(sizes.size(), std::vector<Row>(static_cast<size_t>(world)));
    std::vector<int> iters_of(sizes.size());
    for (size_t k = 0; k < sizes.size(); ++k)
      iters_of[k] = iters > 0 ? iters : static_cast<int>(std::clamp<int64_t>((int64_t{1} << 30) / sizes[k], 5, 1000));

    ranks.run([&](Communicator& c) {
      const Device d = c.device();
      for (size_t k = 0; k < sizes.size(); ++k) {
        const int64_t count = sizes[k] / 4;
        Tensor t = Tensor::full({count}, 1.0f, d);
        for (int w = 0; w < warmup; ++w) c.all_reduce(t);
        c.barrier();
        auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < iters_of[k]; ++i) c.all_reduce(t);
        c.synchronize();
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        Row& row = rows[k][c.rank()];
        row.seconds = secs / iters_of[k];
        t.fill_(static_cast<float>(c.rank() + 1));
        c.all_reduce(t);
        const float expect = static_cast<float>(c.world_size() * (c.world_size() + 1) / 2);
        std::vector<float> v = t.to_vector<float>();
        row.wrong = std::count_if(v.begin(), v.end(), [&](float x) { return x != expect; });
      }
    });

    double best_busbw = 0;
    int64_t best_at = 0, wrong_total = 0;
    const double bus_factor = world > 1 ? 2.0 * (world - 1) / world : 0.0;
    for (size_t k = 0; k < sizes.size(); ++k) {
      double secs = 0;
      int64_t wrong = 0;
      for (const Row& r : rows[k]) {
        secs = std::max(secs, r.seconds);
        wrong += r.wrong;
      }
      const double algbw = static_cast<double>(sizes[k]) / secs / 1e9;
      const double busbw = algbw * bus_factor;
      if (busbw > best_busbw) {
        best_busbw = busbw;
        best_at = sizes[k];
      }
      wrong_total += wrong;
      nlohmann::json j{{"bench", "allreduce"}, {"backend", backend},     {"device", dev.str()},
                       {"world_size", world},  {"bytes", sizes[k]},      {"count", sizes[k] / 4},
                       {"dtype", "f32"},       {"op", "sum"},            {"iters", iters_of[k]},
                       {"time_us", secs * 1e6}, {"algbw_gbps", algbw},   {"busbw_gbps", busbw},
                       {"wrong", wrong}};
      std::printf("%s\n", j.dump().c_str());
      std::fflush(stdout);
    }
    double small_us = 0;
    for (const Row& r : rows[0]) small_us = std::max(small_us, r.seconds * 1e6);
    nlohmann::json summary{{"bench", "allreduce"},     {"summary", true},          {"backend", backend},
                           {"device", dev.str()},      {"world_size", world},      {"sizes", sizes.size()},
                           {"min_bytes", sizes.front()}, {"max_bytes", sizes.back()}, {"latency_us", small_us},
                           {"peak_busbw_gbps", best_busbw}, {"peak_at_bytes", best_at}, {"wrong", wrong_total}};
    std::printf("%s\n", summary.dump().c_str());
    return wrong_total == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_allreduce: %s\n", e.what());
    return 1;
  }
}

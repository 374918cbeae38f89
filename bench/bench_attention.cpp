// Time of the fused attention op (ops/attention.h) at SASRec's shapes: forward alone, and forward
// plus backward (dq, dk, dv), causal, with a key padding mask, one JSON line per shape. On a GPU
// it times the fused CUDA kernels; on the CPU, the reference loops.
//   bench_attention [--device cpu|cuda] [--repeats N] [--batch B] [--length L] [--dropout P]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "core/device.h"
#include "core/parallel.h"
#include "core/random.h"
#include "ops/attention.h"
#include "ops/reduce.h"

namespace {

using namespace curec;

struct Shape4 {
  int64_t heads, d;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Tensor random_input(const Shape& s, Generator& g, Device device) {
  Tensor t = Tensor::empty(s);
  normal_(t, 0.0f, 1.0f, g);
  return t.to(device);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Fused attention at SASRec's shapes (B = 128, L = 200; H = 1, D = 50 and H = 2, D = 64)"};
  std::string device_name = "cpu";
  int repeats = 5;
  int64_t batch = 128, length = 200;
  float dropout = 0.0f;
  app.add_option("--device", device_name);
  app.add_option("--repeats", repeats, "Timed runs per shape (the median is reported)")->check(CLI::PositiveNumber);
  app.add_option("--batch", batch, "Sequences per batch")->check(CLI::PositiveNumber);
  app.add_option("--length", length, "Sequence length L")->check(CLI::PositiveNumber);
  app.add_option("--dropout", dropout, "Attention dropout while training (0 = none)");
  CLI11_PARSE(app, argc, argv);
  try {
    const Device device = Device::parse(device_name);
    Generator gen(1);
    for (Shape4 s : {Shape4{1, 50}, Shape4{2, 64}}) {
      const Shape shape{batch, s.heads, length, s.d};
      Tensor q = random_input(shape, gen, device).set_requires_grad();
      Tensor k = random_input(shape, gen, device).set_requires_grad();
      Tensor v = random_input(shape, gen, device).set_requires_grad();
      Tensor grad = random_input(shape, gen, device);
      // The last quarter of each sequence's keys is padding, as SASRec's left-padded short sequences.
      Tensor pad = Tensor::zeros({batch, length}, DType::u8);
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t j = 0; j < length / 4; ++j) static_cast<uint8_t*>(pad.raw_data())[b * length + j] = 1;
      pad = pad.to(device);
      const AttentionOptions o{.causal = true, .key_padding_mask = pad, .dropout = dropout, .training = dropout > 0.0f};
      std::vector<double> fwd, fwd_bwd;
      for (int r = 0; r < repeats + 1; ++r) {  // the first run warms caches and the allocator
        auto t0 = std::chrono::steady_clock::now();
        Tensor out;
        {
          NoGradGuard no_grad;
          out = attention(q, k, v, o);
        }
        synchronize(device);
        const double f = seconds_since(t0);
        t0 = std::chrono::steady_clock::now();
        attention(q, k, v, o).backward(grad);
        synchronize(device);
        const double fb = seconds_since(t0);
        if (r > 0) {
          fwd.push_back(f);
          fwd_bwd.push_back(fb);
        }
        for (Tensor* t : {&q, &k, &v}) t->zero_grad();
      }
      nlohmann::json j{{"bench", "attention"},
                       {"device", device.str()},
                       {"cpu_threads", cpu_threads()},
                       {"batch", batch},
                       {"heads", s.heads},
                       {"length", length},
                       {"head_dim", s.d},
                       {"causal", true},
                       {"dropout", dropout},
                       {"repeats", repeats},
                       {"forward_ms", median(fwd) * 1e3},
                       {"forward_backward_ms", median(fwd_bwd) * 1e3},
                       {"sequences_per_s_forward_backward", static_cast<double>(batch) / median(fwd_bwd)}};
      std::printf("%s\n", j.dump().c_str());
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_attention: %s\n", e.what());
    return 1;
  }
  return 0;
}

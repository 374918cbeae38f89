// SASRec training steps per second at the paper's MovieLens-1M shapes, through the fused
// attention op and through the composed path (bmm + softmax + bmm), on random sequences.
//   bench_sasrec [--device cpu|cuda] [--threads 1] [--batch 128] [--maxlen 200] [--hidden 50]
//                [--blocks 2] [--heads 1] [--steps 5]
// Prints one JSON object: per path the median seconds of a step (forward, backward, Adam) and
// the sequences per second it implies.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/parallel.h"
#include "core/random.h"
#include "models/sasrec.h"
#include "nn/adam.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

using namespace curec;

int main(int argc, char** argv) {
  CLI::App app("SASRec training steps: fused attention vs the composed path");
  std::string device = "cpu";
  int threads = 1, steps = 5;
  models::SASRecConfig c{.num_items = 3400};
  int64_t batch = 128;
  app.add_option("--device", device);
  app.add_option("--threads", threads);
  app.add_option("--steps", steps);
  app.add_option("--batch", batch);
  app.add_option("--maxlen", c.maxlen);
  app.add_option("--hidden", c.hidden);
  app.add_option("--blocks", c.blocks);
  app.add_option("--heads", c.heads);
  CLI11_PARSE(app, argc, argv);
  set_cpu_threads(threads);
  const Device dev = Device::parse(device);
  Generator data_gen(1);
  // Sequences of random length, left-padded as the sequence task builds them.
  std::vector<int64_t> s(static_cast<size_t>(batch * c.maxlen), 0), p = s, n = s;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t len = 1 + (b * 37) % c.maxlen;
    for (int64_t t = c.maxlen - len; t < c.maxlen; ++t) {
      const size_t i = static_cast<size_t>(b * c.maxlen + t);
      s[i] = 1 + (b * 131 + t * 17) % c.num_items;
      p[i] = 1 + (b * 71 + t * 29) % c.num_items;
      n[i] = 1 + (b * 53 + t * 13) % c.num_items;
    }
  }
  const Shape shape{batch, c.maxlen};
  Tensor seqs = Tensor::from_vector(s, shape).to(dev), pos = Tensor::from_vector(p, shape).to(dev);
  Tensor neg = Tensor::from_vector(n, shape).to(dev);
  nlohmann::json out{{"bench", "sasrec"}, {"device", device}, {"threads", threads}, {"batch", batch},
                     {"maxlen", c.maxlen}, {"hidden", c.hidden}, {"blocks", c.blocks}, {"heads", c.heads}};
  for (bool fused : {true, false}) {
    c.fused_attention = fused;
    Generator gen(0);
    models::SASRec model(c, gen);
    model.to(dev);
    nn::Adam opt(model.parameters(), {.lr = 1e-3f, .beta2 = 0.98f});
    std::vector<double> t;
    for (int k = 0; k <= steps; ++k) {  // step 0 warms up
      const auto t0 = std::chrono::steady_clock::now();
      opt.zero_grad();
      auto [pl, nl] = model.score_next(seqs, pos, neg);
      Tensor loss = sum(pl * pl + nl * nl);  // any scalar of both: the backward is the cost measured
      loss.backward();
      opt.step();
      (void)loss.item();  // waits for the device
      if (k > 0) t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    const double med = t[t.size() / 2];
    out[fused ? "fused" : "composed"] = {{"seconds_per_step", med}, {"sequences_per_sec", batch / med}};
    std::fprintf(stderr, "%s: %.3f s a step, %.0f sequences/s\n", fused ? "fused" : "composed", med, batch / med);
  }
  std::printf("%s\n", out.dump().c_str());
}

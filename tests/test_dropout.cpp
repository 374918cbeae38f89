#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "core/generator.h"
#include "ops/dropout.h"
#include "tests/testing.h"

using namespace curec;
using testing::randn;

namespace {
// Fraction of non-zero elements; every non-zero must equal `expected`.
double kept_fraction(const Tensor& y, float expected) {
  std::vector<float> v = y.to_vector<float>();
  int64_t kept = 0;
  for (float e : v) {
    if (e == 0.0f) continue;
    ++kept;
    if (e != expected) {
      FAIL_CHECK("kept element ", e, " is not scaled to ", expected);
      break;
    }
  }
  return static_cast<double>(kept) / static_cast<double>(v.size());
}
}  // namespace

TEST_CASE("dropout keeps about 1 - p of the elements and scales them by 1 / (1 - p)") {
  for (float p : {0.1f, 0.5f, 0.8f}) {
    CAPTURE(p);
    Generator gen(42);
    Tensor y = dropout(Tensor::ones({200, 500}), p, true, gen);
    // 100000 Bernoulli draws: standard deviation below 0.0016.
    double kept = kept_fraction(y, 1.0f / (1.0f - p));
    CHECK(std::fabs(kept - (1.0 - p)) < 0.01);
    CHECK(gen.offset() == 100000 / 4);
  }
}

TEST_CASE("dropout is the identity in evaluation and at p = 0, and rejects p outside [0, 1)") {
  Tensor x = randn({10, 3}, 1);
  Generator gen(1);
  CHECK(dropout(x, 0.5f, false, gen).raw_data() == x.raw_data());
  CHECK(dropout(x, 0.0f, true, gen).raw_data() == x.raw_data());
  CHECK(gen.offset() == 0);
  CHECK_THROWS_WITH_AS(dropout(x, 1.0f, true, gen), doctest::Contains("[0, 1)"), Error);
  CHECK_THROWS_WITH_AS(dropout(x, -0.1f, true, gen), doctest::Contains("[0, 1)"), Error);
}

TEST_CASE("dropout masks follow the generator: same state, same mask; next call, new mask") {
  Tensor x = Tensor::ones({1000});
  Generator a(7), b(7);
  std::vector<float> first = dropout(x, 0.5f, true, a).to_vector<float>();
  CHECK(dropout(x, 0.5f, true, b).to_vector<float>() == first);
  CHECK(dropout(x, 0.5f, true, a).to_vector<float>() != first);
}

TEST_CASE("dropout backward multiplies by the forward mask") {
  Tensor x = randn({7, 9}, 2);
  x.set_requires_grad();
  Generator gen(3);
  Tensor y = dropout(x, 0.4f, true, gen);
  Tensor w = randn({7, 9}, 4);
  y.backward(w);
  std::vector<float> xv = x.to_vector<float>(), yv = y.to_vector<float>(), wv = w.to_vector<float>(),
                     gv = x.grad().to_vector<float>();
  int dropped = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    float mask = yv[i] == 0.0f ? 0.0f : 1.0f / 0.6f;
    dropped += yv[i] == 0.0f;
    CHECK(gv[i] == doctest::Approx(wv[i] * mask));
  }
  CHECK(dropped > 0);
  CHECK(dropped < static_cast<int>(xv.size()));
}

TEST_CASE("DropoutRows: a shard of rows draws exactly the whole batch's masks for those rows") {
  // Width 5 is not a multiple of 4: each row starts its own Philox counter.
  const int64_t rows = 7, width = 5;
  Tensor x = randn({rows, width}, 21);
  Generator whole_gen(5), shard_gen(5);
  Tensor whole;
  {
    DropoutRows scope(0, rows);
    whole = dropout(x, 0.4f, true, whole_gen);
  }
  const std::vector<float> all = whole.to_vector<float>();
  for (int64_t first : {0, 2, 6}) {
    const int64_t count = std::min<int64_t>(3, rows - first);
    shard_gen.set_offset(0);
    DropoutRows scope(first, rows);
    std::vector<float> part = dropout(x.rows(first, count).clone(), 0.4f, true, shard_gen).to_vector<float>();
    CHECK(std::vector<float>(all.begin() + first * width, all.begin() + (first + count) * width) == part);
    // Every shard advances the generator by the whole batch's counters, as one rank does.
    CHECK(shard_gen.offset() == whole_gen.offset());
  }
  // Not every element is kept (the masks are real), and outside a scope a tensor is one row.
  CHECK(std::count(all.begin(), all.end(), 0.0f) > 0);
  Generator flat_gen(5);
  CHECK(flat_gen.offset() == 0);
  dropout(x, 0.4f, true, flat_gen);
  CHECK(flat_gen.offset() == philox::uniform_counters(rows * width));
  // Rows past the batch the scope names are an error, not a silent wrap.
  DropoutRows small(5, rows);
  CHECK(testing::error_of([&] { dropout(x.rows(0, 3).clone(), 0.4f, true, shard_gen); }).find("overrun the batch") !=
        std::string::npos);
}

TEST_CASE("DropoutRows: gradient check of the keyed masks (generator rewound per evaluation)") {
  Tensor x = randn({4, 6}, 23);
  x.set_requires_grad();
  Generator gen(17);
  testing::check_gradients(
      [&gen](const std::vector<Tensor>& in) {
        gen.set_offset(0);
        DropoutRows scope(1, 6);
        return dropout(in[0], 0.3f, true, gen);
      },
      {x});
}

TEST_SUITE("cuda") {
  TEST_CASE("DropoutRows: CPU-vs-CUDA parity of the keyed masks and their gradient") {
    Tensor x = randn({9, 30}, 25);
    x.set_requires_grad();
    Generator gen(19);
    testing::check_parity(
        [&gen](const std::vector<Tensor>& in) {
          gen.set_offset(0);
          DropoutRows scope(3, 20);
          return dropout(in[0], 0.2f, true, gen);
        },
        {x});
  }

  TEST_CASE("dropout drops exactly the same elements on CPU and CUDA") {
    for (int64_t n : {1, 5, 4096, 100003}) {
      CAPTURE(n);
      Generator cpu_gen(11), gpu_gen(11);
      cpu_gen.set_offset(3);
      gpu_gen.set_offset(3);
      Tensor x = randn({n}, 6);
      Tensor y_cpu = dropout(x, 0.35f, true, cpu_gen);
      Tensor y_gpu = dropout(x.to(Device::cuda(0)), 0.35f, true, gpu_gen);
      CHECK(y_gpu.is_cuda());
      CHECK(y_gpu.to_vector<float>() == y_cpu.to_vector<float>());
      CHECK(gpu_gen.offset() == cpu_gen.offset());
    }
  }

  TEST_CASE("dropout: CPU-vs-CUDA parity of output and gradient") {
    Tensor x = randn({33, 65}, 7);
    x.set_requires_grad();
    Generator gen(13);
    testing::check_parity(
        [&gen](const std::vector<Tensor>& in) {
          gen.set_offset(0);
          return dropout(in[0], 0.25f, true, gen);
        },
        {x});
  }
}

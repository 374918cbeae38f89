#include "core/autograd.h"
#include "ops/fm.h"
#include "tests/testing.h"

using namespace curec;
using testing::randn;

namespace {
// The definition: Σ_{f<f'} <e_f, e_f'> per example, in double.
Tensor brute_force_fm(const Tensor& e) {
  int64_t batch = e.size(0), fields = e.size(1), k = e.size(2);
  std::vector<float> v = e.to_vector<float>(), out(batch);
  for (int64_t b = 0; b < batch; ++b) {
    double acc = 0;
    for (int64_t f = 0; f < fields; ++f)
      for (int64_t g = f + 1; g < fields; ++g)
        for (int64_t j = 0; j < k; ++j) acc += double(v[(b * fields + f) * k + j]) * v[(b * fields + g) * k + j];
    out[b] = static_cast<float>(acc);
  }
  return Tensor::from_vector<float>(out, {batch});
}
}  // namespace

TEST_CASE("fm_interaction: hand-computed values") {
  // Two fields: <(1,2),(3,4)> = 11. A third field (−1, 0.5) adds −1+1 and −3+2.
  Tensor two = Tensor::from_vector<float>({1, 2, 3, 4}, {1, 2, 2});
  CHECK(fm_interaction(two).to_vector<float>() == std::vector<float>{11});
  Tensor three = Tensor::from_vector<float>({1, 2, 3, 4, -1, 0.5f, 1, 0, 0, 1, 5, 5}, {2, 3, 2});
  std::vector<float> v = fm_interaction(three).to_vector<float>();
  CHECK(v[0] == doctest::Approx(10.0));
  CHECK(v[1] == doctest::Approx(0 + 5 + 5));
  // A single field has no pairs.
  CHECK(fm_interaction(randn({3, 1, 4}, 1)).to_vector<float>() == std::vector<float>{0, 0, 0});
}

TEST_CASE("fm_interaction matches the pairwise definition") {
  for (Shape s : {Shape{5, 7, 3}, Shape{4, 39, 10}, Shape{2, 3, 40}}) {
    CAPTURE(shape_str(s));
    Tensor e = randn(s, 2);
    testing::check_close(fm_interaction(e), brute_force_fm(e), 1e-4f, 1e-4f, "fm vs brute force");
  }
}

TEST_CASE("fm_interaction: gradient is g · (Σ_f e_f − e_f)") {
  Tensor e = Tensor::from_vector<float>({1, 2, 3, 4, -1, 0.5f}, {1, 3, 2});
  e.set_requires_grad();
  fm_interaction(e).backward(Tensor::full({1}, 2.0f));
  // S = (3, 6.5).
  CHECK(e.grad().to_vector<float>() == std::vector<float>{4, 9, 0, 5, 8, 12});
}

TEST_CASE("fm_interaction: same values without grad and errors on bad shapes") {
  Tensor e = randn({6, 5, 4}, 4);
  Tensor with = fm_interaction(e);
  e.set_requires_grad();
  Tensor tracked = fm_interaction(e);
  CHECK(tracked.requires_grad());
  {
    NoGradGuard ng;
    Tensor untracked = fm_interaction(e);
    CHECK_FALSE(untracked.requires_grad());
    CHECK(untracked.to_vector<float>() == tracked.to_vector<float>());
  }
  CHECK(with.to_vector<float>() == tracked.to_vector<float>());
  CHECK_THROWS_WITH_AS(fm_interaction(Tensor::zeros({4, 5})), doctest::Contains("[batch, fields, k]"), Error);
  CHECK_THROWS_AS(fm_interaction(Tensor::zeros({4, 5, 2}, DType::i32)), Error);
}

TEST_SUITE("cuda") {
  TEST_CASE("fm_interaction: CPU-vs-CUDA parity on odd sizes") {
    // k = 10 (groups of lanes share a warp), k = 45 (chunks of 32), k = 1, and a batch that
    // does not fill the last block.
    for (Shape s : {Shape{1003, 39, 10}, Shape{37, 5, 45}, Shape{9, 3, 1}, Shape{1, 2, 32}}) {
      CAPTURE(shape_str(s));
      Tensor e = randn(s, 5, 0.3f);
      e.set_requires_grad();
      testing::check_parity([](const std::vector<Tensor>& in) { return fm_interaction(in[0]); }, {e}, 1e-3f, 1e-4f);
    }
  }

  TEST_CASE("fm_interaction on CUDA matches the pairwise definition") {
    Tensor e = randn({1001, 39, 10}, 6, 0.3f);
    NoGradGuard ng;
    testing::check_close(fm_interaction(e.to(Device::cuda(0))).cpu(), brute_force_fm(e), 1e-3f, 1e-4f,
                         "cuda fm vs brute force");
  }
}

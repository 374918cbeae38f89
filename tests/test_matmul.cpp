#include "core/autograd.h"
#include "ops/matmul.h"
#include "tests/testing.h"

using namespace curec;
using testing::randn;

namespace {
// Stored shapes for op(a) [m, k] x op(b) [k, n] under each transpose flag.
Shape stored(int64_t rows, int64_t cols, bool trans) { return trans ? Shape{cols, rows} : Shape{rows, cols}; }

// Plain triple loop on host vectors: the reference the BLAS paths must match.
std::vector<float> naive(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  std::vector<float> va = a.to_vector<float>(), vb = b.to_vector<float>();
  int64_t m = a.size(ta ? 1 : 0), k = a.size(ta ? 0 : 1), n = b.size(tb ? 0 : 1);
  std::vector<float> c(m * n, 0.0f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t l = 0; l < k; ++l) acc += double(va[ta ? l * m + i : i * k + l]) * vb[tb ? j * k + l : l * n + j];
      c[i * n + j] = static_cast<float>(acc);
    }
  return c;
}
}  // namespace

TEST_CASE("matmul computes known products") {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector<float>({7, 8, 9, 10, 11, 12}, {3, 2});
  Tensor c = matmul(a, b);
  CHECK(c.shape() == Shape{2, 2});
  CHECK(c.to_vector<float>() == std::vector<float>{58, 64, 139, 154});
  // a^T a: [3, 2] x [2, 3]
  CHECK(matmul(a, a, true, false).to_vector<float>() == std::vector<float>{17, 22, 27, 22, 29, 36, 27, 36, 45});
  // a a^T: [2, 3] x [3, 2]
  CHECK(matmul(a, a, false, true).to_vector<float>() == std::vector<float>{14, 32, 32, 77});
  // b^T a^T = (a b)^T
  CHECK(matmul(b, a, true, true).to_vector<float>() == std::vector<float>{58, 139, 64, 154});
}

TEST_CASE("matmul matches a naive product for every transpose combination") {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      CAPTURE(ta);
      CAPTURE(tb);
      Tensor a = randn(stored(5, 7, ta), 1), b = randn(stored(7, 3, tb), 2);
      Tensor c = matmul(a, b, ta, tb);
      REQUIRE(c.shape() == Shape{5, 3});
      testing::check_close(c, Tensor::from_vector(naive(a, b, ta, tb), {5, 3}), 1e-5f, 1e-5f, "matmul");
    }
}

TEST_CASE("matmul with an empty inner dimension gives zeros") {
  Tensor c = matmul(Tensor::empty({2, 0}), Tensor::empty({0, 3}));
  CHECK(c.shape() == Shape{2, 3});
  CHECK(c.to_vector<float>() == std::vector<float>(6, 0.0f));
  CHECK(matmul(Tensor::empty({0, 4}), randn({4, 3}, 1)).shape() == Shape{0, 3});
}

TEST_CASE("matmul rejects mismatched shapes with a message naming them") {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 5});
  CHECK_THROWS_WITH_AS(matmul(a, b), doctest::Contains("inner dimensions differ: op(a) is [2, 3]"), Error);
  CHECK_THROWS_WITH_AS(matmul(a, b), doctest::Contains("op(b) is [4, 5]"), Error);
  CHECK_THROWS_WITH_AS(matmul(a, b, true, false), doctest::Contains("op(a) is [3, 2]"), Error);
  CHECK_NOTHROW(matmul(a, Tensor::zeros({5, 3}), false, true));
  CHECK_THROWS_WITH_AS(matmul(Tensor::zeros({3}), b), doctest::Contains("needs 2-D operands"), Error);
  CHECK_THROWS_AS(matmul(a, Tensor::zeros({3, 2}, DType::i64)), Error);
}

TEST_CASE("matmul: gradient check for every transpose combination") {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      CAPTURE(ta);
      CAPTURE(tb);
      Tensor a = randn(stored(4, 3, ta), 3), b = randn(stored(3, 5, tb), 4);
      a.set_requires_grad();
      b.set_requires_grad();
      testing::check_gradients([ta, tb](const std::vector<Tensor>& in) { return matmul(in[0], in[1], ta, tb); },
                               {a, b});
    }
}

TEST_CASE("matmul: gradient flows to one operand only when the other is constant") {
  Tensor a = randn({3, 4}, 5), b = randn({4, 2}, 6);
  b.set_requires_grad();
  testing::check_gradients([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); }, {a, b});
  CHECK_FALSE(a.grad().defined());
}

TEST_SUITE("cuda") {
  TEST_CASE("matmul: CPU-vs-CUDA parity for every transpose combination at odd sizes") {
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        CAPTURE(ta);
        CAPTURE(tb);
        Tensor a = randn(stored(33, 17, ta), 7), b = randn(stored(17, 65, tb), 8);
        a.set_requires_grad();
        b.set_requires_grad();
        testing::check_parity([ta, tb](const std::vector<Tensor>& in) { return matmul(in[0], in[1], ta, tb); },
                              {a, b}, 1e-4f, 1e-4f);
      }
  }

  TEST_CASE("matmul: CPU-vs-CUDA parity for a vector-shaped product") {
    Tensor a = randn({1, 129}, 9), b = randn({129, 1}, 10);
    a.set_requires_grad();
    b.set_requires_grad();
    testing::check_parity([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); }, {a, b}, 1e-4f, 1e-4f);
  }
}

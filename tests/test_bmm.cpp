// Batched matrix product (ops/bmm.h): each batch entry is matmul's product, transposed operands
// read in place, a batch of 1 broadcast, gradients of both operands, errors.
#include "ops/bmm.h"
#include "ops/matmul.h"
#include "ops/permute.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "tests/testing.h"

using namespace curec;
using testing::randn;

namespace {
// Entry i of a [B, r, c] tensor as a 2-D tensor.
Tensor entry(const Tensor& t, int64_t i) { return t.rows(i, 1).view({t.size(1), t.size(2)}); }
}  // namespace

TEST_CASE("bmm: a hand-computed product") {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 1, 0, 0, 1}, {2, 2, 2});
  Tensor b = Tensor::from_vector<float>({5, 6, 7, 8, 2, 3, 4, 5}, {2, 2, 2});
  CHECK(bmm(a, b).to_vector<float>() == std::vector<float>{19, 22, 43, 50, 2, 3, 4, 5});
}

TEST_CASE("bmm: every entry is matmul's product, for every transpose pair") {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      CAPTURE(ta);
      CAPTURE(tb);
      Tensor a = randn(ta ? Shape{3, 4, 5} : Shape{3, 5, 4}, 1), b = randn(tb ? Shape{3, 6, 4} : Shape{3, 4, 6}, 2);
      Tensor c = bmm(a, b, ta, tb);
      REQUIRE(c.shape() == Shape{3, 5, 6});
      for (int64_t i = 0; i < 3; ++i)
        testing::check_close(entry(c, i), matmul(entry(a, i), entry(b, i), ta, tb), 1e-5f, 1e-5f, "entry");
      // A transposed operand is the product of the explicit transpose.
      testing::check_close(c, bmm(ta ? transpose(a, 1, 2) : a, tb ? transpose(b, 1, 2) : b), 1e-5f, 1e-5f,
                           "transposed in place");
    }
}

TEST_CASE("bmm: a batch of 1 is broadcast over the other's batch") {
  Tensor a = randn({1, 3, 4}, 3), b = randn({5, 4, 2}, 4);
  Tensor c = bmm(a, b);
  REQUIRE(c.shape() == Shape{5, 3, 2});
  for (int64_t i = 0; i < 5; ++i) testing::check_close(entry(c, i), matmul(entry(a, 0), entry(b, i)), 1e-5f, 1e-5f, "a");
  Tensor d = bmm(b, a, true, true);  // [5, 2, 4] x [1, 4, 3]
  REQUIRE(d.shape() == Shape{5, 2, 3});
  for (int64_t i = 0; i < 5; ++i)
    testing::check_close(entry(d, i), matmul(entry(b, i), entry(a, 0), true, true), 1e-5f, 1e-5f, "b");
}

TEST_CASE("bmm: gradient check of both operands, transposed and broadcast") {
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t ba : {int64_t{3}, int64_t{1}})
        for (int64_t bb : {int64_t{3}, int64_t{1}}) {
          CAPTURE(ta);
          CAPTURE(tb);
          CAPTURE(ba);
          CAPTURE(bb);
          Tensor a = randn(ta ? Shape{ba, 4, 2} : Shape{ba, 2, 4}, 5).set_requires_grad();
          Tensor b = randn(tb ? Shape{bb, 3, 4} : Shape{bb, 4, 3}, 6).set_requires_grad();
          testing::check_gradients([ta, tb](const std::vector<Tensor>& in) { return bmm(in[0], in[1], ta, tb); },
                                   {a, b});
        }
}

TEST_CASE("bmm: large entries (split over BLAS blocks) give the same bits as one entry alone") {
  Tensor a = randn({2, 300, 120}, 7), b = randn({2, 120, 200}, 8);
  Tensor c = bmm(a, b);
  CHECK(entry(c, 1).to_vector<float>() == matmul(entry(a, 1), entry(b, 1)).to_vector<float>());
}

TEST_CASE("bmm: empty shapes, and errors that name both operands") {
  CHECK(bmm(Tensor::zeros({2, 3, 0}), Tensor::zeros({2, 0, 4})).to_vector<float>() == std::vector<float>(24, 0.0f));
  CHECK(bmm(Tensor::zeros({0, 3, 2}), Tensor::zeros({0, 2, 4})).shape() == Shape{0, 3, 4});
  CHECK_THROWS_WITH_AS(bmm(Tensor::zeros({3, 4}), Tensor::zeros({4, 2})), doctest::Contains("needs 3-D operands"),
                       Error);
  CHECK_THROWS_WITH_AS(bmm(Tensor::zeros({2, 3, 4}), Tensor::zeros({3, 4, 2})),
                       doctest::Contains("batch sizes differ: a f32[2, 3, 4]"), Error);
  CHECK_THROWS_WITH_AS(bmm(Tensor::zeros({2, 3, 4}), Tensor::zeros({2, 3, 2})),
                       doctest::Contains("inner dimensions differ"), Error);
}

TEST_SUITE("cuda") {
  TEST_CASE("bmm: CPU-vs-CUDA parity, every transpose pair, broadcast batches") {
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (int64_t ba : {int64_t{4}, int64_t{1}}) {
          Tensor a = randn(ta ? Shape{ba, 9, 7} : Shape{ba, 7, 9}, 9).set_requires_grad();
          Tensor b = randn(tb ? Shape{4, 5, 9} : Shape{4, 9, 5}, 10).set_requires_grad();
          testing::check_parity([ta, tb](const std::vector<Tensor>& in) { return bmm(in[0], in[1], ta, tb); }, {a, b},
                                1e-4f, 1e-4f);
        }
  }
}

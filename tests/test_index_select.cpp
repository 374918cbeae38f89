#include "core/autograd.h"
#include "ops/index_select.h"
#include "tests/testing.h"

using namespace curec;
using testing::randint;
using testing::randn;

TEST_CASE("index_select picks rows of 2-D and 3-D tensors") {
  Tensor x = Tensor::from_vector<float>({0, 1, 2, 10, 11, 12, 20, 21, 22}, {3, 3});
  Tensor out = index_select(x, Tensor::from_vector<int32_t>({2, 0, 2}));
  CHECK(out.shape() == Shape{3, 3});
  CHECK(out.to_vector<float>() == std::vector<float>{20, 21, 22, 0, 1, 2, 20, 21, 22});
  Tensor cube = Tensor::from_vector<float>({0, 1, 2, 3, 10, 11, 12, 13}, {2, 2, 2});
  Tensor picked = index_select(cube, Tensor::from_vector<int64_t>({1}));
  CHECK(picked.shape() == Shape{1, 2, 2});
  CHECK(picked.to_vector<float>() == std::vector<float>{10, 11, 12, 13});
  Tensor vec = Tensor::from_vector<float>({5, 6, 7});
  CHECK(index_select(vec, Tensor::from_vector<int64_t>({2, 2, 1})).to_vector<float>() == std::vector<float>{7, 7, 6});
}

TEST_CASE("index_select gradient adds repeated rows") {
  Tensor x = randn({3, 2}, 1);
  x.set_requires_grad();
  index_select(x, Tensor::from_vector<int64_t>({1, 1, 0})).backward(
      Tensor::from_vector<float>({1, 2, 10, 20, 100, 200}, {3, 2}));
  CHECK(x.grad().to_vector<float>() == std::vector<float>{100, 200, 11, 22, 0, 0});
}

TEST_CASE("index_select: gradient check, i32 and i64 ids, 2-D and 3-D") {
  for (DType dt : {DType::i32, DType::i64})
    for (Shape s : {Shape{6, 4}, Shape{5, 2, 3}}) {
      Tensor x = randn(s, 2);
      x.set_requires_grad();
      Tensor ids = randint({9}, s[0], 3, dt);
      testing::check_gradients([ids](const std::vector<Tensor>& in) { return index_select(in[0], ids); }, {x});
    }
}

TEST_CASE("index_select reports bad ids and bad shapes") {
  Tensor x = randn({4, 2}, 4);
  CHECK_THROWS_WITH_AS(index_select(x, Tensor::from_vector<int64_t>({0, 7})),
                       doctest::Contains("index 7 at position 1"), Error);
  CHECK_THROWS_WITH_AS(index_select(x, Tensor::from_vector<int64_t>({0, 1}, {1, 2})),
                       doctest::Contains("1-D"), Error);
}

TEST_SUITE("cuda") {
  TEST_CASE("index_select: CPU-vs-CUDA parity") {
    for (DType dt : {DType::i32, DType::i64})
      for (Shape s : {Shape{31, 8}, Shape{17, 3, 5}, Shape{40}}) {
        Tensor x = randn(s, 5);
        x.set_requires_grad();
        Tensor ids = randint({64}, s[0], 6, dt);
        testing::check_parity(
            [ids](const std::vector<Tensor>& in) { return index_select(in[0], ids.to(in[0].device())); }, {x});
      }
  }
}

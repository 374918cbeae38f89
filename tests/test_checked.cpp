// Size arithmetic that user input reaches: an overflowing product is an Error naming the
// computation and operands, never a wrapped size that under-allocates.
#include <cstdint>
#include <limits>

#include "core/checked.h"
#include "core/tensor.h"
#include "data/sequence.h"
#include "data/synthetic_ctr.h"
#include "ops/embedding.h"
#include "ops/shape.h"
#include "tests/testing.h"

using namespace curec;

namespace {
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kHuge = int64_t{1} << 62;  // 4611686018427387904: times 4 wraps to 0
}  // namespace

TEST_CASE("checked_mul and checked_add: exact results, overflow named with its operands") {
  CHECK(checked_mul(6, 7, "six times seven") == 42);
  CHECK(checked_mul(kMax, 1, "x") == kMax);
  CHECK(checked_mul(0, kMax, "x") == 0);
  CHECK(checked_mul(-3, 4, "x") == -12);
  CHECK(checked_add(kMax - 1, 1, "x") == kMax);
  const std::string mul = testing::error_of([] { checked_mul(kHuge, 4, "rows times width"); });
  CHECK(mul.find("rows times width: 4611686018427387904 * 4 overflows a 64-bit size") != std::string::npos);
  const std::string add = testing::error_of([] { checked_add(kMax, 1, "offset"); });
  CHECK(add.find("offset: 9223372036854775807 + 1 overflows") != std::string::npos);
  CHECK_THROWS_AS(checked_mul(std::numeric_limits<int64_t>::min(), -1, "x"), Error);
  // A lazily built description is only evaluated on failure.
  int built = 0;
  CHECK(checked_mul(3, 3, [&] { ++built; return std::string("lazy"); }) == 9);
  CHECK(built == 0);
  CHECK_THROWS_WITH_AS(checked_mul(kHuge, 8, [&] { ++built; return std::string("lazy"); }),
                       doctest::Contains("lazy: 4611686018427387904 * 8"), Error);
  CHECK(built == 1);
}

TEST_CASE("a shape whose element or byte count overflows is a clear error, not a tiny allocation") {
  // 2^62 * 4 elements wraps to 0: the tensor would have been allocated empty and written past.
  CHECK_THROWS_WITH_AS(Tensor::empty({kHuge, 4}), doctest::Contains("element count of shape [4611686018427387904, 4]"),
                       Error);
  CHECK_THROWS_WITH_AS(shape_numel({kHuge, 2, 2}), doctest::Contains("overflows a 64-bit size"), Error);
  // 2^62 elements fit in int64, but not their f32 bytes.
  CHECK_THROWS_WITH_AS(Tensor::zeros({kHuge}),
                       doctest::Contains("bytes of a f32 tensor of shape [4611686018427387904]"), Error);
  CHECK(shape_numel({0, kMax}) == 0);
  Tensor t = Tensor::zeros({3, 2});
  CHECK_THROWS_WITH_AS(t.view({kHuge, 4}), doctest::Contains("element count"), Error);
  // rows(): start + count must not wrap past the check.
  CHECK_THROWS_WITH_AS(t.rows(1, kMax), doctest::Contains("out of range"), Error);
  CHECK(t.rows(1, 2).shape() == Shape{2, 2});
}

TEST_CASE("ops reject sizes whose products overflow") {
  Tensor t = Tensor::zeros({4, 3});
  CHECK_THROWS_WITH_AS(reshape(t, {kHuge, 4, -1}), doctest::Contains("reshape to [4611686018427387904, 4, -1]"),
                       Error);
  Tensor grad = Tensor::zeros({2, 3});
  Tensor ids = Tensor::from_vector<int64_t>({0, 1}, {2});
  // A table shape with a huge row width: its numel overflows before any scatter happens.
  CHECK_THROWS_WITH_AS(scatter_add_rows(grad, ids, {4, kHuge, 4}, true), doctest::Contains("overflows"), Error);
  CHECK_THROWS_WITH_AS(scatter_add_rows(grad, ids, {kHuge, kHuge}, true), doctest::Contains("ids times row width"),
                       Error);
  data::Interactions few;
  few.num_users = 3;
  few.num_items = 2;
  few.push_back(0, 1, 1.0f, 0);
  CHECK_THROWS_WITH_AS(data::make_sequences(few, kHuge, -1), doctest::Contains("users times L"), Error);
  data::SyntheticCtrOptions o;
  o.field_dims = {kMax, 2};
  CHECK_THROWS_WITH_AS(data::synthetic_ctr(o), doctest::Contains("sum of field_dims"), Error);
}

TEST_CASE("device indices that do not fit an int are refused by name") {
  CHECK(Device::parse("cuda:2147483647") == Device::cuda(2147483647));
  const std::string e = testing::error_of([] { Device::parse("cuda:99999999999"); });
  CHECK(e.find("device 'cuda:99999999999': index 99999999999 is out of range (at most 2147483647)") !=
        std::string::npos);
  CHECK_THROWS_WITH_AS(Device::parse("cuda:-1"), doctest::Contains("unknown device 'cuda:-1'"), Error);
  CHECK_THROWS_WITH_AS(Device::parse("cuda:"), doctest::Contains("unknown device"), Error);
  CHECK_THROWS_WITH_AS(Device::parse("cuda:1x"), doctest::Contains("unknown device"), Error);
  CHECK_THROWS_WITH_AS(Device::parse("cuda: 1"), doctest::Contains("unknown device"), Error);
}

#include "core/device.h"
#include "data/take.h"
#include "tests/testing.h"

using namespace curec;
using data::take_rows;

namespace {

// Distinct-looking values in every byte, so a row taken from the wrong place shows.
template <class T>
Tensor column_of(int64_t rows, int64_t width) {
  std::vector<T> v(static_cast<size_t>(rows * width));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>((i * 7 + 3) % 251);
  return width == 1 ? Tensor::from_vector(v, {rows}) : Tensor::from_vector(v, {rows, width});
}

Tensor column_for(DType dt, int64_t rows, int64_t width) {
  switch (dt) {
    case DType::f32: return column_of<float>(rows, width);
    case DType::i32: return column_of<int32_t>(rows, width);
    case DType::i64: return column_of<int64_t>(rows, width);
    case DType::u8: return column_of<uint8_t>(rows, width);
  }
  return {};
}

// Bytes of the tensor on the host, for dtype-agnostic comparison.
std::vector<uint8_t> bytes_of(const Tensor& t) {
  Tensor c = t.cpu();
  const auto* p = static_cast<const uint8_t*>(c.raw_data());
  return std::vector<uint8_t>(p, p + c.nbytes());
}

}  // namespace

TEST_CASE("take_rows gathers rows of every dtype") {
  std::vector<int64_t> idx{4, 0, 4, 2};
  for (DType dt : {DType::f32, DType::i32, DType::i64, DType::u8})
    for (int64_t width : {1, 3}) {
      Tensor col = column_for(dt, 5, width);
      for (DType it : {DType::i64, DType::i32}) {
        Tensor indices = it == DType::i64 ? Tensor::from_vector(idx)
                                          : Tensor::from_vector(std::vector<int32_t>{4, 0, 4, 2});
        Tensor out = take_rows(col, indices);
        CHECK(out.dtype() == dt);
        Shape expect = width == 1 ? Shape{4} : Shape{4, width};
        CHECK(out.shape() == expect);
        std::vector<uint8_t> src = bytes_of(col), got = bytes_of(out);
        size_t rb = src.size() / 5;
        for (size_t i = 0; i < idx.size(); ++i)
          for (size_t b = 0; b < rb; ++b) REQUIRE(got[i * rb + b] == src[idx[i] * rb + b]);
      }
    }
}

TEST_CASE("take_rows keeps the index shape and handles empty indices") {
  Tensor col = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor out = take_rows(col, Tensor::from_vector<int64_t>({2, 1, 0, 2}, {2, 2}));
  CHECK(out.shape() == Shape{2, 2, 2});
  CHECK(out.to_vector<float>() == std::vector<float>{5, 6, 3, 4, 1, 2, 5, 6});
  CHECK(take_rows(col, Tensor::empty({0}, DType::i64)).shape() == Shape{0, 2});
}

TEST_CASE("take_rows rejects out-of-range and non-integer indices") {
  Tensor col = Tensor::from_vector<int32_t>({1, 2, 3}, {3});
  CHECK_THROWS_AS(take_rows(col, Tensor::from_vector<int64_t>({0, 3})), Error);
  CHECK_THROWS_AS(take_rows(col, Tensor::from_vector<int64_t>({-1})), Error);
  CHECK_THROWS_AS(take_rows(col, Tensor::from_vector<float>({0.0f})), Error);
  try {
    take_rows(col, Tensor::from_vector<int64_t>({0, 7}));
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("7") != std::string::npos);
  }
}

TEST_SUITE("cuda") {
  TEST_CASE("take_rows: CPU-vs-CUDA parity on every dtype and row width") {
    Device gpu = Device::cuda(0);
    Tensor idx = testing::randint({1000}, 97, 5, DType::i64);
    Tensor idx32 = testing::randint({333}, 97, 6, DType::i32);
    for (DType dt : {DType::f32, DType::i32, DType::i64, DType::u8})
      for (int64_t width : {1, 3, 4, 16, 17}) {
        Tensor col = column_for(dt, 97, width);
        for (const Tensor& ix : {idx, idx32}) {
          Tensor cpu = take_rows(col, ix);
          Tensor gpu_out = take_rows(col.to(gpu), ix.to(gpu));
          CHECK(gpu_out.is_cuda());
          CHECK(gpu_out.shape() == cpu.shape());
          CHECK(bytes_of(gpu_out) == bytes_of(cpu));
        }
      }
    // A slice view (offset storage) of a column gathers the same rows.
    // (Its ids index the 90 rows of the view, not the 97 of the column.)
    Tensor col = column_for(DType::u8, 97, 3);
    Tensor view_idx = testing::randint({10}, 90, 7, DType::i32);
    Tensor view_cpu = take_rows(col.rows(1, 90), view_idx);
    Tensor view_gpu = take_rows(col.to(gpu).rows(1, 90), view_idx.to(gpu));
    CHECK(bytes_of(view_gpu) == bytes_of(view_cpu));
  }

  TEST_CASE("take_rows on CUDA reports an out-of-range index at synchronisation") {
    Device gpu = Device::cuda(0);
    Tensor col = Tensor::from_vector<float>({1, 2, 3}, {3}).to(gpu);
    Tensor out = take_rows(col, Tensor::from_vector<int64_t>({0, 9}).to(gpu));
    CHECK_THROWS_AS(synchronize(gpu), Error);
    synchronize(gpu);  // the flag was cleared by the report
  }
}

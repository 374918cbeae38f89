#include "core/autograd.h"
#include "core/device.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "tests/testing.h"

using namespace curec;
using testing::randint;
using testing::randn;

namespace {

// The sparse gradient summed into a dense [rows, dim] table on the CPU.
Tensor densify(const Tensor& indices, const Tensor& rows_grad, const Shape& table_shape) {
  Tensor dense = Tensor::zeros(table_shape);
  std::vector<int64_t> ids = indices.to_vector<int64_t>();
  std::vector<float> g = rows_grad.to_vector<float>();
  float* d = dense.data<float>();
  const int64_t dim = table_shape[1];
  for (size_t i = 0; i < ids.size(); ++i)
    for (int64_t c = 0; c < dim; ++c) d[ids[i] * dim + c] += g[i * dim + c];
  return dense;
}

Tensor table_grad_for(const Tensor& table, const Tensor& ids, const EmbeddingOptions& opt, const Tensor& w) {
  table.zero_grad();
  embedding(table, ids, opt).backward(w);
  return table.grad();
}

}  // namespace

TEST_CASE("embedding gathers rows into indices.shape + [dim]") {
  Tensor table = Tensor::from_vector<float>({0, 1, 10, 11, 20, 21, 30, 31}, {4, 2});
  for (DType dt : {DType::i32, DType::i64}) {
    Tensor ids = dt == DType::i32 ? Tensor::from_vector<int32_t>({3, 0, 3, 2, 1, 1}, {2, 3})
                                  : Tensor::from_vector<int64_t>({3, 0, 3, 2, 1, 1}, {2, 3});
    Tensor out = embedding(table, ids);
    CHECK(out.shape() == Shape{2, 3, 2});
    CHECK(out.to_vector<float>() == std::vector<float>{30, 31, 0, 1, 30, 31, 20, 21, 10, 11, 10, 11});
  }
  Tensor one = embedding(table, Tensor::from_vector<int64_t>({2}, {}));
  CHECK(one.shape() == Shape{2});
  CHECK(one.to_vector<float>() == std::vector<float>{20, 21});
}

TEST_CASE("embedding backward accumulates duplicate indices") {
  Tensor table = randn({5, 3}, 1);
  table.set_requires_grad();
  Tensor ids = Tensor::from_vector<int64_t>({1, 4, 1, 1});
  Tensor w = Tensor::from_vector<float>({1, 2, 3, 10, 20, 30, 100, 200, 300, 1000, 2000, 3000}, {4, 3});
  std::vector<float> g = table_grad_for(table, ids, {}, w).to_vector<float>();
  CHECK(g == std::vector<float>{0, 0, 0, 1101, 2202, 3303, 0, 0, 0, 0, 0, 0, 10, 20, 30});
}

TEST_CASE("embedding: gradient check w.r.t. the table, i32 and i64 ids") {
  for (DType dt : {DType::i32, DType::i64}) {
    Tensor table = randn({7, 4}, 2);
    table.set_requires_grad();
    Tensor ids = randint({3, 5}, 7, 3, dt);
    testing::check_gradients([ids](const std::vector<Tensor>& in) { return embedding(in[0], ids); }, {table});
    EmbeddingOptions det;
    det.deterministic = true;
    testing::check_gradients([ids, det](const std::vector<Tensor>& in) { return embedding(in[0], ids, det); },
                             {table});
  }
}

TEST_CASE("embedding sparse gradient equals the dense one after scatter") {
  Tensor table = randn({9, 3}, 4);
  table.set_requires_grad();
  Tensor ids = randint({4, 6}, 9, 5, DType::i32);
  Tensor w = randn({4, 6, 3}, 6);
  Tensor dense = table_grad_for(table, ids, {}, w).clone();
  table.zero_grad();
  EmbeddingOptions sparse;
  sparse.sparse_grad = true;
  embedding(table, ids, sparse).backward(w);
  REQUIRE(table.has_sparse_grad());
  CHECK_FALSE(table.grad().defined());
  CHECK(table.sparse_grad_indices().dtype() == DType::i64);
  CHECK(table.sparse_grad_indices().shape() == Shape{24});
  CHECK(table.sparse_grad_rows().shape() == Shape{24, 3});
  testing::check_close(densify(table.sparse_grad_indices(), table.sparse_grad_rows(), table.shape()), dense, 1e-6f,
                       1e-6f, "densified sparse gradient");
}

TEST_CASE("embedding used twice concatenates sparse gradients") {
  Tensor table = randn({6, 2}, 7);
  table.set_requires_grad();
  EmbeddingOptions sparse;
  sparse.sparse_grad = true;
  Tensor a = embedding(table, Tensor::from_vector<int64_t>({0, 5}), sparse);
  Tensor b = embedding(table, Tensor::from_vector<int32_t>({5}), sparse);
  Tensor w = Tensor::ones({2, 2});
  (a + b).backward(w);  // b broadcasts as a row over a
  REQUIRE(table.has_sparse_grad());
  std::vector<int64_t> ids = table.sparse_grad_indices().to_vector<int64_t>();
  CHECK(ids.size() == 3);
  Tensor dense = densify(table.sparse_grad_indices(), table.sparse_grad_rows(), table.shape());
  CHECK(dense.to_vector<float>() == std::vector<float>{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3});
}

TEST_CASE("embedding rejects out-of-range ids naming the id, its position and the table size") {
  Tensor table = randn({4, 2}, 8);
  CHECK_THROWS_WITH_AS(embedding(table, Tensor::from_vector<int64_t>({0, 3, 4, 1})),
                       doctest::Contains("index 4 at position 2"), Error);
  CHECK_THROWS_WITH_AS(embedding(table, Tensor::from_vector<int32_t>({-1})),
                       doctest::Contains("table of 4 rows"), Error);
  CHECK_THROWS_WITH_AS(embedding(table, Tensor::from_vector<float>({1.0f})), doctest::Contains("i32 or i64"), Error);
  CHECK_THROWS_WITH_AS(embedding(randn({4}, 9), Tensor::from_vector<int64_t>({0})),
                       doctest::Contains("[rows, dim]"), Error);
}

TEST_CASE("deterministic backward equals the default one on the CPU") {
  Tensor table = randn({10, 5}, 10);
  table.set_requires_grad();
  Tensor ids = randint({50}, 10, 11);
  Tensor w = randn({50, 5}, 12);
  Tensor plain = table_grad_for(table, ids, {}, w).clone();
  EmbeddingOptions det;
  det.deterministic = true;
  testing::check_close(table_grad_for(table, ids, det, w), plain, 0.0f, 0.0f, "deterministic gradient");
}

TEST_SUITE("cuda") {
  TEST_CASE("embedding: CPU-vs-CUDA parity, i32/i64 ids, float4 and scalar rows") {
    for (DType dt : {DType::i32, DType::i64})
      for (int64_t dim : {1, 3, 8, 33, 64}) {
        CAPTURE(dim);
        Tensor table = randn({37, dim}, 20);
        table.set_requires_grad();
        Tensor ids = randint({13, 7}, 37, 21, dt);
        testing::check_parity([ids](const std::vector<Tensor>& in) { return embedding(in[0], ids.to(in[0].device())); },
                              {table});
        EmbeddingOptions det;
        det.deterministic = true;
        testing::check_parity(
            [ids, det](const std::vector<Tensor>& in) { return embedding(in[0], ids.to(in[0].device()), det); },
            {table});
      }
  }

  TEST_CASE("embedding on CUDA: deterministic == atomic, exactly reproducible, equal to the CPU sum order") {
    Tensor table = randn({50, 24}, 22);
    Tensor ids = randint({4000}, 50, 23);  // ~80 repeats per id
    Tensor w = randn({4000, 24}, 24);
    Device gpu = Device::cuda(0);
    Tensor t = table.to(gpu).detach();
    t.set_requires_grad();
    Tensor ids_gpu = ids.to(gpu), w_gpu = w.to(gpu);
    EmbeddingOptions det;
    det.deterministic = true;
    Tensor atomic = table_grad_for(t, ids_gpu, {}, w_gpu).clone();
    Tensor sorted1 = table_grad_for(t, ids_gpu, det, w_gpu).clone();
    Tensor sorted2 = table_grad_for(t, ids_gpu, det, w_gpu).clone();
    testing::check_close(sorted1, atomic, 1e-4f, 1e-4f, "deterministic vs atomic");
    testing::check_close(sorted2, sorted1, 0.0f, 0.0f, "deterministic run twice");
    Tensor cpu_table = table.clone();
    cpu_table.set_requires_grad();
    testing::check_close(sorted1, table_grad_for(cpu_table, ids, det, w), 0.0f, 0.0f, "deterministic vs CPU");
  }

  TEST_CASE("embedding on CUDA: sparse gradient matches the dense one") {
    Device gpu = Device::cuda(0);
    Tensor table = randn({20, 6}, 25).to(gpu).detach();
    table.set_requires_grad();
    Tensor ids = randint({30}, 20, 26, DType::i32).to(gpu);
    Tensor w = randn({30, 6}, 27);
    Tensor dense = table_grad_for(table, ids, {}, w.to(gpu)).cpu();
    table.zero_grad();
    EmbeddingOptions sparse;
    sparse.sparse_grad = true;
    embedding(table, ids, sparse).backward(w.to(gpu));
    REQUIRE(table.has_sparse_grad());
    CHECK(table.sparse_grad_indices().is_cuda());
    std::vector<int32_t> want = ids.cpu().to_vector<int32_t>();
    std::vector<int64_t> got = table.sparse_grad_indices().to_vector<int64_t>();
    CHECK(std::vector<int64_t>(want.begin(), want.end()) == got);
    testing::check_close(densify(table.sparse_grad_indices(), table.sparse_grad_rows(), table.shape()), dense, 1e-5f,
                         1e-5f, "densified sparse gradient on CUDA");
  }

  TEST_CASE("embedding on CUDA: a bad id raises curec::Error at synchronize and writes zeros") {
    Device gpu = Device::cuda(0);
    Tensor table = randn({8, 4}, 28).to(gpu);
    synchronize(gpu);
    for (DType dt : {DType::i32, DType::i64}) {
      Tensor ids = (dt == DType::i32 ? Tensor::from_vector<int32_t>({1, 8, 2}) : Tensor::from_vector<int64_t>({1, -3, 2}))
                       .to(gpu);
      Tensor out = embedding(table, ids);  // no throw here: the kernel only records the error
      CHECK_THROWS_WITH_AS(synchronize(gpu), doctest::Contains("out of range for a table of 8 rows"), Error);
      synchronize(gpu);  // the flag was cleared by the report
      std::vector<float> v = out.to_vector<float>();
      CHECK(v[4] == 0.0f);
      CHECK(v[7] == 0.0f);
      CHECK(v[0] == table.cpu().to_vector<float>()[4]);
    }
    // The backward paths skip bad ids too, and report them the same way.
    Tensor t = table.detach();
    t.set_requires_grad();
    for (bool det : {false, true}) {
      EmbeddingOptions opt;
      opt.deterministic = det;
      Tensor ids = Tensor::from_vector<int64_t>({0, 100}).to(gpu);
      Tensor out = embedding(t, ids, opt);
      out.backward(Tensor::ones({2, 4}, gpu));
      CHECK_THROWS_AS(synchronize(gpu), Error);
      std::vector<float> g = t.grad().to_vector<float>();
      CHECK(g[0] == 1.0f);
      CHECK(g[4] == 0.0f);
      t.zero_grad();
    }
  }
}

// The emulated cuBLAS, cuSOLVER and CUB radix sort against naive references written from the
// libraries' documented semantics, on random inputs in emulated device memory.
#include <doctest/doctest.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cusolverDn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

// The emulator's CUB stand-in (what emulated .cu files get for <cub/device/device_radix_sort.cuh>).
#include <cub/device/device_radix_sort.cuh>

TEST_SUITE_BEGIN("cuda");

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

// A device buffer filled from (and read back into) a host vector.
template <typename T>
class Dev {
 public:
  explicit Dev(size_t n) : n_(n) {
    REQUIRE(cudaMalloc(reinterpret_cast<void**>(&p_), std::max<size_t>(n, 1) * sizeof(T)) == cudaSuccess);
  }
  explicit Dev(const std::vector<T>& host) : Dev(host.size()) { upload(host); }
  ~Dev() { cudaFree(p_); }
  Dev(const Dev&) = delete;
  Dev& operator=(const Dev&) = delete;
  void upload(const std::vector<T>& host) {
    REQUIRE(host.size() == n_);
    REQUIRE(cudaMemcpy(p_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice) == cudaSuccess);
  }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    REQUIRE(cudaMemcpy(host.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost) == cudaSuccess);
    return host;
  }
  T* get() const { return p_; }

 private:
  T* p_ = nullptr;
  size_t n_;
};

std::mt19937& rng() {
  static std::mt19937 g(20240611);
  return g;
}

std::vector<float> random_floats(size_t n, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng());
  return v;
}

// The fault the last call reported, taken so that it does not leak into the next check.
std::string take_fault(cudaError_t expected) {
  const cudaError_t e = cudaGetLastError();
  CHECK(e == expected);
  return e == cudaSuccess ? std::string() : std::string(cudaGetErrorString(e));
}

struct Blas {
  cublasHandle_t h = nullptr;
  Blas() { REQUIRE(cublasCreate(&h) == CUBLAS_STATUS_SUCCESS); }
  ~Blas() { cublasDestroy(h); }
};

// op(X)(r, c) of a column-major X with leading dimension ld (real data: C is T).
float op_at(const std::vector<float>& x, int ld, cublasOperation_t op, int r, int c) {
  return op == CUBLAS_OP_N ? x[static_cast<size_t>(r + c * ld)] : x[static_cast<size_t>(c + r * ld)];
}

// alpha op(A) op(B) + beta C, summed in double, with C's padding rows left as they were.
std::vector<float> gemm_reference(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha,
                                  const std::vector<float>& a, int lda, const std::vector<float>& b, int ldb,
                                  float beta, std::vector<float> c, int ldc) {
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      double sum = 0;
      for (int l = 0; l < k; ++l) sum += double(op_at(a, lda, ta, i, l)) * op_at(b, ldb, tb, l, j);
      float& cij = c[static_cast<size_t>(i + j * ldc)];
      cij = static_cast<float>(alpha * sum + (beta == 0.0f ? 0.0 : double(beta) * cij));
    }
  return c;
}

// A column-major rows x cols matrix with leading dimension ld: random entries, NaN padding, so
// that reading the padding would show in the result.
std::vector<float> padded_matrix(int rows, int cols, int ld) {
  std::vector<float> m(static_cast<size_t>(ld * cols), kNaN);
  for (int c = 0; c < cols; ++c)
    for (int r = 0; r < rows; ++r) m[static_cast<size_t>(r + c * ld)] = random_floats(1)[0];
  return m;
}

void check_close(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-4f) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      CHECK(std::isnan(got[i]));
      continue;
    }
    INFO("element " << i);
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(tol).scale(1.0));
  }
}

}  // namespace

TEST_CASE("cublasSgemm: every transpose pair, padded leading dimensions, alpha and beta") {
  REQUIRE(cudaGetLastError() == cudaSuccess);
  Blas blas;
  const cublasOperation_t ops[] = {CUBLAS_OP_N, CUBLAS_OP_T, CUBLAS_OP_C};
  const float scalars[][2] = {{1.0f, 0.0f}, {0.5f, -2.0f}, {-1.5f, 1.0f}};
  for (int shape = 0; shape < 2; ++shape) {
    const int m = shape ? 33 : 5, n = shape ? 17 : 7, k = shape ? 65 : 4;
    for (cublasOperation_t ta : ops)
      for (cublasOperation_t tb : ops)
        for (const auto& s : scalars) {
          CAPTURE(ta);
          CAPTURE(tb);
          CAPTURE(m);
          const int a_rows = ta == CUBLAS_OP_N ? m : k, a_cols = ta == CUBLAS_OP_N ? k : m;
          const int b_rows = tb == CUBLAS_OP_N ? k : n, b_cols = tb == CUBLAS_OP_N ? n : k;
          const int lda = a_rows + 3, ldb = b_rows + 2, ldc = m + 4;
          const auto a = padded_matrix(a_rows, a_cols, lda), b = padded_matrix(b_rows, b_cols, ldb);
          auto c = random_floats(static_cast<size_t>(ldc * n));  // padding rows must survive as they are
          Dev<float> da(a), db(b), dc(c);
          REQUIRE(cublasSgemm(blas.h, ta, tb, m, n, k, &s[0], da.get(), lda, db.get(), ldb, &s[1], dc.get(), ldc) ==
                  CUBLAS_STATUS_SUCCESS);
          check_close(dc.download(), gemm_reference(ta, tb, m, n, k, s[0], a, lda, b, ldb, s[1], c, ldc));
        }
  }
  CHECK(cudaGetLastError() == cudaSuccess);
}

TEST_CASE("cublasSgemm: beta = 0 never reads C, alpha = 0 or k = 0 only scales it, empty shapes return") {
  Blas blas;
  const int m = 4, n = 3, k = 5;
  const auto a = random_floats(m * k), b = random_floats(k * n), c = random_floats(m * n);
  Dev<float> da(a), db(b), dc(std::vector<float>(m * n, kNaN));
  const float one = 1.0f, zero = 0.0f, two = 2.0f;

  REQUIRE(cublasSgemm(blas.h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, da.get(), m, db.get(), k, &zero, dc.get(), m) ==
          CUBLAS_STATUS_SUCCESS);
  check_close(dc.download(), gemm_reference(CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, 1.0f, a, m, b, k, 0.0f, c, m));

  // alpha = 0: A and B are not referenced (NaN there must not show), C becomes beta C.
  Dev<float> nan_a(std::vector<float>(m * k, kNaN)), nan_b(std::vector<float>(k * n, kNaN));
  dc.upload(c);
  REQUIRE(cublasSgemm(blas.h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &zero, nan_a.get(), m, nan_b.get(), k, &two, dc.get(),
                      m) == CUBLAS_STATUS_SUCCESS);
  std::vector<float> doubled(c);
  for (float& x : doubled) x *= 2.0f;
  check_close(dc.download(), doubled);

  // k = 0: an empty sum, so C = beta C as well.
  dc.upload(c);
  REQUIRE(cublasSgemm(blas.h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, 0, &one, da.get(), m, db.get(), 1, &two, dc.get(), m) ==
          CUBLAS_STATUS_SUCCESS);
  check_close(dc.download(), doubled);

  // m = 0 or n = 0: nothing to compute, nothing touched (C may even be host memory).
  std::vector<float> host_c(c);
  CHECK(cublasSgemm(blas.h, CUBLAS_OP_N, CUBLAS_OP_N, 0, n, k, &one, da.get(), 1, db.get(), k, &two, host_c.data(),
                    1) == CUBLAS_STATUS_SUCCESS);
  CHECK(cublasSgemm(blas.h, CUBLAS_OP_N, CUBLAS_OP_N, m, 0, k, &one, da.get(), m, db.get(), k, &two, host_c.data(),
                    m) == CUBLAS_STATUS_SUCCESS);
  CHECK(host_c == c);
  CHECK(cudaGetLastError() == cudaSuccess);
}

TEST_CASE("cublasSgemm: argument errors and handles") {
  Blas blas;
  const int m = 4, n = 3, k = 5;
  Dev<float> da(random_floats(m * k)), db(random_floats(k * n)), dc(random_floats(m * n));
  const float one = 1.0f;
  auto gemm = [&](cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int mm, int nn, int kk, int lda,
                  int ldb, int ldc, const float* alpha = nullptr) {
    return cublasSgemm(h, ta, tb, mm, nn, kk, alpha ? alpha : &one, da.get(), lda, db.get(), ldb, &one, dc.get(), ldc);
  };
  const auto N = CUBLAS_OP_N, T = CUBLAS_OP_T;
  CHECK(gemm(blas.h, N, N, m, n, k, m, k, m) == CUBLAS_STATUS_SUCCESS);
  CHECK(gemm(nullptr, N, N, m, n, k, m, k, m) == CUBLAS_STATUS_NOT_INITIALIZED);
  CHECK(gemm(blas.h, N, N, -1, n, k, 1, k, 1) == CUBLAS_STATUS_INVALID_VALUE);
  CHECK(gemm(blas.h, N, N, m, -1, k, m, k, m) == CUBLAS_STATUS_INVALID_VALUE);
  CHECK(gemm(blas.h, N, N, m, n, -1, m, 1, m) == CUBLAS_STATUS_INVALID_VALUE);
  CHECK(gemm(blas.h, N, N, m, n, k, m - 1, k, m) == CUBLAS_STATUS_INVALID_VALUE);  // A is m x k: lda >= m
  CHECK(gemm(blas.h, T, N, m, n, k, k - 1, k, m) == CUBLAS_STATUS_INVALID_VALUE);  // A stored k x m: lda >= k
  CHECK(gemm(blas.h, N, N, m, n, k, m, k - 1, m) == CUBLAS_STATUS_INVALID_VALUE);
  CHECK(gemm(blas.h, N, T, m, n, k, m, n - 1, m) == CUBLAS_STATUS_INVALID_VALUE);  // B stored n x k: ldb >= n
  CHECK(gemm(blas.h, N, N, m, n, k, m, k, m - 1) == CUBLAS_STATUS_INVALID_VALUE);
  CHECK(gemm(blas.h, N, N, 0, n, k, 0, k, 1) == CUBLAS_STATUS_INVALID_VALUE);  // ld >= max(1, ...)
  CHECK(gemm(blas.h, N, N, 0, n, k, 1, k, 0) == CUBLAS_STATUS_INVALID_VALUE);
  CHECK(gemm(blas.h, static_cast<cublasOperation_t>(7), N, m, n, k, m, k, m) == CUBLAS_STATUS_INVALID_VALUE);
  CHECK(cublasSgemm(blas.h, N, N, m, n, k, nullptr, da.get(), m, db.get(), k, &one, dc.get(), m) ==
        CUBLAS_STATUS_INVALID_VALUE);

  cublasHandle_t gone = nullptr;
  REQUIRE(cublasCreate(&gone) == CUBLAS_STATUS_SUCCESS);
  REQUIRE(cublasDestroy(gone) == CUBLAS_STATUS_SUCCESS);
  CHECK(gemm(gone, N, N, m, n, k, m, k, m) == CUBLAS_STATUS_NOT_INITIALIZED);
  CHECK(cublasDestroy(gone) == CUBLAS_STATUS_NOT_INITIALIZED);
  CHECK(cudaGetLastError() == cudaSuccess);  // argument errors are statuses, not faults
}

TEST_CASE("cublasSgemm: an operand outside device memory fails the call and faults") {
  Blas blas;
  const int m = 4, n = 3, k = 5;
  const auto c = random_floats(m * n);
  std::vector<float> host_a = random_floats(m * k);
  Dev<float> da(host_a), db(random_floats(k * n)), dc(c);
  const float one = 1.0f, zero = 0.0f;

  CHECK(cublasSgemm(blas.h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, host_a.data(), m, db.get(), k, &zero, dc.get(),
                    m) == CUBLAS_STATUS_EXECUTION_FAILED);
  std::string message = take_fault(cudaErrorIllegalAddress);
  CHECK(message.find("cublasSgemm") != std::string::npos);
  CHECK(message.find("A") != std::string::npos);
  CHECK(dc.download() == c);  // a failed call writes nothing

  // A C whose last column runs past its allocation (ldc bigger than the buffer allows).
  CHECK(cublasSgemm(blas.h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, da.get(), m, db.get(), k, &zero, dc.get(),
                    m + 1) == CUBLAS_STATUS_EXECUTION_FAILED);
  message = take_fault(cudaErrorIllegalAddress);
  CHECK(message.find("C") != std::string::npos);

  // B transposed reads n rows with ldb: the same buffer is too short for ldb = k + 1.
  CHECK(cublasSgemm(blas.h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, da.get(), m, db.get(), k + 1, &zero, dc.get(),
                    m) == CUBLAS_STATUS_EXECUTION_FAILED);
  take_fault(cudaErrorIllegalAddress);
  CHECK(cudaGetLastError() == cudaSuccess);
}

TEST_CASE("cublasSgemm: device pointer mode reads alpha and beta from device memory") {
  Blas blas;
  const int m = 3, n = 4, k = 2;
  const auto a = random_floats(m * k), b = random_floats(k * n), c = random_floats(m * n);
  Dev<float> da(a), db(b), dc(c), dscalars(std::vector<float>{0.75f, -0.5f});
  cublasPointerMode_t mode{};
  REQUIRE(cublasGetPointerMode(blas.h, &mode) == CUBLAS_STATUS_SUCCESS);
  CHECK(mode == CUBLAS_POINTER_MODE_HOST);
  REQUIRE(cublasSetPointerMode(blas.h, CUBLAS_POINTER_MODE_DEVICE) == CUBLAS_STATUS_SUCCESS);
  REQUIRE(cublasSgemm(blas.h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, dscalars.get(), da.get(), m, db.get(), k,
                      dscalars.get() + 1, dc.get(), m) == CUBLAS_STATUS_SUCCESS);
  check_close(dc.download(), gemm_reference(CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, 0.75f, a, m, b, k, -0.5f, c, m));

  // Device mode with a host alpha: the device cannot read it.
  const float host_alpha = 1.0f;
  CHECK(cublasSgemm(blas.h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &host_alpha, da.get(), m, db.get(), k,
                    dscalars.get() + 1, dc.get(), m) == CUBLAS_STATUS_EXECUTION_FAILED);
  take_fault(cudaErrorIllegalAddress);

  // Host mode with a device alpha: the host would dereference a device pointer.
  REQUIRE(cublasSetPointerMode(blas.h, CUBLAS_POINTER_MODE_HOST) == CUBLAS_STATUS_SUCCESS);
  CHECK(cublasSgemm(blas.h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, dscalars.get(), da.get(), m, db.get(), k, &host_alpha,
                    dc.get(), m) == CUBLAS_STATUS_INVALID_VALUE);
  take_fault(cudaErrorInvalidValue);
  CHECK(cublasSetPointerMode(blas.h, static_cast<cublasPointerMode_t>(5)) == CUBLAS_STATUS_INVALID_VALUE);
}

TEST_CASE("cublasSgemmStridedBatched and cublasSgemmBatched") {
  Blas blas;
  const int m = 5, n = 4, k = 3, batches = 3;
  const int lda = k + 1, ldb = n + 2, ldc = m + 1;  // A is op T (stored k x m), B op T (stored n x k)
  const long long sa = lda * m + 7, sb = ldb * k + 5, sc = ldc * n + 3;
  const auto a = random_floats(static_cast<size_t>(sa * batches)), b = random_floats(static_cast<size_t>(sb * batches));
  const auto c = random_floats(static_cast<size_t>(sc * batches));
  const float alpha = 1.25f, beta = -0.5f;
  auto slice = [](const std::vector<float>& v, long long off, long long len) {
    return std::vector<float>(v.begin() + off, v.begin() + off + len);
  };
  std::vector<float> want(c);
  for (int i = 0; i < batches; ++i) {
    auto ci = gemm_reference(CUBLAS_OP_T, CUBLAS_OP_T, m, n, k, alpha, slice(a, i * sa, sa), lda, slice(b, i * sb, sb),
                             ldb, beta, slice(c, i * sc, sc), ldc);
    std::copy(ci.begin(), ci.end(), want.begin() + i * sc);
  }

  Dev<float> da(a), db(b), dc(c);
  REQUIRE(cublasSgemmStridedBatched(blas.h, CUBLAS_OP_T, CUBLAS_OP_T, m, n, k, &alpha, da.get(), lda, sa, db.get(), ldb,
                                    sb, &beta, dc.get(), ldc, sc, batches) == CUBLAS_STATUS_SUCCESS);
  check_close(dc.download(), want);

  // Stride 0 broadcasts one B to every batch.
  dc.upload(c);
  REQUIRE(cublasSgemmStridedBatched(blas.h, CUBLAS_OP_T, CUBLAS_OP_T, m, n, k, &alpha, da.get(), lda, sa, db.get(), ldb,
                                    0, &beta, dc.get(), ldc, sc, batches) == CUBLAS_STATUS_SUCCESS);
  const auto got = dc.download();
  for (int i = 0; i < batches; ++i) {
    auto ci = gemm_reference(CUBLAS_OP_T, CUBLAS_OP_T, m, n, k, alpha, slice(a, i * sa, sa), lda, slice(b, 0, sb), ldb,
                             beta, slice(c, i * sc, sc), ldc);
    check_close(slice(got, i * sc, sc), ci);
  }

  // The last batch's C past the buffer: the whole call fails before writing any batch.
  dc.upload(c);
  CHECK(cublasSgemmStridedBatched(blas.h, CUBLAS_OP_T, CUBLAS_OP_T, m, n, k, &alpha, da.get(), lda, sa, db.get(), ldb,
                                  sb, &beta, dc.get(), ldc, sc + 3, batches) == CUBLAS_STATUS_EXECUTION_FAILED);
  CHECK(take_fault(cudaErrorIllegalAddress).find("batch 2") != std::string::npos);
  CHECK(dc.download() == c);
  CHECK(cublasSgemmStridedBatched(blas.h, CUBLAS_OP_T, CUBLAS_OP_T, m, n, k, &alpha, da.get(), lda, sa, db.get(), ldb,
                                  sb, &beta, dc.get(), ldc, sc, -1) == CUBLAS_STATUS_INVALID_VALUE);

  // Pointer arrays: device arrays of device pointers.
  dc.upload(c);
  std::vector<const float*> pa, pb;
  std::vector<float*> pc;
  for (int i = 0; i < batches; ++i) {
    pa.push_back(da.get() + i * sa);
    pb.push_back(db.get() + i * sb);
    pc.push_back(dc.get() + i * sc);
  }
  Dev<const float*> dpa(pa), dpb(pb);
  Dev<float*> dpc(pc);
  REQUIRE(cublasSgemmBatched(blas.h, CUBLAS_OP_T, CUBLAS_OP_T, m, n, k, &alpha, dpa.get(), lda, dpb.get(), ldb, &beta,
                             dpc.get(), ldc, batches) == CUBLAS_STATUS_SUCCESS);
  check_close(dc.download(), want);
  CHECK(cublasSgemmBatched(blas.h, CUBLAS_OP_T, CUBLAS_OP_T, m, n, k, &alpha, pa.data(), lda, dpb.get(), ldb, &beta,
                           dpc.get(), ldc, batches) == CUBLAS_STATUS_EXECUTION_FAILED);
  CHECK(take_fault(cudaErrorIllegalAddress).find("Aarray") != std::string::npos);
}

TEST_CASE("cublasSgemv, cublasSaxpy, cublasSdot, cublasSscal") {
  Blas blas;
  const int m = 6, n = 4, lda = m + 2;
  const auto a = padded_matrix(m, n, lda);
  const float alpha = 0.5f, beta = 2.0f;
  for (cublasOperation_t op : {CUBLAS_OP_N, CUBLAS_OP_T}) {
    for (int inc : {1, 2, -1}) {
      CAPTURE(op);
      CAPTURE(inc);
      const int xlen = op == CUBLAS_OP_N ? n : m, ylen = op == CUBLAS_OP_N ? m : n;
      const int ainc = std::abs(inc);
      const auto x = random_floats(static_cast<size_t>((xlen - 1) * ainc + 1));
      const auto y = random_floats(static_cast<size_t>((ylen - 1) * ainc + 1));
      // Element i of a strided vector; a negative increment starts from the far end (BLAS).
      auto idx = [&](int i, int len) { return static_cast<size_t>(inc > 0 ? i * inc : (len - 1 - i) * ainc); };
      std::vector<float> want(y);
      for (int i = 0; i < ylen; ++i) {
        double sum = 0;
        for (int j = 0; j < xlen; ++j) sum += double(op_at(a, lda, op, i, j)) * x[idx(j, xlen)];
        want[idx(i, ylen)] = static_cast<float>(alpha * sum + beta * double(y[idx(i, ylen)]));
      }
      Dev<float> da(a), dx(x), dy(y);
      REQUIRE(cublasSgemv(blas.h, op, m, n, &alpha, da.get(), lda, dx.get(), inc, &beta, dy.get(), inc) ==
              CUBLAS_STATUS_SUCCESS);
      check_close(dy.download(), want);
    }
  }
  {
    Dev<float> da(a), dx(random_floats(n)), dy(random_floats(m));
    CHECK(cublasSgemv(blas.h, CUBLAS_OP_N, m, n, &alpha, da.get(), m - 1, dx.get(), 1, &beta, dy.get(), 1) ==
          CUBLAS_STATUS_INVALID_VALUE);
    CHECK(cublasSgemv(blas.h, CUBLAS_OP_N, m, n, &alpha, da.get(), lda, dx.get(), 0, &beta, dy.get(), 1) ==
          CUBLAS_STATUS_INVALID_VALUE);
    // An empty op(A) returns before y: no beta scaling (unlike gemm with k = 0).
    const auto y = dy.download();
    REQUIRE(cublasSgemv(blas.h, CUBLAS_OP_N, m, 0, &alpha, da.get(), lda, dx.get(), 1, &beta, dy.get(), 1) ==
            CUBLAS_STATUS_SUCCESS);
    CHECK(dy.download() == y);
    std::vector<float> host_y(m, 1.0f);
    CHECK(cublasSgemv(blas.h, CUBLAS_OP_N, m, n, &alpha, da.get(), lda, dx.get(), 1, &beta, host_y.data(), 1) ==
          CUBLAS_STATUS_EXECUTION_FAILED);
    take_fault(cudaErrorIllegalAddress);
  }

  const int len = 37;
  const auto x = random_floats(len * 2), y = random_floats(len);
  Dev<float> dx(x), dy(y);
  const float a3 = -3.0f;
  REQUIRE(cublasSaxpy(blas.h, len, &a3, dx.get(), 2, dy.get(), 1) == CUBLAS_STATUS_SUCCESS);
  std::vector<float> want(y);
  for (int i = 0; i < len; ++i) want[i] = y[i] + a3 * x[2 * i];
  check_close(dy.download(), want);

  dy.upload(y);
  float dot = 0;
  REQUIRE(cublasSdot(blas.h, len, dx.get(), 2, dy.get(), 1, &dot) == CUBLAS_STATUS_SUCCESS);
  double dot_want = 0;
  for (int i = 0; i < len; ++i) dot_want += double(x[2 * i]) * y[i];
  CHECK(dot == doctest::Approx(dot_want).epsilon(1e-5));
  Dev<float> dresult(std::vector<float>{kNaN});
  REQUIRE(cublasSetPointerMode(blas.h, CUBLAS_POINTER_MODE_DEVICE) == CUBLAS_STATUS_SUCCESS);
  REQUIRE(cublasSdot(blas.h, len, dx.get(), 2, dy.get(), 1, dresult.get()) == CUBLAS_STATUS_SUCCESS);
  CHECK(dresult.download()[0] == dot);
  REQUIRE(cublasSdot(blas.h, 0, dx.get(), 1, dy.get(), 1, dresult.get()) == CUBLAS_STATUS_SUCCESS);
  CHECK(dresult.download()[0] == 0.0f);
  REQUIRE(cublasSetPointerMode(blas.h, CUBLAS_POINTER_MODE_HOST) == CUBLAS_STATUS_SUCCESS);

  REQUIRE(cublasSscal(blas.h, len, &a3, dx.get(), 2) == CUBLAS_STATUS_SUCCESS);
  std::vector<float> scaled(x);
  for (int i = 0; i < len; ++i) scaled[2 * i] *= a3;  // odd elements are skipped by the stride
  check_close(dx.download(), scaled);
  std::vector<float> host_x(x);
  CHECK(cublasSscal(blas.h, len, &a3, host_x.data(), 1) == CUBLAS_STATUS_EXECUTION_FAILED);
  take_fault(cudaErrorIllegalAddress);
  CHECK(host_x == x);
}

TEST_CASE("cuBLAS handle settings and status strings") {
  Blas blas;
  cudaStream_t s = nullptr, got = nullptr;
  REQUIRE(cudaStreamCreate(&s) == cudaSuccess);
  REQUIRE(cublasSetStream(blas.h, s) == CUBLAS_STATUS_SUCCESS);
  REQUIRE(cublasGetStream(blas.h, &got) == CUBLAS_STATUS_SUCCESS);
  CHECK(got == s);
  CHECK(cublasSetStream(nullptr, s) == CUBLAS_STATUS_NOT_INITIALIZED);
  REQUIRE(cublasSetStream(blas.h, nullptr) == CUBLAS_STATUS_SUCCESS);
  CHECK(cudaStreamDestroy(s) == cudaSuccess);
  cublasMath_t math{};
  REQUIRE(cublasSetMathMode(blas.h, CUBLAS_TF32_TENSOR_OP_MATH) == CUBLAS_STATUS_SUCCESS);
  REQUIRE(cublasGetMathMode(blas.h, &math) == CUBLAS_STATUS_SUCCESS);
  CHECK(math == CUBLAS_TF32_TENSOR_OP_MATH);
  CHECK(std::string(cublasGetStatusName(CUBLAS_STATUS_INVALID_VALUE)) == "CUBLAS_STATUS_INVALID_VALUE");
  CHECK(std::string(cublasGetStatusString(CUBLAS_STATUS_SUCCESS)) !=
        std::string(cublasGetStatusString(CUBLAS_STATUS_EXECUTION_FAILED)));
  CHECK(cublasCreate(nullptr) == CUBLAS_STATUS_INVALID_VALUE);
}

namespace {

// A random symmetric positive definite n x n matrix M M^T + n I, column-major with padding.
std::vector<float> spd_matrix(int n, int lda) {
  const auto m = random_floats(static_cast<size_t>(n * n));
  std::vector<float> a(static_cast<size_t>(lda * n), kNaN);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) {
      double sum = i == j ? n : 0.0;
      for (int l = 0; l < n; ++l) sum += double(m[i + l * n]) * m[j + l * n];
      a[static_cast<size_t>(i + j * lda)] = static_cast<float>(sum);
    }
  return a;
}

// max_i |A x - b|_i / max_i |b_i|
double residual(const std::vector<float>& a, int lda, int n, const std::vector<float>& x, const std::vector<float>& b) {
  double worst = 0, scale = 0;
  for (int i = 0; i < n; ++i) {
    double ax = 0;
    for (int j = 0; j < n; ++j) ax += double(a[static_cast<size_t>(i + j * lda)]) * x[j];
    worst = std::max(worst, std::abs(ax - b[i]));
    scale = std::max(scale, double(std::abs(b[i])));
  }
  return worst / scale;
}

struct Solver {
  cusolverDnHandle_t h = nullptr;
  Solver() { REQUIRE(cusolverDnCreate(&h) == CUSOLVER_STATUS_SUCCESS); }
  ~Solver() { cusolverDnDestroy(h); }
};

}  // namespace

TEST_CASE("cusolverDnSpotrfBatched + cusolverDnSpotrsBatched solve random SPD systems, both triangles") {
  REQUIRE(cudaGetLastError() == cudaSuccess);
  Solver solver;
  const int n = 7, lda = n + 2, ldb = n + 1, batches = 5;
  for (cublasFillMode_t uplo : {CUBLAS_FILL_MODE_LOWER, CUBLAS_FILL_MODE_UPPER}) {
    CAPTURE(uplo);
    std::vector<std::vector<float>> as, bs;
    std::vector<std::unique_ptr<Dev<float>>> da, db;
    std::vector<float*> pa, pb;
    for (int i = 0; i < batches; ++i) {
      as.push_back(spd_matrix(n, lda));
      auto b = random_floats(static_cast<size_t>(ldb));
      b.back() = kNaN;  // padding below the n entries of the one right-hand side
      bs.push_back(b);
      da.push_back(std::make_unique<Dev<float>>(as.back()));
      db.push_back(std::make_unique<Dev<float>>(bs.back()));
      pa.push_back(da.back()->get());
      pb.push_back(db.back()->get());
    }
    Dev<float*> dpa(pa), dpb(pb);
    Dev<int> info(std::vector<int>(batches + 1, -99));
    REQUIRE(cusolverDnSpotrfBatched(solver.h, uplo, n, dpa.get(), lda, info.get(), batches) == CUSOLVER_STATUS_SUCCESS);
    REQUIRE(cusolverDnSpotrsBatched(solver.h, uplo, n, 1, dpa.get(), lda, dpb.get(), ldb, info.get() + batches,
                                    batches) == CUSOLVER_STATUS_SUCCESS);
    CHECK(info.download() == std::vector<int>(batches + 1, 0));
    for (int i = 0; i < batches; ++i) {
      const auto factor = da[i]->download();
      // Only the named triangle is processed: the other one (and the padding) is as it was.
      for (int j = 0; j < n; ++j)
        for (int r = 0; r < lda; ++r) {
          const bool named = r < n && (uplo == CUBLAS_FILL_MODE_LOWER ? r >= j : r <= j);
          const size_t at = static_cast<size_t>(r + j * lda);
          if (!named) CHECK(std::memcmp(&factor[at], &as[i][at], sizeof(float)) == 0);
        }
      const auto x = db[i]->download();
      CHECK(residual(as[i], lda, n, x, bs[i]) < 1e-4);
      CHECK(std::isnan(x[n]));
    }
  }
  CHECK(cudaGetLastError() == cudaSuccess);
}

TEST_CASE("cusolverDnSpotrfBatched reports the first leading minor that is not positive definite") {
  Solver solver;
  const int n = 5;
  std::vector<float> good = spd_matrix(n, n), minor3 = good, minor1 = good;
  minor3[2 + 2 * n] -= 1000.0f;  // order-3 minor indefinite, orders 1 and 2 untouched
  minor1[0] = -1.0f;
  Dev<float> d0(good), d1(minor3), d2(minor1);
  Dev<float*> ptrs(std::vector<float*>{d0.get(), d1.get(), d2.get()});
  Dev<int> info(std::vector<int>(3, -99));
  REQUIRE(cusolverDnSpotrfBatched(solver.h, CUBLAS_FILL_MODE_LOWER, n, ptrs.get(), n, info.get(), 3) ==
          CUSOLVER_STATUS_SUCCESS);
  CHECK(info.download() == std::vector<int>{0, 3, 1});
}

TEST_CASE("cuSOLVER argument errors and bad pointers") {
  Solver solver;
  const int n = 4;
  Dev<float> a(spd_matrix(n, n)), b(random_floats(n));
  Dev<float*> pa(std::vector<float*>{a.get()}), pb(std::vector<float*>{b.get()});
  Dev<int> info(1);
  const auto L = CUBLAS_FILL_MODE_LOWER;
  CHECK(cusolverDnSpotrfBatched(nullptr, L, n, pa.get(), n, info.get(), 1) == CUSOLVER_STATUS_NOT_INITIALIZED);
  CHECK(cusolverDnSpotrfBatched(solver.h, L, -1, pa.get(), n, info.get(), 1) == CUSOLVER_STATUS_INVALID_VALUE);
  CHECK(cusolverDnSpotrfBatched(solver.h, L, n, pa.get(), n - 1, info.get(), 1) == CUSOLVER_STATUS_INVALID_VALUE);
  CHECK(cusolverDnSpotrfBatched(solver.h, CUBLAS_FILL_MODE_FULL, n, pa.get(), n, info.get(), 1) ==
        CUSOLVER_STATUS_INVALID_VALUE);
  CHECK(cusolverDnSpotrsBatched(solver.h, L, n, 2, pa.get(), n, pb.get(), n, info.get(), 1) ==
        CUSOLVER_STATUS_INVALID_VALUE);  // nrhs must be 1
  CHECK(cusolverDnSpotrsBatched(solver.h, L, n, 1, pa.get(), n, pb.get(), n - 1, info.get(), 1) ==
        CUSOLVER_STATUS_INVALID_VALUE);
  CHECK(cudaGetLastError() == cudaSuccess);

  // The pointer array in host memory, then a host matrix behind a device pointer array.
  std::vector<float*> host_ptrs{a.get()};
  CHECK(cusolverDnSpotrfBatched(solver.h, L, n, host_ptrs.data(), n, info.get(), 1) ==
        CUSOLVER_STATUS_EXECUTION_FAILED);
  CHECK(take_fault(cudaErrorIllegalAddress).find("Aarray") != std::string::npos);
  std::vector<float> host_a = spd_matrix(n, n);
  Dev<float*> to_host(std::vector<float*>{host_a.data()});
  CHECK(cusolverDnSpotrfBatched(solver.h, L, n, to_host.get(), n, info.get(), 1) == CUSOLVER_STATUS_EXECUTION_FAILED);
  take_fault(cudaErrorIllegalAddress);
  int host_info = 0;
  CHECK(cusolverDnSpotrsBatched(solver.h, L, n, 1, pa.get(), n, pb.get(), n, &host_info, 1) ==
        CUSOLVER_STATUS_EXECUTION_FAILED);
  take_fault(cudaErrorIllegalAddress);

  cudaStream_t s = nullptr, got = nullptr;
  REQUIRE(cudaStreamCreate(&s) == cudaSuccess);
  REQUIRE(cusolverDnSetStream(solver.h, s) == CUSOLVER_STATUS_SUCCESS);
  REQUIRE(cusolverDnGetStream(solver.h, &got) == CUSOLVER_STATUS_SUCCESS);
  CHECK(got == s);
  REQUIRE(cusolverDnSetStream(solver.h, nullptr) == CUSOLVER_STATUS_SUCCESS);
  CHECK(cudaStreamDestroy(s) == cudaSuccess);
}

TEST_CASE("cusolverDnSpotrf + cusolverDnSpotrs with a workspace") {
  Solver solver;
  const int n = 6, lda = n + 1, nrhs = 3, ldb = n + 2;
  const auto a = spd_matrix(n, lda), b = random_floats(static_cast<size_t>(ldb * nrhs));
  Dev<float> da(a), db(b);
  Dev<int> info(std::vector<int>{-99});
  int lwork = -1;
  REQUIRE(cusolverDnSpotrf_bufferSize(solver.h, CUBLAS_FILL_MODE_UPPER, n, da.get(), lda, &lwork) ==
          CUSOLVER_STATUS_SUCCESS);
  REQUIRE(lwork >= 0);
  Dev<float> work(static_cast<size_t>(lwork));
  REQUIRE(cusolverDnSpotrf(solver.h, CUBLAS_FILL_MODE_UPPER, n, da.get(), lda, work.get(), lwork, info.get()) ==
          CUSOLVER_STATUS_SUCCESS);
  CHECK(info.download()[0] == 0);
  REQUIRE(cusolverDnSpotrs(solver.h, CUBLAS_FILL_MODE_UPPER, n, nrhs, da.get(), lda, db.get(), ldb, info.get()) ==
          CUSOLVER_STATUS_SUCCESS);
  CHECK(info.download()[0] == 0);
  const auto x = db.download();
  for (int r = 0; r < nrhs; ++r) {
    std::vector<float> xr(x.begin() + r * ldb, x.begin() + r * ldb + n),
        br(b.begin() + r * ldb, b.begin() + r * ldb + n);
    CHECK(residual(a, lda, n, xr, br) < 1e-4);
  }
}

namespace {

// Runs a DeviceRadixSort call the documented two-phase way: size query, then the sort.
template <typename Call>
cudaError_t two_phase(Call&& call) {
  size_t bytes = 0;
  if (cudaError_t e = call(nullptr, bytes); e != cudaSuccess) return e;
  Dev<char> temp(bytes);
  return call(temp.get(), bytes);
}

}  // namespace

TEST_CASE("DeviceRadixSort::SortPairs: signed 64-bit keys, stability, the size query") {
  REQUIRE(cudaGetLastError() == cudaSuccess);
  const int64_t n = 1000;
  std::uniform_int_distribution<int64_t> d(-40, 40);  // many equal keys
  std::vector<int64_t> keys(n), values(n);
  for (int64_t i = 0; i < n; ++i) {
    keys[i] = d(rng()) * (int64_t{1} << 40);
    values[i] = i;
  }
  Dev<int64_t> kin(keys), kout(std::vector<int64_t>(n, 7)), vin(values), vout(std::vector<int64_t>(n, 7));

  size_t bytes = 0;
  REQUIRE(cub::DeviceRadixSort::SortPairs(nullptr, bytes, kin.get(), kout.get(), vin.get(), vout.get(), n) ==
          cudaSuccess);
  CHECK(bytes > 0);
  CHECK(kout.download() == std::vector<int64_t>(n, 7));  // the query sorts nothing

  Dev<char> temp(bytes);
  REQUIRE(cub::DeviceRadixSort::SortPairs(temp.get(), bytes, kin.get(), kout.get(), vin.get(), vout.get(), n, 0, 64,
                                          cudaStream_t{}) == cudaSuccess);
  std::vector<int64_t> order(values);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return keys[a] < keys[b]; });
  std::vector<int64_t> want_keys(n);
  for (int64_t i = 0; i < n; ++i) want_keys[i] = keys[order[i]];
  CHECK(kout.download() == want_keys);
  CHECK(vout.download() == order);
  CHECK(kin.download() == keys);  // the input is not altered

  size_t small = bytes - 1;
  CHECK(cub::DeviceRadixSort::SortPairs(temp.get(), small, kin.get(), kout.get(), vin.get(), vout.get(), n) ==
        cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaSuccess);
}

TEST_CASE("DeviceRadixSort: a bit range orders by those bits of the twiddled key only") {
  const size_t n = 600;
  std::uniform_int_distribution<uint32_t> du;
  std::vector<uint32_t> ukeys(n);
  for (auto& k : ukeys) k = du(rng());
  Dev<uint32_t> uin(ukeys), uout(n);
  REQUIRE(two_phase([&](void* t, size_t& b) {
            return cub::DeviceRadixSort::SortKeys(t, b, uin.get(), uout.get(), n, 4, 12);
          }) == cudaSuccess);
  auto want = ukeys;
  std::stable_sort(want.begin(), want.end(),
                   [](uint32_t a, uint32_t b) { return ((a >> 4) & 0xff) < ((b >> 4) & 0xff); });
  CHECK(uout.download() == want);

  // Signed keys over their top 4 bits: the sign bit is flipped before the range is taken, so
  // the order is numeric order of key >> 28 (an arithmetic shift), ties in input order.
  std::uniform_int_distribution<int32_t> ds(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
  std::vector<int32_t> skeys(n), positions(n);
  for (size_t i = 0; i < n; ++i) {
    skeys[i] = ds(rng());
    positions[i] = static_cast<int32_t>(i);
  }
  Dev<int32_t> sdev(skeys), sout(n), pin(positions), pout(n);
  REQUIRE(two_phase([&](void* t, size_t& b) {
            return cub::DeviceRadixSort::SortPairs(t, b, sdev.get(), sout.get(), pin.get(), pout.get(), n, 28, 32);
          }) == cudaSuccess);
  auto order = positions;
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return (skeys[a] >> 28) < (skeys[b] >> 28); });
  CHECK(pout.download() == order);

  // The same range, descending: ties still keep their input order.
  REQUIRE(two_phase([&](void* t, size_t& b) {
            return cub::DeviceRadixSort::SortPairsDescending(t, b, sdev.get(), sout.get(), pin.get(), pout.get(), n, 28,
                                                             32);
          }) == cudaSuccess);
  order = positions;
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return (skeys[a] >> 28) > (skeys[b] >> 28); });
  CHECK(pout.download() == order);

  // An empty range compares nothing: a stable copy.
  REQUIRE(two_phase([&](void* t, size_t& b) {
            return cub::DeviceRadixSort::SortKeys(t, b, sdev.get(), sout.get(), n, 8, 8);
          }) == cudaSuccess);
  CHECK(sout.download() == skeys);
}

TEST_CASE("DeviceRadixSort: floats in numeric order, -0.0 equal to +0.0, descending") {
  std::vector<float> keys = random_floats(300, -1000.0f, 1000.0f);
  const float specials[] = {
      0.0f,   -0.0f,   std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), -0.0f, 0.0f,
      1e-40f, -1e-40f, std::numeric_limits<float>::max(),      std::numeric_limits<float>::lowest()};
  for (size_t i = 0; i < 50; ++i) keys[i * 5 + 1] = keys[i * 3];  // repeated values
  for (size_t i = 0; i < std::size(specials); ++i) keys[i * 29] = specials[i];
  const size_t n = keys.size();
  std::vector<uint16_t> positions(n);
  std::iota(positions.begin(), positions.end(), 0);
  Dev<float> kin(keys), kout(n);
  Dev<uint16_t> pin(positions), pout(n);

  auto sorted_positions = [&](bool descending) {
    auto order = positions;
    // operator< treats -0.0 and +0.0 as equal, as CUB documents.
    std::stable_sort(order.begin(), order.end(),
                     [&](uint16_t a, uint16_t b) { return descending ? keys[a] > keys[b] : keys[a] < keys[b]; });
    return order;
  };
  REQUIRE(two_phase([&](void* t, size_t& b) {
            return cub::DeviceRadixSort::SortPairs(t, b, kin.get(), kout.get(), pin.get(), pout.get(), n);
          }) == cudaSuccess);
  CHECK(pout.download() == sorted_positions(false));
  const auto out = kout.download();
  const auto out_positions = pout.download();
  for (size_t i = 0; i < n; ++i)  // the keys come out bit for bit as they went in (-0.0 stays -0.0)
    CHECK(std::memcmp(&out[i], &keys[out_positions[i]], sizeof(float)) == 0);

  REQUIRE(two_phase([&](void* t, size_t& b) {
            return cub::DeviceRadixSort::SortPairsDescending(t, b, kin.get(), kout.get(), pin.get(), pout.get(), n);
          }) == cudaSuccess);
  CHECK(pout.download() == sorted_positions(true));

  REQUIRE(two_phase([&](void* t, size_t& b) {
            return cub::DeviceRadixSort::SortKeysDescending(t, b, kin.get(), kout.get(), n);
          }) == cudaSuccess);
  std::vector<float> want(keys);
  std::stable_sort(want.begin(), want.end(), std::greater<float>());
  const auto got = kout.download();
  for (size_t i = 0; i < n; ++i) CHECK(got[i] == want[i]);  // == : -0.0 and +0.0 may trade places
}

TEST_CASE("DeviceRadixSort: small and unsigned key types") {
  std::vector<int8_t> keys(257);
  std::uniform_int_distribution<int> d(-128, 127);
  for (auto& k : keys) k = static_cast<int8_t>(d(rng()));
  Dev<int8_t> kin(keys), kout(keys.size());
  REQUIRE(two_phase([&](void* t, size_t& b) {
            return cub::DeviceRadixSort::SortKeys(t, b, kin.get(), kout.get(), static_cast<int>(keys.size()));
          }) == cudaSuccess);
  auto want = keys;
  std::sort(want.begin(), want.end());
  CHECK(kout.download() == want);

  std::vector<uint64_t> big{~uint64_t{0}, 0, uint64_t{1} << 63, 5, (uint64_t{1} << 63) - 1};
  Dev<uint64_t> bin(big), bout(big.size());
  REQUIRE(two_phase([&](void* t, size_t& b) {
            return cub::DeviceRadixSort::SortKeysDescending(t, b, bin.get(), bout.get(), big.size());
          }) == cudaSuccess);
  std::sort(big.begin(), big.end(), std::greater<uint64_t>());
  CHECK(bout.download() == big);
}

TEST_CASE("DeviceRadixSort: host memory, overlapping ranges and bad arguments") {
  const size_t n = 16;
  std::vector<int> keys(n), host_out(n, -1);
  std::iota(keys.rbegin(), keys.rend(), 0);
  Dev<int> kin(keys), kout(n);
  size_t bytes = 0;
  REQUIRE(cub::DeviceRadixSort::SortKeys(nullptr, bytes, kin.get(), kout.get(), n) == cudaSuccess);
  Dev<char> temp(bytes);

  CHECK(cub::DeviceRadixSort::SortKeys(temp.get(), bytes, kin.get(), host_out.data(), n) == cudaErrorIllegalAddress);
  CHECK(take_fault(cudaErrorIllegalAddress).find("d_keys_out") != std::string::npos);
  CHECK(host_out == std::vector<int>(n, -1));

  std::vector<char> host_temp(bytes);
  CHECK(cub::DeviceRadixSort::SortKeys(host_temp.data(), bytes, kin.get(), kout.get(), n) == cudaErrorIllegalAddress);
  CHECK(take_fault(cudaErrorIllegalAddress).find("d_temp_storage") != std::string::npos);

  // In place is documented as unsupported.
  CHECK(cub::DeviceRadixSort::SortKeys(temp.get(), bytes, kin.get(), kin.get(), n) == cudaErrorInvalidValue);
  take_fault(cudaErrorInvalidValue);

  CHECK(cub::DeviceRadixSort::SortKeys(temp.get(), bytes, kin.get(), kout.get(), n, 0, 33) == cudaErrorInvalidValue);
  CHECK(cub::DeviceRadixSort::SortKeys(temp.get(), bytes, kin.get(), kout.get(), n, 9, 8) == cudaErrorInvalidValue);
  CHECK(cub::DeviceRadixSort::SortKeys(temp.get(), bytes, kin.get(), kout.get(), -1) == cudaErrorInvalidValue);
  CHECK(cub::DeviceRadixSort::SortKeys(temp.get(), bytes, kin.get(), kout.get(), 0) == cudaSuccess);
  CHECK(cudaGetLastError() == cudaSuccess);
}

TEST_SUITE_END();

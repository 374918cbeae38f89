// The emulator's cuDNN stand-in against formulas written independently here: the forward pass
// against an explicit im2col product, the backward passes as its adjoints (dot-product tests) and
// against finite differences, plus alpha/beta, the documented error statuses and the faults a
// GPU would meet.
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

// Device memory holding n floats, uploaded from and downloaded to host vectors.
class DeviceFloats {
 public:
  explicit DeviceFloats(size_t n) : n_(n) { REQUIRE(cudaMalloc(&p_, n * sizeof(float)) == cudaSuccess); }
  explicit DeviceFloats(const std::vector<float>& v) : DeviceFloats(v.size()) { upload(v); }
  ~DeviceFloats() { cudaFree(p_); }
  DeviceFloats(const DeviceFloats&) = delete;
  DeviceFloats& operator=(const DeviceFloats&) = delete;
  float* get() const { return static_cast<float*>(p_); }
  void upload(const std::vector<float>& v) {
    REQUIRE(v.size() == n_);
    REQUIRE(cudaMemcpy(p_, v.data(), n_ * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess);
  }
  std::vector<float> download() const {
    std::vector<float> v(n_);
    REQUIRE(cudaMemcpy(v.data(), p_, n_ * sizeof(float), cudaMemcpyDeviceToHost) == cudaSuccess);
    return v;
  }

 private:
  void* p_ = nullptr;
  size_t n_;
};

// Values in +-[0.1, 1]: non-zero, so a dropped or misplaced term always shows.
std::vector<float> random_values(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> mag(0.1f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = (gen() & 1 ? 1.0f : -1.0f) * mag(gen);
  return v;
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

bool close(double got, double want, double scale, double rel = 1e-5) {
  return std::abs(got - want) <= rel * (1.0 + scale);
}

struct Case {
  int n, c, h, w, k, r, s;
  int pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  int groups = 1;
  // The documented output size: 1 + (in + 2 pad - dilated filter) / stride.
  int oh() const { return 1 + (h + 2 * pad_h - ((r - 1) * dil_h + 1)) / stride_h; }
  int ow() const { return 1 + (w + 2 * pad_w - ((s - 1) * dil_w + 1)) / stride_w; }
  int cg() const { return c / groups; }
  size_t x_size() const { return size_t(n) * c * h * w; }
  size_t w_size() const { return size_t(k) * cg() * r * s; }
  size_t y_size() const { return size_t(n) * k * oh() * ow(); }
};

// y = W * im2col(x) per image and group, W's rows the filters as applied (rotated by 180
// degrees in CUDNN_CONVOLUTION mode). All NCHW, packed. Also returns the sum of |terms| per
// output, the scale of its rounding error.
std::vector<double> im2col_forward(const Case& cs, const std::vector<float>& x, const std::vector<float>& w,
                                   std::vector<double>* scale = nullptr) {
  const int oh = cs.oh(), ow = cs.ow(), cg = cs.cg(), kg = cs.k / cs.groups, rows = cg * cs.r * cs.s;
  std::vector<double> y(cs.y_size(), 0.0);
  if (scale) scale->assign(y.size(), 0.0);
  std::vector<double> cols(size_t(rows) * oh * ow);
  for (int n = 0; n < cs.n; ++n)
    for (int grp = 0; grp < cs.groups; ++grp) {
      for (int c = 0; c < cg; ++c)
        for (int tr = 0; tr < cs.r; ++tr)
          for (int ts = 0; ts < cs.s; ++ts)
            for (int p = 0; p < oh * ow; ++p) {
              const int ih = (p / ow) * cs.stride_h - cs.pad_h + tr * cs.dil_h;
              const int iw = (p % ow) * cs.stride_w - cs.pad_w + ts * cs.dil_w;
              const bool inside = ih >= 0 && ih < cs.h && iw >= 0 && iw < cs.w;
              const size_t xi = ((size_t(n) * cs.c + grp * cg + c) * cs.h + ih) * cs.w + iw;
              cols[(size_t(c * cs.r + tr) * cs.s + ts) * oh * ow + p] = inside ? x[xi] : 0.0;
            }
      for (int kk = 0; kk < kg; ++kk) {
        const int k = grp * kg + kk;
        for (int row = 0; row < rows; ++row) {
          const int c = row / (cs.r * cs.s), tr = row / cs.s % cs.r, ts = row % cs.s;
          const int wr = cs.mode == CUDNN_CONVOLUTION ? cs.r - 1 - tr : tr;
          const int ws = cs.mode == CUDNN_CONVOLUTION ? cs.s - 1 - ts : ts;
          const double wv = w[((size_t(k) * cg + c) * cs.r + wr) * cs.s + ws];
          for (int p = 0; p < oh * ow; ++p) {
            const size_t yi = (size_t(n) * cs.k + k) * oh * ow + p;
            y[yi] += wv * cols[size_t(row) * oh * ow + p];
            if (scale) (*scale)[yi] += std::abs(wv * cols[size_t(row) * oh * ow + p]);
          }
        }
      }
    }
  return y;
}

// A handle and the descriptors of one case (NCHW float, or NHWC when asked).
struct Conv {
  Case cs;
  cudnnHandle_t handle = nullptr;
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;

  explicit Conv(const Case& c, cudnnTensorFormat_t format = CUDNN_TENSOR_NCHW) : cs(c) {
    REQUIRE(cudnnCreate(&handle) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnCreateTensorDescriptor(&x) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnCreateTensorDescriptor(&y) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnCreateFilterDescriptor(&w) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnCreateConvolutionDescriptor(&conv) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnSetTensor4dDescriptor(x, format, CUDNN_DATA_FLOAT, c.n, c.c, c.h, c.w) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnSetTensor4dDescriptor(y, format, CUDNN_DATA_FLOAT, c.n, c.k, c.oh(), c.ow()) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, format, c.k, c.cg(), c.r, c.s) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnSetConvolution2dDescriptor(conv, c.pad_h, c.pad_w, c.stride_h, c.stride_w, c.dil_h, c.dil_w, c.mode,
                                            CUDNN_DATA_FLOAT) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnSetConvolutionGroupCount(conv, c.groups) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnSetConvolutionMathType(conv, CUDNN_FMA_MATH) == CUDNN_STATUS_SUCCESS);
  }
  ~Conv() {
    cudnnDestroyConvolutionDescriptor(conv);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroy(handle);
  }
  Conv(const Conv&) = delete;
  Conv& operator=(const Conv&) = delete;

  cudnnStatus_t forward(const float* xd, const float* wd, float* yd, cudnnConvolutionFwdAlgo_t algo, float alpha = 1,
                        float beta = 0) {
    size_t bytes = 0;
    REQUIRE(cudnnGetConvolutionForwardWorkspaceSize(handle, x, w, conv, y, algo, &bytes) == CUDNN_STATUS_SUCCESS);
    DeviceFloats ws(bytes / sizeof(float) + 1);
    return cudnnConvolutionForward(handle, &alpha, x, xd, w, wd, conv, algo, ws.get(), bytes, &beta, y, yd);
  }
  cudnnStatus_t backward_data(const float* wd, const float* dyd, float* dxd, cudnnConvolutionBwdDataAlgo_t algo,
                              float alpha = 1, float beta = 0) {
    size_t bytes = 0;
    REQUIRE(cudnnGetConvolutionBackwardDataWorkspaceSize(handle, w, y, conv, x, algo, &bytes) == CUDNN_STATUS_SUCCESS);
    DeviceFloats ws(bytes / sizeof(float) + 1);
    return cudnnConvolutionBackwardData(handle, &alpha, w, wd, y, dyd, conv, algo, ws.get(), bytes, &beta, x, dxd);
  }
  cudnnStatus_t backward_filter(const float* xd, const float* dyd, float* dwd, cudnnConvolutionBwdFilterAlgo_t algo,
                                float alpha = 1, float beta = 0) {
    size_t bytes = 0;
    REQUIRE(cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, x, y, conv, w, algo, &bytes) ==
            CUDNN_STATUS_SUCCESS);
    DeviceFloats ws(bytes / sizeof(float) + 1);
    return cudnnConvolutionBackwardFilter(handle, &alpha, x, xd, y, dyd, conv, algo, ws.get(), bytes, &beta, w, dwd);
  }
};

// Cases covering padding, stride, dilation (alone and together), rectangular shapes, both modes
// and groups.
std::vector<Case> cases() {
  std::vector<Case> v;
  for (cudnnConvolutionMode_t mode : {CUDNN_CROSS_CORRELATION, CUDNN_CONVOLUTION}) {
    Case a{2, 3, 5, 6, 4, 3, 2};
    a.mode = mode;
    v.push_back(a);
    Case b{1, 2, 7, 6, 3, 3, 3};
    b.pad_h = 1, b.pad_w = 2, b.mode = mode;
    v.push_back(b);
    Case c{2, 2, 9, 8, 2, 3, 2};
    c.pad_h = 2, c.pad_w = 1, c.stride_h = 2, c.stride_w = 3, c.dil_h = 2, c.dil_w = 3, c.mode = mode;
    v.push_back(c);
    Case d{1, 4, 6, 7, 6, 2, 3};
    d.stride_h = 2, d.dil_w = 2, d.groups = 2, d.pad_w = 1, d.mode = mode;
    v.push_back(d);
  }
  return v;
}

std::string describe(const Case& c) {
  return "x " + std::to_string(c.n) + "x" + std::to_string(c.c) + "x" + std::to_string(c.h) + "x" +
         std::to_string(c.w) + " w " + std::to_string(c.k) + "x" + std::to_string(c.cg()) + "x" + std::to_string(c.r) +
         "x" + std::to_string(c.s) + " pad " + std::to_string(c.pad_h) + "," + std::to_string(c.pad_w) +
         " stride " + std::to_string(c.stride_h) + "," + std::to_string(c.stride_w) + " dilation " +
         std::to_string(c.dil_h) + "," + std::to_string(c.dil_w) + " groups " + std::to_string(c.groups) +
         (c.mode == CUDNN_CONVOLUTION ? " convolution" : " cross-correlation");
}

const cudnnConvolutionFwdAlgo_t kFwdAlgos[] = {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                                               CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM};
const cudnnConvolutionBwdDataAlgo_t kDataAlgos[] = {CUDNN_CONVOLUTION_BWD_DATA_ALGO_0,
                                                    CUDNN_CONVOLUTION_BWD_DATA_ALGO_1};
const cudnnConvolutionBwdFilterAlgo_t kFilterAlgos[] = {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0,
                                                        CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1};

}  // namespace

TEST_CASE("cudnnConvolutionForward matches an explicit im2col product") {
  unsigned seed = 1;
  for (const Case& cs : cases())
    for (auto algo : kFwdAlgos) {
      CAPTURE(describe(cs));
      CAPTURE(algo);
      Conv conv(cs);
      const std::vector<float> x = random_values(cs.x_size(), seed++), w = random_values(cs.w_size(), seed++);
      DeviceFloats xd(x), wd(w), yd(cs.y_size());
      REQUIRE(conv.forward(xd.get(), wd.get(), yd.get(), algo) == CUDNN_STATUS_SUCCESS);
      std::vector<double> scale;
      const std::vector<double> want = im2col_forward(cs, x, w, &scale);
      const std::vector<float> got = yd.download();
      for (size_t i = 0; i < want.size(); ++i) REQUIRE(close(got[i], want[i], scale[i]));
    }
  CHECK(cudaGetLastError() == cudaSuccess);
}

TEST_CASE("NHWC tensors and filters give the NCHW result") {
  Case cs{2, 3, 5, 4, 2, 3, 2};
  cs.pad_h = 1, cs.stride_w = 2, cs.mode = CUDNN_CONVOLUTION;
  const std::vector<float> x = random_values(cs.x_size(), 7), w = random_values(cs.w_size(), 8);
  // The same values, laid out N, H, W, C (and K, R, S, C).
  auto to_nhwc = [](const std::vector<float>& v, int n, int c, int h, int wd) {
    std::vector<float> out(v.size());
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < c; ++b)
        for (int i = 0; i < h; ++i)
          for (int j = 0; j < wd; ++j) out[((size_t(a) * h + i) * wd + j) * c + b] = v[((size_t(a) * c + b) * h + i) * wd + j];
    return out;
  };
  Conv conv(cs, CUDNN_TENSOR_NHWC);
  DeviceFloats xd(to_nhwc(x, cs.n, cs.c, cs.h, cs.w)), wd(to_nhwc(w, cs.k, cs.c, cs.r, cs.s)), yd(cs.y_size());
  REQUIRE(conv.forward(xd.get(), wd.get(), yd.get(), CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM) ==
          CUDNN_STATUS_SUCCESS);
  std::vector<double> scale;
  const std::vector<double> want = im2col_forward(cs, x, w, &scale);
  std::vector<float> want_f(want.begin(), want.end());
  const std::vector<float> want_nhwc = to_nhwc(want_f, cs.n, cs.k, cs.oh(), cs.ow());
  const std::vector<float> got = yd.download();
  for (size_t i = 0; i < got.size(); ++i) CHECK(close(got[i], want_nhwc[i], 10.0));
}

TEST_CASE("the backward passes are the adjoints of the forward pass") {
  unsigned seed = 100;
  for (const Case& cs : cases())
    for (int algo = 0; algo < 2; ++algo) {
      CAPTURE(describe(cs));
      CAPTURE(algo);
      Conv conv(cs);
      const std::vector<float> x = random_values(cs.x_size(), seed++), w = random_values(cs.w_size(), seed++),
                               dy = random_values(cs.y_size(), seed++);
      DeviceFloats xd(x), wd(w), dyd(dy), yd(cs.y_size()), dxd(cs.x_size()), dwd(cs.w_size());
      REQUIRE(conv.forward(xd.get(), wd.get(), yd.get(), kFwdAlgos[algo]) == CUDNN_STATUS_SUCCESS);
      REQUIRE(conv.backward_data(wd.get(), dyd.get(), dxd.get(), kDataAlgos[algo]) == CUDNN_STATUS_SUCCESS);
      REQUIRE(conv.backward_filter(xd.get(), dyd.get(), dwd.get(), kFilterAlgos[algo]) == CUDNN_STATUS_SUCCESS);
      // <dy, conv(x, w)> is bilinear: its gradient in x is dx, in w is dw, so both dot products
      // equal it exactly (up to float rounding of the stored results).
      const double loss = dot(dy, yd.download());
      const double size = static_cast<double>(cs.y_size() * cs.cg() * cs.r * cs.s);
      CHECK(close(dot(dxd.download(), x), loss, size));
      CHECK(close(dot(dwd.download(), w), loss, size));
    }
  CHECK(cudaGetLastError() == cudaSuccess);
}

TEST_CASE("the backward passes match finite differences of the forward pass") {
  for (cudnnConvolutionMode_t mode : {CUDNN_CROSS_CORRELATION, CUDNN_CONVOLUTION}) {
    Case cs{1, 2, 5, 5, 2, 3, 2};
    cs.pad_h = 1, cs.stride_w = 2, cs.dil_h = 2, cs.mode = mode;
    Conv conv(cs);
    std::vector<float> x = random_values(cs.x_size(), 31), w = random_values(cs.w_size(), 32);
    const std::vector<float> dy = random_values(cs.y_size(), 33);
    DeviceFloats xd(x), wd(w), dyd(dy), yd(cs.y_size()), dxd(cs.x_size()), dwd(cs.w_size());
    REQUIRE(conv.backward_data(wd.get(), dyd.get(), dxd.get(), CUDNN_CONVOLUTION_BWD_DATA_ALGO_1) ==
            CUDNN_STATUS_SUCCESS);
    REQUIRE(conv.backward_filter(xd.get(), dyd.get(), dwd.get(), CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1) ==
            CUDNN_STATUS_SUCCESS);
    const std::vector<float> dx = dxd.download(), dw = dwd.download();
    // L(x, w) = <dy, conv(x, w)>, evaluated by the stand-in's own forward pass.
    auto loss = [&] {
      xd.upload(x);
      wd.upload(w);
      REQUIRE(conv.forward(xd.get(), wd.get(), yd.get(), CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM) ==
              CUDNN_STATUS_SUCCESS);
      return dot(dy, yd.download());
    };
    const float eps = 1.0f / 64;  // a power of two, so x +- eps is exact for |x| in [0.1, 1]
    auto central = [&](float& v) {
      const float keep = v;
      v = keep + eps;
      const double up = loss();
      v = keep - eps;
      const double down = loss();
      v = keep;
      return (up - down) / (2.0 * eps);
    };
    for (size_t i = 0; i < x.size(); ++i) CHECK(std::abs(central(x[i]) - dx[i]) < 1e-3);
    for (size_t i = 0; i < w.size(); ++i) CHECK(std::abs(central(w[i]) - dw[i]) < 1e-3);
  }
}

TEST_CASE("alpha and beta blend into the output, and beta = 0 never reads it") {
  Case cs{2, 2, 4, 5, 3, 2, 2};
  cs.pad_w = 1, cs.mode = CUDNN_CONVOLUTION;
  Conv conv(cs);
  const std::vector<float> x = random_values(cs.x_size(), 41), w = random_values(cs.w_size(), 42),
                           dy = random_values(cs.y_size(), 43);
  DeviceFloats xd(x), wd(w), dyd(dy);
  const float nan = std::numeric_limits<float>::quiet_NaN();

  SUBCASE("forward") {
    const std::vector<float> y0 = random_values(cs.y_size(), 44);
    DeviceFloats yd(y0), plain(cs.y_size());
    REQUIRE(conv.forward(xd.get(), wd.get(), plain.get(), CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM) ==
            CUDNN_STATUS_SUCCESS);
    REQUIRE(conv.forward(xd.get(), wd.get(), yd.get(), CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, 0.5f,
                         -2.0f) == CUDNN_STATUS_SUCCESS);
    const std::vector<float> p = plain.download(), got = yd.download();
    for (size_t i = 0; i < got.size(); ++i) CHECK(close(got[i], 0.5 * p[i] - 2.0 * y0[i], 4.0));
    yd.upload(std::vector<float>(cs.y_size(), nan));
    REQUIRE(conv.forward(xd.get(), wd.get(), yd.get(), CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, 3.0f, 0.0f) ==
            CUDNN_STATUS_SUCCESS);
    const std::vector<float> fresh = yd.download();
    for (size_t i = 0; i < fresh.size(); ++i) CHECK(close(fresh[i], 3.0 * p[i], 4.0));
  }
  SUBCASE("backward data") {
    const std::vector<float> dx0 = random_values(cs.x_size(), 45);
    DeviceFloats dxd(dx0), plain(cs.x_size());
    REQUIRE(conv.backward_data(wd.get(), dyd.get(), plain.get(), CUDNN_CONVOLUTION_BWD_DATA_ALGO_0) ==
            CUDNN_STATUS_SUCCESS);
    REQUIRE(conv.backward_data(wd.get(), dyd.get(), dxd.get(), CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, 2.0f, 1.0f) ==
            CUDNN_STATUS_SUCCESS);
    const std::vector<float> p = plain.download(), got = dxd.download();
    for (size_t i = 0; i < got.size(); ++i) CHECK(close(got[i], 2.0 * p[i] + dx0[i], 4.0));
    dxd.upload(std::vector<float>(cs.x_size(), nan));
    REQUIRE(conv.backward_data(wd.get(), dyd.get(), dxd.get(), CUDNN_CONVOLUTION_BWD_DATA_ALGO_1) ==
            CUDNN_STATUS_SUCCESS);
    const std::vector<float> fresh = dxd.download();
    for (size_t i = 0; i < fresh.size(); ++i) CHECK(close(fresh[i], p[i], 4.0));
  }
  SUBCASE("backward filter") {
    const std::vector<float> dw0 = random_values(cs.w_size(), 46);
    DeviceFloats dwd(dw0), plain(cs.w_size());
    REQUIRE(conv.backward_filter(xd.get(), dyd.get(), plain.get(), CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0) ==
            CUDNN_STATUS_SUCCESS);
    REQUIRE(conv.backward_filter(xd.get(), dyd.get(), dwd.get(), CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, -1.0f, 0.25f) ==
            CUDNN_STATUS_SUCCESS);
    const std::vector<float> p = plain.download(), got = dwd.download();
    for (size_t i = 0; i < got.size(); ++i) CHECK(close(got[i], -p[i] + 0.25 * dw0[i], 10.0));
    dwd.upload(std::vector<float>(cs.w_size(), nan));
    REQUIRE(conv.backward_filter(xd.get(), dyd.get(), dwd.get(), CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1) ==
            CUDNN_STATUS_SUCCESS);
    const std::vector<float> fresh = dwd.download();
    for (size_t i = 0; i < fresh.size(); ++i) CHECK(close(fresh[i], p[i], 10.0));
  }
}

TEST_CASE("cudnnGetConvolution2dForwardOutputDim follows the documented formula") {
  Case cs{3, 4, 11, 9, 5, 3, 2};
  cs.pad_h = 2, cs.pad_w = 1, cs.stride_h = 3, cs.stride_w = 2, cs.dil_h = 2, cs.dil_w = 3;
  Conv conv(cs);
  int n, c, h, w;
  REQUIRE(cudnnGetConvolution2dForwardOutputDim(conv.conv, conv.x, conv.w, &n, &c, &h, &w) == CUDNN_STATUS_SUCCESS);
  CHECK(n == 3);
  CHECK(c == 5);
  CHECK(h == 1 + (11 + 4 - 5) / 3);
  CHECK(w == 1 + (9 + 2 - 4) / 2);
}

TEST_CASE("the algorithm queries rank usable algorithms with the workspace they need") {
  Case cs{2, 3, 6, 6, 4, 3, 3};
  cs.pad_h = cs.pad_w = 1;
  Conv conv(cs);
  const std::vector<float> x = random_values(cs.x_size(), 51), w = random_values(cs.w_size(), 52);
  DeviceFloats xd(x), wd(w), yd(cs.y_size()), dxd(cs.x_size()), dwd(cs.w_size());

  int got = 0;
  cudnnConvolutionFwdAlgoPerf_t fwd[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  REQUIRE(cudnnGetConvolutionForwardAlgorithm_v7(conv.handle, conv.x, conv.w, conv.conv, conv.y,
                                                 CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got, fwd) == CUDNN_STATUS_SUCCESS);
  REQUIRE(got == CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
  REQUIRE(fwd[0].status == CUDNN_STATUS_SUCCESS);
  CHECK(fwd[0].determinism == CUDNN_DETERMINISTIC);
  CHECK(fwd[0].mathType == CUDNN_FMA_MATH);
  int usable = 0;
  for (int i = 0; i < got; ++i) {
    size_t bytes = 0;
    const cudnnStatus_t s =
        cudnnGetConvolutionForwardWorkspaceSize(conv.handle, conv.x, conv.w, conv.conv, conv.y, fwd[i].algo, &bytes);
    CHECK(s == fwd[i].status);
    if (fwd[i].status != CUDNN_STATUS_SUCCESS) continue;
    ++usable;
    CHECK(bytes == fwd[i].memory);
    DeviceFloats ws(bytes / sizeof(float) + 1);
    const float one = 1, zero = 0;
    CHECK(cudnnConvolutionForward(conv.handle, &one, conv.x, xd.get(), conv.w, wd.get(), conv.conv, fwd[i].algo,
                                  ws.get(), fwd[i].memory, &zero, conv.y, yd.get()) == CUDNN_STATUS_SUCCESS);
    if (fwd[i].memory > 0) {  // one byte less is refused
      CHECK(cudnnConvolutionForward(conv.handle, &one, conv.x, xd.get(), conv.w, wd.get(), conv.conv, fwd[i].algo,
                                    ws.get(), fwd[i].memory - 1, &zero, conv.y, yd.get()) == CUDNN_STATUS_BAD_PARAM);
      CHECK(cudnnConvolutionForward(conv.handle, &one, conv.x, xd.get(), conv.w, wd.get(), conv.conv, fwd[i].algo,
                                    nullptr, fwd[i].memory, &zero, conv.y, yd.get()) == CUDNN_STATUS_BAD_PARAM);
    }
  }
  CHECK(usable >= 1);

  cudnnConvolutionBwdDataAlgoPerf_t data[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
  REQUIRE(cudnnGetConvolutionBackwardDataAlgorithm_v7(conv.handle, conv.w, conv.y, conv.conv, conv.x,
                                                      CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got,
                                                      data) == CUDNN_STATUS_SUCCESS);
  bool deterministic_data = false;
  for (int i = 0; i < got; ++i) {
    if (data[i].status != CUDNN_STATUS_SUCCESS) continue;
    deterministic_data |= data[i].determinism == CUDNN_DETERMINISTIC;
    size_t bytes = 0;
    REQUIRE(cudnnGetConvolutionBackwardDataWorkspaceSize(conv.handle, conv.w, conv.y, conv.conv, conv.x, data[i].algo,
                                                         &bytes) == CUDNN_STATUS_SUCCESS);
    CHECK(bytes == data[i].memory);
    CHECK(conv.backward_data(wd.get(), yd.get(), dxd.get(), data[i].algo) == CUDNN_STATUS_SUCCESS);
  }
  CHECK(deterministic_data);

  cudnnConvolutionBwdFilterAlgoPerf_t filt[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
  REQUIRE(cudnnGetConvolutionBackwardFilterAlgorithm_v7(conv.handle, conv.x, conv.y, conv.conv, conv.w,
                                                        CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &got,
                                                        filt) == CUDNN_STATUS_SUCCESS);
  bool deterministic_filter = false;
  for (int i = 0; i < got; ++i) {
    if (filt[i].status != CUDNN_STATUS_SUCCESS) continue;
    deterministic_filter |= filt[i].determinism == CUDNN_DETERMINISTIC;
    size_t bytes = 0;
    REQUIRE(cudnnGetConvolutionBackwardFilterWorkspaceSize(conv.handle, conv.x, conv.y, conv.conv, conv.w,
                                                           filt[i].algo, &bytes) == CUDNN_STATUS_SUCCESS);
    CHECK(bytes == filt[i].memory);
    CHECK(conv.backward_filter(xd.get(), yd.get(), dwd.get(), filt[i].algo) == CUDNN_STATUS_SUCCESS);
  }
  CHECK(deterministic_filter);

  SUBCASE("fewer requested, fewer returned") {
    REQUIRE(cudnnGetConvolutionForwardAlgorithm_v7(conv.handle, conv.x, conv.w, conv.conv, conv.y, 1, &got, fwd) ==
            CUDNN_STATUS_SUCCESS);
    CHECK(got == 1);
  }
  SUBCASE("Find*Ex runs and times the algorithms") {
    DeviceFloats ws(1 << 16);
    REQUIRE(cudnnFindConvolutionForwardAlgorithmEx(conv.handle, conv.x, xd.get(), conv.w, wd.get(), conv.conv, conv.y,
                                                   yd.get(), CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got, fwd, ws.get(),
                                                   1 << 18) == CUDNN_STATUS_SUCCESS);
    CHECK(fwd[0].status == CUDNN_STATUS_SUCCESS);
    CHECK(fwd[0].time >= 0);
    REQUIRE(cudnnFindConvolutionBackwardDataAlgorithmEx(conv.handle, conv.w, wd.get(), conv.y, yd.get(), conv.conv,
                                                        conv.x, dxd.get(), CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got,
                                                        data, nullptr, 0) == CUDNN_STATUS_SUCCESS);
    CHECK(data[0].status == CUDNN_STATUS_SUCCESS);
    CHECK(data[0].memory == 0);  // with no workspace, only a workspace-free algorithm can succeed
    REQUIRE(cudnnFindConvolutionBackwardFilterAlgorithmEx(conv.handle, conv.x, xd.get(), conv.y, yd.get(), conv.conv,
                                                          conv.w, dwd.get(), CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT,
                                                          &got, filt, ws.get(), 1 << 18) == CUDNN_STATUS_SUCCESS);
    CHECK(filt[0].status == CUDNN_STATUS_SUCCESS);
  }
  CHECK(cudaGetLastError() == cudaSuccess);
}

TEST_CASE("the documented error statuses") {
  Case cs{1, 2, 5, 5, 3, 3, 3};
  Conv conv(cs);
  DeviceFloats xd(cs.x_size()), wd(cs.w_size()), yd(cs.y_size());
  const float one = 1, zero = 0;
  auto forward = [&](cudnnHandle_t h, cudnnTensorDescriptor_t x, cudnnTensorDescriptor_t y,
                     cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM) {
    return cudnnConvolutionForward(h, &one, x, xd.get(), conv.w, wd.get(), conv.conv, algo, nullptr, 0, &zero, y,
                                   yd.get());
  };
  cudnnTensorDescriptor_t other;
  REQUIRE(cudnnCreateTensorDescriptor(&other) == CUDNN_STATUS_SUCCESS);

  SUBCASE("NULL handle") { CHECK(forward(nullptr, conv.x, conv.y) == CUDNN_STATUS_BAD_PARAM); }
  SUBCASE("y with the wrong channel count") {
    REQUIRE(cudnnSetTensor4dDescriptor(other, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 2, 3, 3) == CUDNN_STATUS_SUCCESS);
    CHECK(forward(conv.handle, conv.x, other) == CUDNN_STATUS_BAD_PARAM);
  }
  SUBCASE("y with the wrong batch size") {
    REQUIRE(cudnnSetTensor4dDescriptor(other, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 2, 3, 3, 3) == CUDNN_STATUS_SUCCESS);
    CHECK(forward(conv.handle, conv.x, other) == CUDNN_STATUS_BAD_PARAM);
  }
  SUBCASE("y with the wrong spatial size") {
    // The forward docs list this under NOT_SUPPORTED; the backward-data docs under BAD_PARAM.
    REQUIRE(cudnnSetTensor4dDescriptor(other, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 3, 3, 2) == CUDNN_STATUS_SUCCESS);
    CHECK(forward(conv.handle, conv.x, other) == CUDNN_STATUS_NOT_SUPPORTED);
    CHECK(cudnnConvolutionBackwardData(conv.handle, &one, conv.w, wd.get(), other, yd.get(), conv.conv,
                                       CUDNN_CONVOLUTION_BWD_DATA_ALGO_0, nullptr, 0, &zero, conv.x,
                                       xd.get()) == CUDNN_STATUS_BAD_PARAM);
    CHECK(cudnnConvolutionBackwardFilter(conv.handle, &one, conv.x, xd.get(), other, yd.get(), conv.conv,
                                         CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0, nullptr, 0, &zero, conv.w,
                                         wd.get()) == CUDNN_STATUS_BAD_PARAM);
  }
  SUBCASE("x channels disagree with the filter") {
    REQUIRE(cudnnSetTensor4dDescriptor(other, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 3, 5, 5) == CUDNN_STATUS_SUCCESS);
    CHECK(forward(conv.handle, other, conv.y) == CUDNN_STATUS_BAD_PARAM);
    int n, c, h, w;
    CHECK(cudnnGetConvolution2dForwardOutputDim(conv.conv, other, conv.w, &n, &c, &h, &w) == CUDNN_STATUS_BAD_PARAM);
  }
  SUBCASE("a filter larger than the padded input") {
    REQUIRE(cudnnSetTensor4dDescriptor(other, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 2, 2, 5) == CUDNN_STATUS_SUCCESS);
    int n, c, h, w;
    CHECK(cudnnGetConvolution2dForwardOutputDim(conv.conv, other, conv.w, &n, &c, &h, &w) == CUDNN_STATUS_BAD_PARAM);
  }
  SUBCASE("a data type the stand-in does not compute") {
    REQUIRE(cudnnSetTensor4dDescriptor(other, CUDNN_TENSOR_NCHW, CUDNN_DATA_DOUBLE, 1, 2, 5, 5) == CUDNN_STATUS_SUCCESS);
    CHECK(forward(conv.handle, other, conv.y) == CUDNN_STATUS_BAD_PARAM);  // x and w types differ
    cudnnFilterDescriptor_t wd64;
    REQUIRE(cudnnCreateFilterDescriptor(&wd64) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnSetFilter4dDescriptor(wd64, CUDNN_DATA_DOUBLE, CUDNN_TENSOR_NCHW, 3, 2, 3, 3) == CUDNN_STATUS_SUCCESS);
    int n, c, h, w;
    CHECK(cudnnGetConvolution2dForwardOutputDim(conv.conv, other, wd64, &n, &c, &h, &w) ==
          CUDNN_STATUS_NOT_SUPPORTED);
    cudnnDestroyFilterDescriptor(wd64);
  }
  SUBCASE("an algorithm the stand-in does not implement") {
    CHECK(forward(conv.handle, conv.x, conv.y, CUDNN_CONVOLUTION_FWD_ALGO_FFT) == CUDNN_STATUS_NOT_SUPPORTED);
    size_t bytes;
    CHECK(cudnnGetConvolutionForwardWorkspaceSize(conv.handle, conv.x, conv.w, conv.conv, conv.y,
                                                  CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD,
                                                  &bytes) == CUDNN_STATUS_NOT_SUPPORTED);
  }
  SUBCASE("invalid descriptor values") {
    CHECK(cudnnSetTensor4dDescriptor(other, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, -2, 5, 5) == CUDNN_STATUS_BAD_PARAM);
    CHECK(cudnnSetConvolution2dDescriptor(conv.conv, -1, 0, 1, 1, 1, 1, CUDNN_CONVOLUTION, CUDNN_DATA_FLOAT) ==
          CUDNN_STATUS_BAD_PARAM);
    CHECK(cudnnSetConvolution2dDescriptor(conv.conv, 0, 0, 0, 1, 1, 1, CUDNN_CONVOLUTION, CUDNN_DATA_FLOAT) ==
          CUDNN_STATUS_BAD_PARAM);
    CHECK(cudnnSetConvolution2dDescriptor(conv.conv, 0, 0, 1, 1, 1, 0, CUDNN_CONVOLUTION, CUDNN_DATA_FLOAT) ==
          CUDNN_STATUS_BAD_PARAM);
    CHECK(cudnnSetConvolutionGroupCount(conv.conv, 0) == CUDNN_STATUS_BAD_PARAM);
  }
  SUBCASE("a descriptor that was never set") { CHECK(forward(conv.handle, other, conv.y) == CUDNN_STATUS_BAD_PARAM); }
  char why[256];
  cudnnGetLastErrorString(why, sizeof why);
  CHECK(std::string(why).find("cudnn") == 0);  // every refusal says which function and why
  cudnnDestroyTensorDescriptor(other);
  CHECK(cudaGetLastError() == cudaSuccess);  // refusals are statuses, not faults
}

TEST_CASE("operands outside device memory fault like an illegal address") {
  Case cs{1, 2, 4, 4, 2, 3, 3};
  Conv conv(cs);
  DeviceFloats xd(cs.x_size()), wd(cs.w_size()), yd(cs.y_size()), short_y(cs.y_size() - 1);
  std::vector<float> host(cs.x_size());
  const float one = 1, zero = 0;
  REQUIRE(cudaGetLastError() == cudaSuccess);

  SUBCASE("a host pointer") {
    CHECK(cudnnConvolutionForward(conv.handle, &one, conv.x, host.data(), conv.w, wd.get(), conv.conv,
                                  CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, &zero, conv.y,
                                  yd.get()) == CUDNN_STATUS_EXECUTION_FAILED);
    CHECK(cudaGetLastError() == cudaErrorIllegalAddress);
    const std::string message = cudaGetErrorString(cudaErrorIllegalAddress);
    CHECK(message.find("cudnnConvolutionForward") != std::string::npos);
    CHECK(message.find(" x ") != std::string::npos);
  }
  SUBCASE("device memory shorter than the tensor") {
    CHECK(cudnnConvolutionBackwardData(conv.handle, &one, conv.w, wd.get(), conv.y, short_y.get(), conv.conv,
                                       CUDNN_CONVOLUTION_BWD_DATA_ALGO_0, nullptr, 0, &zero, conv.x,
                                       xd.get()) == CUDNN_STATUS_EXECUTION_FAILED);
    CHECK(cudaGetLastError() == cudaErrorIllegalAddress);
    CHECK(std::string(cudaGetErrorString(cudaErrorIllegalAddress)).find("dy") != std::string::npos);
  }
  SUBCASE("a host workspace") {
    size_t bytes = 0;
    REQUIRE(cudnnGetConvolutionBackwardFilterWorkspaceSize(conv.handle, conv.x, conv.y, conv.conv, conv.w,
                                                           CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1,
                                                           &bytes) == CUDNN_STATUS_SUCCESS);
    REQUIRE(bytes > 0);
    std::vector<char> ws(bytes);
    CHECK(cudnnConvolutionBackwardFilter(conv.handle, &one, conv.x, xd.get(), conv.y, yd.get(), conv.conv,
                                         CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, ws.data(), bytes, &zero, conv.w,
                                         wd.get()) == CUDNN_STATUS_EXECUTION_FAILED);
    CHECK(cudaGetLastError() == cudaErrorIllegalAddress);
  }
  SUBCASE("memory of another device") {
    REQUIRE(cudaSetDevice(1) == cudaSuccess);
    DeviceFloats elsewhere(cs.y_size());
    REQUIRE(cudaSetDevice(0) == cudaSuccess);
    CHECK(cudnnConvolutionForward(conv.handle, &one, conv.x, xd.get(), conv.w, wd.get(), conv.conv,
                                  CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, &zero, conv.y,
                                  elsewhere.get()) == CUDNN_STATUS_EXECUTION_FAILED);
    CHECK(cudaGetLastError() == cudaErrorIllegalAddress);
    CHECK(std::string(cudaGetErrorString(cudaErrorIllegalAddress)).find("device 1") != std::string::npos);
  }
}

TEST_CASE("bias: cudnnAddTensor broadcasts, cudnnConvolutionBackwardBias sums") {
  cudnnHandle_t h;
  REQUIRE(cudnnCreate(&h) == CUDNN_STATUS_SUCCESS);
  cudnnTensorDescriptor_t y, b;
  REQUIRE(cudnnCreateTensorDescriptor(&y) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnCreateTensorDescriptor(&b) == CUDNN_STATUS_SUCCESS);
  const int n = 2, c = 3, hh = 2, ww = 3, size = n * c * hh * ww;
  REQUIRE(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, hh, ww) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnSetTensor4dDescriptor(b, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, c, 1, 1) == CUDNN_STATUS_SUCCESS);
  const std::vector<float> y0 = random_values(size, 61), bias = random_values(c, 62);
  DeviceFloats yd(y0), bd(bias), same(random_values(size, 63));
  const float alpha = 2, beta = 0.5f, zero = 0, one = 1;
  const float nan = std::numeric_limits<float>::quiet_NaN();

  REQUIRE(cudnnAddTensor(h, &alpha, b, bd.get(), &beta, y, yd.get()) == CUDNN_STATUS_SUCCESS);
  std::vector<float> got = yd.download();
  for (int i = 0; i < size; ++i) CHECK(close(got[i], 2.0 * bias[i / (hh * ww) % c] + 0.5 * y0[i], 2.0));

  const std::vector<float> s = same.download();
  yd.upload(std::vector<float>(size, nan));
  REQUIRE(cudnnAddTensor(h, &one, y, same.get(), &zero, y, yd.get()) == CUDNN_STATUS_SUCCESS);
  got = yd.download();
  for (int i = 0; i < size; ++i) CHECK(got[i] == s[i]);

  bd.upload(std::vector<float>(c, nan));
  REQUIRE(cudnnConvolutionBackwardBias(h, &one, y, yd.get(), &zero, b, bd.get()) == CUDNN_STATUS_SUCCESS);
  const std::vector<float> db = bd.download();
  for (int ch = 0; ch < c; ++ch) {
    double sum = 0;
    for (int i = 0; i < size; ++i)
      if (i / (hh * ww) % c == ch) sum += s[i];
    CHECK(close(db[ch], sum, 8.0));
  }

  cudnnTensorDescriptor_t bad;
  REQUIRE(cudnnCreateTensorDescriptor(&bad) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnSetTensor4dDescriptor(bad, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 2, 1, 1) == CUDNN_STATUS_SUCCESS);
  CHECK(cudnnAddTensor(h, &one, bad, bd.get(), &one, y, yd.get()) == CUDNN_STATUS_BAD_PARAM);
  CHECK(cudnnConvolutionBackwardBias(h, &one, y, yd.get(), &zero, bad, bd.get()) == CUDNN_STATUS_BAD_PARAM);
  CHECK(cudnnAddTensor(h, &one, b, bias.data(), &one, y, yd.get()) == CUDNN_STATUS_EXECUTION_FAILED);
  CHECK(cudaGetLastError() == cudaErrorIllegalAddress);

  cudnnDestroyTensorDescriptor(bad);
  cudnnDestroyTensorDescriptor(b);
  cudnnDestroyTensorDescriptor(y);
  cudnnDestroy(h);
}

TEST_CASE("descriptors read back what was set") {
  cudnnTensorDescriptor_t t;
  REQUIRE(cudnnCreateTensorDescriptor(&t) == CUDNN_STATUS_SUCCESS);
  cudnnDataType_t type;
  int n, c, h, w, ns, cs, hs, ws;
  REQUIRE(cudnnSetTensor4dDescriptor(t, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, 2, 3, 4, 5) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnGetTensor4dDescriptor(t, &type, &n, &c, &h, &w, &ns, &cs, &hs, &ws) == CUDNN_STATUS_SUCCESS);
  CHECK((n == 2 && c == 3 && h == 4 && w == 5));
  CHECK((ns == 60 && cs == 1 && hs == 15 && ws == 3));
  REQUIRE(cudnnSetTensor4dDescriptorEx(t, CUDNN_DATA_FLOAT, 2, 3, 4, 5, 100, 30, 6, 1) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnGetTensor4dDescriptor(t, &type, &n, &c, &h, &w, &ns, &cs, &hs, &ws) == CUDNN_STATUS_SUCCESS);
  CHECK((ns == 100 && cs == 30 && hs == 6 && ws == 1));
  cudnnDestroyTensorDescriptor(t);

  cudnnConvolutionDescriptor_t conv;
  REQUIRE(cudnnCreateConvolutionDescriptor(&conv) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnSetConvolution2dDescriptor(conv, 1, 2, 3, 4, 5, 6, CUDNN_CONVOLUTION, CUDNN_DATA_FLOAT) ==
          CUDNN_STATUS_SUCCESS);
  int p[6];
  cudnnConvolutionMode_t mode;
  REQUIRE(cudnnGetConvolution2dDescriptor(conv, &p[0], &p[1], &p[2], &p[3], &p[4], &p[5], &mode, &type) ==
          CUDNN_STATUS_SUCCESS);
  for (int i = 0; i < 6; ++i) CHECK(p[i] == i + 1);
  CHECK(mode == CUDNN_CONVOLUTION);
  cudnnMathType_t math;
  REQUIRE(cudnnSetConvolutionMathType(conv, CUDNN_FMA_MATH) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnGetConvolutionMathType(conv, &math) == CUDNN_STATUS_SUCCESS);
  CHECK(math == CUDNN_FMA_MATH);
  cudnnDestroyConvolutionDescriptor(conv);

  cudnnHandle_t handle;
  REQUIRE(cudnnCreate(&handle) == CUDNN_STATUS_SUCCESS);
  cudaStream_t stream = reinterpret_cast<cudaStream_t>(0x1234), back = nullptr;
  REQUIRE(cudnnSetStream(handle, stream) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnGetStream(handle, &back) == CUDNN_STATUS_SUCCESS);
  CHECK(back == stream);
  cudnnDestroy(handle);
  CHECK(cudnnGetVersion() == CUDNN_VERSION);
  CHECK(std::string(cudnnGetErrorString(CUDNN_STATUS_BAD_PARAM)) == "CUDNN_STATUS_BAD_PARAM");
}

namespace {

// Pooling through an explicitly padded copy of x: padding is -inf for max (never picked) and
// marked for average, whose divisor is the whole window or the unmarked elements.
std::vector<double> padded_pooling(cudnnPoolingMode_t mode, const std::vector<float>& x, int n, int c, int h, int w,
                                   int wh, int ww, int ph, int pw, int sh, int sw, int oh, int ow) {
  const int hp = h + 2 * ph, wp = w + 2 * pw;
  std::vector<double> padded(size_t(n) * c * hp * wp, 0.0);
  std::vector<char> real(padded.size(), 0);
  for (int i = 0; i < n * c; ++i)
    for (int r = 0; r < h; ++r)
      for (int q = 0; q < w; ++q) {
        const size_t at = (size_t(i) * hp + r + ph) * wp + q + pw;
        padded[at] = x[(size_t(i) * h + r) * w + q];
        real[at] = 1;
      }
  std::vector<double> y(size_t(n) * c * oh * ow);
  for (int i = 0; i < n * c; ++i)
    for (int a = 0; a < oh; ++a)
      for (int b = 0; b < ow; ++b) {
        double best = -INFINITY, sum = 0;
        int count = 0;
        for (int r = 0; r < wh; ++r)
          for (int q = 0; q < ww; ++q) {
            const size_t at = (size_t(i) * hp + a * sh + r) * wp + b * sw + q;
            if (real[at]) best = std::max(best, padded[at]), ++count;
            sum += padded[at];
          }
        double v = best;
        if (mode == CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING) v = sum / (wh * ww);
        if (mode == CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING) v = sum / count;
        y[(size_t(i) * oh + a) * ow + b] = v;
      }
  return y;
}

}  // namespace

TEST_CASE("pooling forward matches explicit padding, backward is its adjoint") {
  const int n = 2, c = 3, h = 7, w = 6, wh = 3, ww = 2, ph = 1, pw = 1, sh = 2, sw = 1;
  const int oh = 1 + (h + 2 * ph - wh) / sh, ow = 1 + (w + 2 * pw - ww) / sw;
  cudnnHandle_t handle;
  REQUIRE(cudnnCreate(&handle) == CUDNN_STATUS_SUCCESS);
  cudnnTensorDescriptor_t xd, yd;
  cudnnPoolingDescriptor_t pd;
  REQUIRE(cudnnCreateTensorDescriptor(&xd) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnCreateTensorDescriptor(&yd) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnCreatePoolingDescriptor(&pd) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnSetTensor4dDescriptor(xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnSetTensor4dDescriptor(yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, oh, ow) == CUDNN_STATUS_SUCCESS);
  const std::vector<float> x = random_values(size_t(n) * c * h * w, 71), dy = random_values(size_t(n) * c * oh * ow, 72);
  DeviceFloats x_dev(x), dy_dev(dy), y_dev(dy.size()), dx_dev(x.size());
  const float one = 1, zero = 0;
  const float nan = std::numeric_limits<float>::quiet_NaN();

  for (cudnnPoolingMode_t mode : {CUDNN_POOLING_MAX, CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING,
                                  CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING, CUDNN_POOLING_MAX_DETERMINISTIC}) {
    CAPTURE(mode);
    REQUIRE(cudnnSetPooling2dDescriptor(pd, mode, CUDNN_NOT_PROPAGATE_NAN, wh, ww, ph, pw, sh, sw) ==
            CUDNN_STATUS_SUCCESS);
    int dims[4];
    REQUIRE(cudnnGetPooling2dForwardOutputDim(pd, xd, &dims[0], &dims[1], &dims[2], &dims[3]) == CUDNN_STATUS_SUCCESS);
    CHECK((dims[0] == n && dims[1] == c && dims[2] == oh && dims[3] == ow));
    y_dev.upload(std::vector<float>(dy.size(), nan));
    REQUIRE(cudnnPoolingForward(handle, pd, &one, xd, x_dev.get(), &zero, yd, y_dev.get()) == CUDNN_STATUS_SUCCESS);
    const std::vector<double> want = padded_pooling(mode, x, n, c, h, w, wh, ww, ph, pw, sh, sw, oh, ow);
    const std::vector<float> y = y_dev.download();
    for (size_t i = 0; i < y.size(); ++i) REQUIRE(close(y[i], want[i], 1.0));
    // Both poolings are linear in x given the picked maxima, so <dy, pool(x)> = <dx, x>.
    dx_dev.upload(std::vector<float>(x.size(), nan));
    REQUIRE(cudnnPoolingBackward(handle, pd, &one, yd, y_dev.get(), yd, dy_dev.get(), xd, x_dev.get(), &zero, xd,
                                 dx_dev.get()) == CUDNN_STATUS_SUCCESS);
    const std::vector<float> dx = dx_dev.download();
    CHECK(close(dot(dx, x), dot(dy, y), double(dy.size())));
    if (mode == CUDNN_POOLING_MAX)  // every gradient lands on an element its window picked
      for (size_t i = 0; i < dx.size(); ++i)
        if (dx[i] != 0) CHECK(std::find(y.begin(), y.end(), x[i]) != y.end());
  }

  SUBCASE("alpha and beta") {
    REQUIRE(cudnnSetPooling2dDescriptor(pd, CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING, CUDNN_NOT_PROPAGATE_NAN, wh,
                                        ww, ph, pw, sh, sw) == CUDNN_STATUS_SUCCESS);
    const std::vector<float> y0 = random_values(dy.size(), 73);
    y_dev.upload(y0);
    const float alpha = 3, beta = -1;
    REQUIRE(cudnnPoolingForward(handle, pd, &alpha, xd, x_dev.get(), &beta, yd, y_dev.get()) == CUDNN_STATUS_SUCCESS);
    const std::vector<double> want = padded_pooling(CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING, x, n, c, h, w, wh,
                                                    ww, ph, pw, sh, sw, oh, ow);
    const std::vector<float> y = y_dev.download();
    for (size_t i = 0; i < y.size(); ++i) CHECK(close(y[i], 3 * want[i] - y0[i], 4.0));
  }
  SUBCASE("NaN propagation in max pooling") {
    std::vector<float> with_nan = x;
    with_nan[0] = nan;  // in the first window of the first image and channel only
    DeviceFloats nan_dev(with_nan);
    REQUIRE(cudnnSetPooling2dDescriptor(pd, CUDNN_POOLING_MAX, CUDNN_PROPAGATE_NAN, wh, ww, ph, pw, sh, sw) ==
            CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnPoolingForward(handle, pd, &one, xd, nan_dev.get(), &zero, yd, y_dev.get()) == CUDNN_STATUS_SUCCESS);
    CHECK(std::isnan(y_dev.download()[0]));
    REQUIRE(cudnnSetPooling2dDescriptor(pd, CUDNN_POOLING_MAX, CUDNN_NOT_PROPAGATE_NAN, wh, ww, ph, pw, sh, sw) ==
            CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnPoolingForward(handle, pd, &one, xd, nan_dev.get(), &zero, yd, y_dev.get()) == CUDNN_STATUS_SUCCESS);
    CHECK(!std::isnan(y_dev.download()[0]));
  }
  SUBCASE("errors") {
    REQUIRE(cudnnSetPooling2dDescriptor(pd, CUDNN_POOLING_MAX, CUDNN_NOT_PROPAGATE_NAN, wh, ww, ph, pw, sh, sw) ==
            CUDNN_STATUS_SUCCESS);
    CHECK(cudnnPoolingForward(handle, pd, &one, xd, x_dev.get(), &zero, xd, x_dev.get()) == CUDNN_STATUS_BAD_PARAM);
    CHECK(cudnnSetPooling2dDescriptor(pd, CUDNN_POOLING_MAX, CUDNN_NOT_PROPAGATE_NAN, 0, ww, ph, pw, sh, sw) ==
          CUDNN_STATUS_BAD_PARAM);
    CHECK(cudnnPoolingForward(handle, pd, &one, xd, x.data(), &zero, yd, y_dev.get()) == CUDNN_STATUS_EXECUTION_FAILED);
    CHECK(cudaGetLastError() == cudaErrorIllegalAddress);
  }
  cudnnDestroyPoolingDescriptor(pd);
  cudnnDestroyTensorDescriptor(yd);
  cudnnDestroyTensorDescriptor(xd);
  cudnnDestroy(handle);
}

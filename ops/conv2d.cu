#include <cstdio>
#include <memory>
#include <mutex>
#include <tuple>

#include "core/cuda_context.h"
#include "core/cuda_scratch.h"
#include "ops/conv2d.h"
#include "ops/conv2d_plan.h"

namespace curec::cuda {
namespace {

// Descriptors and chosen algorithms for one (device, shape): built once, because asking cuDNN's
// heuristics on every step costs more host time than the small Caser convolutions themselves.
// Descriptors are destroyed with the plan (an evicted plan still in use lives until its last user).
struct ConvPlan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnConvolutionFwdAlgo_t fwd;
  cudnnConvolutionBwdDataAlgo_t bwd_data;
  cudnnConvolutionBwdFilterAlgo_t bwd_filter;
  size_t fwd_bytes = 0, bwd_data_bytes = 0, bwd_filter_bytes = 0;

  ConvPlan() = default;
  ConvPlan(const ConvPlan&) = delete;
  ConvPlan& operator=(const ConvPlan&) = delete;
  ~ConvPlan() {  // the statuses are of no use to anyone here
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (bias) cudnnDestroyTensorDescriptor(bias);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (x) cudnnDestroyTensorDescriptor(x);
  }
};

// Says once per process and direction that a convolution is not reproducible.
void warn_nondeterministic(int direction, const char* what, const Conv2dShape& s) {
  static std::once_flag once[3];
  std::call_once(once[direction], [&] {
    std::fprintf(stderr,
                 "curec: warning: cuDNN has no deterministic FP32 %s algorithm for conv2d x [%lld, %lld, %lld, %lld], "
                 "weight [%lld, %lld, %lld, %lld]; using a non-deterministic one, so CUDA runs of this model may "
                 "differ in the last bits (said once)\n",
                 what, static_cast<long long>(s.n), static_cast<long long>(s.c), static_cast<long long>(s.h),
                 static_cast<long long>(s.w), static_cast<long long>(s.o), static_cast<long long>(s.c),
                 static_cast<long long>(s.kh), static_cast<long long>(s.kw));
  });
}

// The first (fastest by cuDNN's ranking) algorithm that is deterministic and runs in plain FP32;
// if none is deterministic, the first plain FP32 one, said once (conv_plan::choose); an error
// when no algorithm computes in plain FP32.
template <class Perf>
int pick_algorithm(const Perf* perf, int count, int direction, const char* what, const Conv2dShape& s) {
  conv_plan::Candidate c[16];
  const int n = count < 16 ? count : 16;
  for (int i = 0; i < n; ++i)
    c[i] = {perf[i].status == CUDNN_STATUS_SUCCESS, perf[i].determinism == CUDNN_DETERMINISTIC,
            perf[i].mathType != CUDNN_TENSOR_OP_MATH && perf[i].mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION};
  const conv_plan::Choice choice = conv_plan::choose(c, n);
  CUREC_CHECK(choice.index >= 0, "conv2d: cuDNN offers no plain-FP32 ", what, " algorithm for x [", s.n, ", ", s.c,
              ", ", s.h, ", ", s.w, "], weight [", s.o, ", ", s.c, ", ", s.kh, ", ", s.kw,
              "]; curec needs FP32 (not TF32) convolutions to match the CPU");
  if (!choice.deterministic) warn_nondeterministic(direction, what, s);
  return choice.index;
}

void set_4d(cudnnTensorDescriptor_t d, int64_t n, int64_t c, int64_t h, int64_t w) {
  CUREC_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, static_cast<int>(n),
                                               static_cast<int>(c), static_cast<int>(h), static_cast<int>(w)));
}

std::unique_ptr<ConvPlan> make_plan(const Conv2dShape& s, int device) {
  auto p = std::make_unique<ConvPlan>();
  CUREC_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->x));
  CUREC_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->y));
  CUREC_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->bias));
  CUREC_CUDNN_CHECK(cudnnCreateFilterDescriptor(&p->w));
  CUREC_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p->conv));
  set_4d(p->x, s.n, s.c, s.h, s.w);
  set_4d(p->y, s.n, s.o, s.oh, s.ow);
  set_4d(p->bias, 1, s.o, 1, 1);
  CUREC_CUDNN_CHECK(cudnnSetFilter4dDescriptor(p->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, static_cast<int>(s.o),
                                               static_cast<int>(s.c), static_cast<int>(s.kh),
                                               static_cast<int>(s.kw)));
  // Cross-correlation like the CPU path; FMA math keeps TF32 tensor cores out so both agree in FP32.
  CUREC_CUDNN_CHECK(
      cudnnSetConvolution2dDescriptor(p->conv, 0, 0, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  CUREC_CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv, CUDNN_FMA_MATH));

  cudnnHandle_t h = cudnn(device);
  int got = 0;
  cudnnConvolutionFwdAlgoPerf_t fwd[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  CUREC_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, p->x, p->w, p->conv, p->y,
                                                           CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got, fwd));
  p->fwd = fwd[pick_algorithm(fwd, got, 0, "forward", s)].algo;
  CUREC_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, p->x, p->w, p->conv, p->y, p->fwd, &p->fwd_bytes));

  cudnnConvolutionBwdDataAlgoPerf_t data[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
  CUREC_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p->w, p->y, p->conv, p->x,
                                                                CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got, data));
  p->bwd_data = data[pick_algorithm(data, got, 1, "backward-data", s)].algo;
  CUREC_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(h, p->w, p->y, p->conv, p->x, p->bwd_data,
                                                                 &p->bwd_data_bytes));

  cudnnConvolutionBwdFilterAlgoPerf_t filt[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
  CUREC_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
      h, p->x, p->y, p->conv, p->w, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &got, filt));
  p->bwd_filter = filt[pick_algorithm(filt, got, 2, "backward-filter", s)].algo;
  CUREC_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p->x, p->y, p->conv, p->w, p->bwd_filter,
                                                                   &p->bwd_filter_bytes));
  return p;
}

// Plans by (device, shape), batch size included: a model has a handful of convolution shapes,
// times the batch sizes it meets (training, the last short batch, evaluation). The cache keeps
// the 64 most recently used, so a caller that varies the batch size does not grow it without
// bound. The cache itself is never destroyed (no teardown after cuDNN is gone at exit).
constexpr size_t kPlanCacheCapacity = 64;
using PlanKey = std::tuple<int, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>;

std::shared_ptr<const ConvPlan> plan_for(const Conv2dShape& s, int device) {
  static auto* plans = new conv_plan::LruCache<PlanKey, ConvPlan>(kPlanCacheCapacity);
  return plans->get(PlanKey{device, s.n, s.c, s.h, s.w, s.o, s.kh, s.kw}, [&] { return make_plan(s, device); });
}

const float kOne = 1.0f, kZero = 0.0f;

}  // namespace

void conv2d_forward(const Conv2dShape& s, const float* x, const float* weight, const float* bias, float* y,
                    int device) {
  DeviceGuard guard(device);
  const std::shared_ptr<const ConvPlan> plan = plan_for(s, device);
  const ConvPlan& p = *plan;
  cudnnHandle_t h = cudnn(device);
  Scratch workspace(p.fwd_bytes, device);
  CUREC_CUDNN_CHECK(cudnnConvolutionForward(h, &kOne, p.x, x, p.w, weight, p.conv, p.fwd, workspace.get(),
                                            p.fwd_bytes, &kZero, p.y, y));
  if (bias) CUREC_CUDNN_CHECK(cudnnAddTensor(h, &kOne, p.bias, bias, &kOne, p.y, y));
}

void conv2d_backward_data(const Conv2dShape& s, const float* weight, const float* dy, float* dx, int device) {
  DeviceGuard guard(device);
  const std::shared_ptr<const ConvPlan> plan = plan_for(s, device);
  const ConvPlan& p = *plan;
  Scratch workspace(p.bwd_data_bytes, device);
  CUREC_CUDNN_CHECK(cudnnConvolutionBackwardData(cudnn(device), &kOne, p.w, weight, p.y, dy, p.conv, p.bwd_data,
                                                 workspace.get(), p.bwd_data_bytes, &kZero, p.x, dx));
}

void conv2d_backward_filter(const Conv2dShape& s, const float* x, const float* dy, float* dweight, int device) {
  DeviceGuard guard(device);
  const std::shared_ptr<const ConvPlan> plan = plan_for(s, device);
  const ConvPlan& p = *plan;
  Scratch workspace(p.bwd_filter_bytes, device);
  CUREC_CUDNN_CHECK(cudnnConvolutionBackwardFilter(cudnn(device), &kOne, p.x, x, p.y, dy, p.conv, p.bwd_filter,
                                                   workspace.get(), p.bwd_filter_bytes, &kZero, p.w, dweight));
}

void conv2d_backward_bias(const Conv2dShape& s, const float* dy, float* dbias, int device) {
  DeviceGuard guard(device);
  const std::shared_ptr<const ConvPlan> plan = plan_for(s, device);
  const ConvPlan& p = *plan;
  CUREC_CUDNN_CHECK(cudnnConvolutionBackwardBias(cudnn(device), &kOne, p.y, dy, &kZero, p.bias, dbias));
}

}  // namespace curec::cuda

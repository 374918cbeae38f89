// The cuDNN stand-in's convolution entry points: the argument checks the cuDNN API reference
// documents, the algorithm queries and workspace sizes, then the loops of cudnn_kernels.cpp.
#include <cudnn.h>

#include <algorithm>
#include <chrono>
#include <initializer_list>
#include <string>
#include <utility>

#include "cudnn_internal.h"

namespace curec_emu::dnn {
namespace {

// Float data only: other types are valid descriptors but NOT_SUPPORTED here.
cudnnStatus_t check_type(const char* fn, cudnnDataType_t type) {
  if (type != CUDNN_DATA_FLOAT) return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "only CUDNN_DATA_FLOAT is emulated");
  return CUDNN_STATUS_SUCCESS;
}

// The convolution of x by w under conv, checked as cudnnConvolutionForward's docs list: matching
// data types, x's channels = the filter's channels times the group count, the output channels a
// multiple of it, and the dilated filter no larger than the padded input.
cudnnStatus_t geometry(const char* fn, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                       cudnnConvolutionDescriptor_t conv, Geometry& g) {
  if (!x || !w || !conv) return fail(CUDNN_STATUS_BAD_PARAM, fn, "a NULL descriptor");
  if (!x->set || !w->set || !conv->set) return fail(CUDNN_STATUS_BAD_PARAM, fn, "a descriptor that was never set");
  if (x->type != w->type) return fail(CUDNN_STATUS_BAD_PARAM, fn, "tensor and filter data types differ");
  if (auto s = check_type(fn, x->type)) return s;
  if (conv->compute != CUDNN_DATA_FLOAT)
    return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "FLOAT data needs computeType CUDNN_DATA_FLOAT");
  const Layout& xl = x->layout;
  const Layout& wl = w->layout;
  g = {xl.dim[0], xl.dim[1], xl.dim[2], xl.dim[3], wl.dim[0], wl.dim[1], wl.dim[2], wl.dim[3], conv->groups,
       wl.dim[0] / conv->groups, 0, 0, conv->pad_h, conv->pad_w, conv->stride_h, conv->stride_w,
       conv->dilation_h, conv->dilation_w, conv->mode == CUDNN_CONVOLUTION};
  if (g.c != g.cg * g.groups)
    return fail(CUDNN_STATUS_BAD_PARAM, fn,
                "input channels " + std::to_string(g.c) + " != filter channels " + std::to_string(g.cg) +
                    " x group count " + std::to_string(g.groups));
  if (g.k % g.groups != 0)
    return fail(CUDNN_STATUS_BAD_PARAM, fn, "output channels are not a multiple of the group count");
  const int64_t extent_h = (g.r - 1) * g.dilation_h + 1, extent_w = (g.s - 1) * g.dilation_w + 1;
  if (extent_h > g.h + 2 * g.pad_h || extent_w > g.w + 2 * g.pad_w)
    return fail(CUDNN_STATUS_BAD_PARAM, fn, "the dilated filter is larger than the padded input");
  g.oh = 1 + (g.h + 2 * g.pad_h - extent_h) / g.stride_h;
  g.ow = 1 + (g.w + 2 * g.pad_w - extent_w) / g.stride_w;
  return CUDNN_STATUS_SUCCESS;
}

// y (or dy) must be N x K x OH x OW. The forward docs list a wrong OH/OW as NOT_SUPPORTED, the
// backward ones as BAD_PARAM, so the caller says which.
cudnnStatus_t check_output(const char* fn, const char* name, cudnnTensorDescriptor_t y, const Geometry& g,
                           cudnnStatus_t spatial_mismatch) {
  if (!y) return fail(CUDNN_STATUS_BAD_PARAM, fn, std::string(name) + " is NULL");
  if (!y->set) return fail(CUDNN_STATUS_BAD_PARAM, fn, std::string(name) + " was never set");
  if (y->type != CUDNN_DATA_FLOAT) return fail(CUDNN_STATUS_BAD_PARAM, fn, std::string(name) + "'s data type differs");
  const Layout& l = y->layout;
  const std::string expected = std::to_string(g.n) + " x " + std::to_string(g.k) + " x " + std::to_string(g.oh) +
                               " x " + std::to_string(g.ow);
  const std::string got = std::to_string(l.dim[0]) + " x " + std::to_string(l.dim[1]) + " x " +
                          std::to_string(l.dim[2]) + " x " + std::to_string(l.dim[3]);
  if (l.dim[0] != g.n || l.dim[1] != g.k)
    return fail(CUDNN_STATUS_BAD_PARAM, fn, std::string(name) + " is " + got + ", the convolution gives " + expected);
  if (l.dim[2] != g.oh || l.dim[3] != g.ow)
    return fail(spatial_mismatch, fn, std::string(name) + " is " + got + ", the convolution gives " + expected);
  return CUDNN_STATUS_SUCCESS;
}

// One implemented algorithm of a direction, in the order the heuristics rank them.
struct Algo {
  int id;
  bool deterministic;
  bool staged;  // stages data in a workspace (cudnn_kernels.cpp)
};

// Every direction offers a staged, workspace-using algorithm so callers' workspace plumbing is
// exercised. The backward directions rank a non-deterministic id first, as cuDNN often does, so
// callers that need reproducibility must look at the determinism field.
constexpr Algo kForward[] = {{CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, true, true},
                             {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, true, false}};
constexpr Algo kBackwardData[] = {{CUDNN_CONVOLUTION_BWD_DATA_ALGO_0, false, false},
                                  {CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, true, true}};
constexpr Algo kBackwardFilter[] = {{CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0, false, false},
                                    {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, true, true}};

template <size_t N>
const Algo* find_algo(const Algo (&algos)[N], int id) {
  for (const Algo& a : algos)
    if (a.id == id) return &a;
  return nullptr;
}

size_t workspace_bytes(const Algo& a, const Geometry& g) { return a.staged ? staged_workspace_bytes(g) : 0; }

// The heuristics' answer: the implemented algorithms in rank order, then every other id of the
// direction as NOT_SUPPORTED, at most `requested` entries. Not timed, so time is -1.
template <class Perf, size_t N>
cudnnStatus_t rank(const char* fn, const Algo (&algos)[N], int all, const Geometry& g, cudnnMathType_t math,
                   int requested, int* returned, Perf* perf) {
  if (requested <= 0 || !returned || !perf)
    return fail(CUDNN_STATUS_BAD_PARAM, fn, "requestedAlgoCount <= 0 or a NULL output");
  int out = 0;
  auto put = [&](int id, cudnnStatus_t status, size_t memory, bool deterministic) {
    if (out == requested) return;
    Perf& p = perf[out++];
    p = Perf{};
    p.algo = static_cast<decltype(p.algo)>(id);
    p.status = status;
    p.time = -1.0f;
    p.memory = memory;
    p.determinism = deterministic ? CUDNN_DETERMINISTIC : CUDNN_NON_DETERMINISTIC;
    p.mathType = math;  // "the math type provided to the algorithm"; the loops compute plain FP32 anyway
  };
  for (const Algo& a : algos) put(a.id, CUDNN_STATUS_SUCCESS, workspace_bytes(a, g), a.deterministic);
  for (int id = 0; id < all; ++id)
    if (!find_algo(algos, id)) put(id, CUDNN_STATUS_NOT_SUPPORTED, 0, false);
  *returned = out;
  return CUDNN_STATUS_SUCCESS;
}

// The Find*Ex answer: each implemented algorithm run once on the caller's buffers and timed,
// fastest first; one whose workspace need exceeds what the caller gave reports the allocation
// failure the docs describe. Unimplemented ids follow as NOT_SUPPORTED.
template <class Perf, size_t N, class Run>
cudnnStatus_t find_ex(const char* fn, const Algo (&algos)[N], int all, const Geometry& g, cudnnMathType_t math,
                      int requested, int* returned, Perf* perf, size_t workspace_size, Run run) {
  if (auto s = rank(fn, algos, all, g, math, requested, returned, perf)) return s;
  for (int i = 0; i < *returned; ++i) {
    Perf& p = perf[i];
    if (p.status != CUDNN_STATUS_SUCCESS) continue;
    if (p.memory > workspace_size) {
      p.status = CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED;
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    p.status = run(p.algo);
    if (p.status == CUDNN_STATUS_EXECUTION_FAILED) return p.status;  // a fault: the caller's bug, say so now
    p.time = std::chrono::duration<float, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  std::stable_sort(perf, perf + *returned, [](const Perf& a, const Perf& b) {
    if ((a.status == CUDNN_STATUS_SUCCESS) != (b.status == CUDNN_STATUS_SUCCESS)) return a.status == CUDNN_STATUS_SUCCESS;
    return a.status == CUDNN_STATUS_SUCCESS && a.time < b.time;
  });
  return CUDNN_STATUS_SUCCESS;
}

// The chosen algorithm's workspace: the size given must cover what it asked for, and a workspace
// it needs cannot be NULL.
template <size_t N>
cudnnStatus_t check_algo(const char* fn, const Algo (&algos)[N], int id, const Geometry& g, const void* workspace,
                         size_t workspace_size, const Algo** algo) {
  *algo = find_algo(algos, id);
  if (!*algo) return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "algorithm " + std::to_string(id) + " is not emulated");
  const size_t need = workspace_bytes(**algo, g);
  if (workspace_size < need)
    return fail(CUDNN_STATUS_BAD_PARAM, fn,
                "workSpaceSizeInBytes " + std::to_string(workspace_size) + " is less than the " +
                    std::to_string(need) + " bytes algorithm " + std::to_string(id) + " needs");
  if (need > 0 && !workspace) return fail(CUDNN_STATUS_BAD_PARAM, fn, "workSpace is NULL");
  return CUDNN_STATUS_SUCCESS;
}

// What Get*WorkspaceSize answers: the bytes algorithm `id` needs, NOT_SUPPORTED for one not emulated.
template <size_t N>
cudnnStatus_t workspace_size(const char* fn, const Algo (&algos)[N], int id, const Geometry& g, size_t* bytes) {
  if (!bytes) return fail(CUDNN_STATUS_BAD_PARAM, fn, "sizeInBytes is NULL");
  const Algo* a = find_algo(algos, id);
  if (!a) return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "algorithm " + std::to_string(id) + " is not emulated");
  *bytes = workspace_bytes(*a, g);
  return CUDNN_STATUS_SUCCESS;
}

// Every data operand must be device memory of the handle's device over its whole span.
bool device_operands(cudnnHandle_t h, const char* fn, std::initializer_list<std::pair<const char*, Operand>> ops,
                     const void* workspace, size_t workspace_size) {
  for (const auto& [name, op] : ops)
    if (!device_operand(h, fn, name, op.data, op.layout.span_bytes())) return false;
  return !workspace || workspace_size == 0 || device_operand(h, fn, "workSpace", workspace, workspace_size);
}

Operand operand(const void* p, const Layout& l) { return {static_cast<const float*>(p), l}; }

}  // namespace
}  // namespace curec_emu::dnn

using namespace curec_emu::dnn;

extern "C" {

cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(const cudnnConvolutionDescriptor_t conv,
                                                    const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w,
                                                    int* n, int* c, int* h, int* wo) {
  const char* fn = "cudnnGetConvolution2dForwardOutputDim";
  if (!n || !c || !h || !wo) return fail(CUDNN_STATUS_BAD_PARAM, fn, "a NULL output");
  Geometry g;
  if (auto s = geometry(fn, x, w, conv, g)) return s;
  *n = static_cast<int>(g.n);
  *c = static_cast<int>(g.k);
  *h = static_cast<int>(g.oh);
  *wo = static_cast<int>(g.ow);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionForwardAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  if (!handle || !count) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnGetConvolutionForwardAlgorithmMaxCount", "NULL");
  *count = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  if (!handle || !count) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnGetConvolutionBackwardDataAlgorithmMaxCount", "NULL");
  *count = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  if (!handle || !count)
    return fail(CUDNN_STATUS_BAD_PARAM, "cudnnGetConvolutionBackwardFilterAlgorithmMaxCount", "NULL");
  *count = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  return CUDNN_STATUS_SUCCESS;
}

// ---- forward ----

// The shared checks of every forward entry point; g is the geometry when they pass.
static cudnnStatus_t forward_checks(const char* fn, cudnnHandle_t handle, cudnnTensorDescriptor_t x,
                                    cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t conv,
                                    cudnnTensorDescriptor_t y, Geometry& g) {
  if (!handle) return fail(CUDNN_STATUS_BAD_PARAM, fn, "handle is NULL");
  if (auto s = geometry(fn, x, w, conv, g)) return s;
  return check_output(fn, "yDesc", y, g, CUDNN_STATUS_NOT_SUPPORTED);
}

cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t handle, const cudnnTensorDescriptor_t x,
                                                     const cudnnFilterDescriptor_t w,
                                                     const cudnnConvolutionDescriptor_t conv,
                                                     const cudnnTensorDescriptor_t y, const int requested,
                                                     int* returned, cudnnConvolutionFwdAlgoPerf_t* perf) {
  const char* fn = "cudnnGetConvolutionForwardAlgorithm_v7";
  Geometry g;
  if (auto s = forward_checks(fn, handle, x, w, conv, y, g)) return s;
  return rank(fn, kForward, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, g, conv->math, requested, returned, perf);
}

cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t handle, const cudnnTensorDescriptor_t x,
                                                      const cudnnFilterDescriptor_t w,
                                                      const cudnnConvolutionDescriptor_t conv,
                                                      const cudnnTensorDescriptor_t y, cudnnConvolutionFwdAlgo_t algo,
                                                      size_t* bytes) {
  const char* fn = "cudnnGetConvolutionForwardWorkspaceSize";
  Geometry g;
  if (auto s = forward_checks(fn, handle, x, w, conv, y, g)) return s;
  return workspace_size(fn, kForward, algo, g, bytes);
}

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t handle, const void* alpha, const cudnnTensorDescriptor_t x_desc,
                                      const void* x, const cudnnFilterDescriptor_t w_desc, const void* w,
                                      const cudnnConvolutionDescriptor_t conv, cudnnConvolutionFwdAlgo_t algo,
                                      void* workspace, size_t workspace_size, const void* beta,
                                      const cudnnTensorDescriptor_t y_desc, void* y) {
  const char* fn = "cudnnConvolutionForward";
  Geometry g;
  if (auto s = forward_checks(fn, handle, x_desc, w_desc, conv, y_desc, g)) return s;
  if (!alpha || !beta || !x || !w || !y) return fail(CUDNN_STATUS_BAD_PARAM, fn, "a NULL data or scaling pointer");
  if (!host_scalars(fn, alpha, beta)) return fail(CUDNN_STATUS_BAD_PARAM, fn, "alpha or beta in device memory");
  const Algo* a;
  if (auto s = check_algo(fn, kForward, algo, g, workspace, workspace_size, &a)) return s;
  const Operand xo = operand(x, x_desc->layout), wo = operand(w, w_desc->layout), yo = operand(y, y_desc->layout);
  if (!device_operands(handle, fn, {{"x", xo}, {"w", wo}, {"y", yo}}, workspace, workspace_size))
    return CUDNN_STATUS_EXECUTION_FAILED;
  convolve_forward(g, a->staged, {scalar(alpha), scalar(beta)}, xo, wo, workspace, {static_cast<float*>(y), yo.layout});
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnFindConvolutionForwardAlgorithmEx(cudnnHandle_t handle, const cudnnTensorDescriptor_t x_desc,
                                                     const void* x, const cudnnFilterDescriptor_t w_desc,
                                                     const void* w, const cudnnConvolutionDescriptor_t conv,
                                                     const cudnnTensorDescriptor_t y_desc, void* y,
                                                     const int requested, int* returned,
                                                     cudnnConvolutionFwdAlgoPerf_t* perf, void* workspace,
                                                     size_t workspace_size) {
  const char* fn = "cudnnFindConvolutionForwardAlgorithmEx";
  Geometry g;
  if (auto s = forward_checks(fn, handle, x_desc, w_desc, conv, y_desc, g)) return s;
  const float one = 1, zero = 0;
  return find_ex(fn, kForward, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, g, conv->math, requested, returned, perf,
                 workspace_size, [&](cudnnConvolutionFwdAlgo_t algo) {
                   return cudnnConvolutionForward(handle, &one, x_desc, x, w_desc, w, conv, algo, workspace,
                                                  workspace_size, &zero, y_desc, y);
                 });
}

// ---- backward data ----

static cudnnStatus_t backward_data_checks(const char* fn, cudnnHandle_t handle, cudnnFilterDescriptor_t w,
                                          cudnnTensorDescriptor_t dy, cudnnConvolutionDescriptor_t conv,
                                          cudnnTensorDescriptor_t dx, Geometry& g) {
  if (!handle) return fail(CUDNN_STATUS_BAD_PARAM, fn, "handle is NULL");
  if (auto s = geometry(fn, dx, w, conv, g)) return s;
  return check_output(fn, "dyDesc", dy, g, CUDNN_STATUS_BAD_PARAM);
}

cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnnHandle_t handle, const cudnnFilterDescriptor_t w,
                                                          const cudnnTensorDescriptor_t dy,
                                                          const cudnnConvolutionDescriptor_t conv,
                                                          const cudnnTensorDescriptor_t dx, const int requested,
                                                          int* returned, cudnnConvolutionBwdDataAlgoPerf_t* perf) {
  const char* fn = "cudnnGetConvolutionBackwardDataAlgorithm_v7";
  Geometry g;
  if (auto s = backward_data_checks(fn, handle, w, dy, conv, dx, g)) return s;
  return rank(fn, kBackwardData, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, g, conv->math, requested, returned, perf);
}

cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(cudnnHandle_t handle, const cudnnFilterDescriptor_t w,
                                                           const cudnnTensorDescriptor_t dy,
                                                           const cudnnConvolutionDescriptor_t conv,
                                                           const cudnnTensorDescriptor_t dx,
                                                           cudnnConvolutionBwdDataAlgo_t algo, size_t* bytes) {
  const char* fn = "cudnnGetConvolutionBackwardDataWorkspaceSize";
  Geometry g;
  if (auto s = backward_data_checks(fn, handle, w, dy, conv, dx, g)) return s;
  return workspace_size(fn, kBackwardData, algo, g, bytes);
}

cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t handle, const void* alpha, const cudnnFilterDescriptor_t w_desc,
                                           const void* w, const cudnnTensorDescriptor_t dy_desc, const void* dy,
                                           const cudnnConvolutionDescriptor_t conv, cudnnConvolutionBwdDataAlgo_t algo,
                                           void* workspace, size_t workspace_size, const void* beta,
                                           const cudnnTensorDescriptor_t dx_desc, void* dx) {
  const char* fn = "cudnnConvolutionBackwardData";
  Geometry g;
  if (auto s = backward_data_checks(fn, handle, w_desc, dy_desc, conv, dx_desc, g)) return s;
  if (!alpha || !beta || !w || !dy || !dx) return fail(CUDNN_STATUS_BAD_PARAM, fn, "a NULL data or scaling pointer");
  if (!host_scalars(fn, alpha, beta)) return fail(CUDNN_STATUS_BAD_PARAM, fn, "alpha or beta in device memory");
  const Algo* a;
  if (auto s = check_algo(fn, kBackwardData, algo, g, workspace, workspace_size, &a)) return s;
  const Operand wo = operand(w, w_desc->layout), dyo = operand(dy, dy_desc->layout), dxo = operand(dx, dx_desc->layout);
  if (!device_operands(handle, fn, {{"w", wo}, {"dy", dyo}, {"dx", dxo}}, workspace, workspace_size))
    return CUDNN_STATUS_EXECUTION_FAILED;
  convolve_backward_data(g, a->staged, {scalar(alpha), scalar(beta)}, wo, dyo, workspace,
                         {static_cast<float*>(dx), dxo.layout});
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithmEx(cudnnHandle_t handle, const cudnnFilterDescriptor_t w_desc,
                                                          const void* w, const cudnnTensorDescriptor_t dy_desc,
                                                          const void* dy, const cudnnConvolutionDescriptor_t conv,
                                                          const cudnnTensorDescriptor_t dx_desc, void* dx,
                                                          const int requested, int* returned,
                                                          cudnnConvolutionBwdDataAlgoPerf_t* perf, void* workspace,
                                                          size_t workspace_size) {
  const char* fn = "cudnnFindConvolutionBackwardDataAlgorithmEx";
  Geometry g;
  if (auto s = backward_data_checks(fn, handle, w_desc, dy_desc, conv, dx_desc, g)) return s;
  const float one = 1, zero = 0;
  return find_ex(fn, kBackwardData, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, g, conv->math, requested, returned, perf,
                 workspace_size, [&](cudnnConvolutionBwdDataAlgo_t algo) {
                   return cudnnConvolutionBackwardData(handle, &one, w_desc, w, dy_desc, dy, conv, algo, workspace,
                                                       workspace_size, &zero, dx_desc, dx);
                 });
}

// ---- backward filter ----

static cudnnStatus_t backward_filter_checks(const char* fn, cudnnHandle_t handle, cudnnTensorDescriptor_t x,
                                            cudnnTensorDescriptor_t dy, cudnnConvolutionDescriptor_t conv,
                                            cudnnFilterDescriptor_t dw, Geometry& g) {
  if (!handle) return fail(CUDNN_STATUS_BAD_PARAM, fn, "handle is NULL");
  if (auto s = geometry(fn, x, dw, conv, g)) return s;
  return check_output(fn, "dyDesc", dy, g, CUDNN_STATUS_BAD_PARAM);
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnnHandle_t handle, const cudnnTensorDescriptor_t x,
                                                            const cudnnTensorDescriptor_t dy,
                                                            const cudnnConvolutionDescriptor_t conv,
                                                            const cudnnFilterDescriptor_t dw, const int requested,
                                                            int* returned, cudnnConvolutionBwdFilterAlgoPerf_t* perf) {
  const char* fn = "cudnnGetConvolutionBackwardFilterAlgorithm_v7";
  Geometry g;
  if (auto s = backward_filter_checks(fn, handle, x, dy, conv, dw, g)) return s;
  return rank(fn, kBackwardFilter, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, g, conv->math, requested, returned, perf);
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnnHandle_t handle, const cudnnTensorDescriptor_t x,
                                                             const cudnnTensorDescriptor_t dy,
                                                             const cudnnConvolutionDescriptor_t conv,
                                                             const cudnnFilterDescriptor_t dw,
                                                             cudnnConvolutionBwdFilterAlgo_t algo, size_t* bytes) {
  const char* fn = "cudnnGetConvolutionBackwardFilterWorkspaceSize";
  Geometry g;
  if (auto s = backward_filter_checks(fn, handle, x, dy, conv, dw, g)) return s;
  return workspace_size(fn, kBackwardFilter, algo, g, bytes);
}

cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t handle, const void* alpha,
                                             const cudnnTensorDescriptor_t x_desc, const void* x,
                                             const cudnnTensorDescriptor_t dy_desc, const void* dy,
                                             const cudnnConvolutionDescriptor_t conv,
                                             cudnnConvolutionBwdFilterAlgo_t algo, void* workspace,
                                             size_t workspace_size, const void* beta,
                                             const cudnnFilterDescriptor_t dw_desc, void* dw) {
  const char* fn = "cudnnConvolutionBackwardFilter";
  Geometry g;
  if (auto s = backward_filter_checks(fn, handle, x_desc, dy_desc, conv, dw_desc, g)) return s;
  if (!alpha || !beta || !x || !dy || !dw) return fail(CUDNN_STATUS_BAD_PARAM, fn, "a NULL data or scaling pointer");
  if (!host_scalars(fn, alpha, beta)) return fail(CUDNN_STATUS_BAD_PARAM, fn, "alpha or beta in device memory");
  const Algo* a;
  if (auto s = check_algo(fn, kBackwardFilter, algo, g, workspace, workspace_size, &a)) return s;
  const Operand xo = operand(x, x_desc->layout), dyo = operand(dy, dy_desc->layout), dwo = operand(dw, dw_desc->layout);
  if (!device_operands(handle, fn, {{"x", xo}, {"dy", dyo}, {"dw", dwo}}, workspace, workspace_size))
    return CUDNN_STATUS_EXECUTION_FAILED;
  convolve_backward_filter(g, a->staged, {scalar(alpha), scalar(beta)}, xo, dyo, workspace,
                           {static_cast<float*>(dw), dwo.layout});
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithmEx(cudnnHandle_t handle, const cudnnTensorDescriptor_t x_desc,
                                                            const void* x, const cudnnTensorDescriptor_t dy_desc,
                                                            const void* dy, const cudnnConvolutionDescriptor_t conv,
                                                            const cudnnFilterDescriptor_t dw_desc, void* dw,
                                                            const int requested, int* returned,
                                                            cudnnConvolutionBwdFilterAlgoPerf_t* perf, void* workspace,
                                                            size_t workspace_size) {
  const char* fn = "cudnnFindConvolutionBackwardFilterAlgorithmEx";
  Geometry g;
  if (auto s = backward_filter_checks(fn, handle, x_desc, dy_desc, conv, dw_desc, g)) return s;
  const float one = 1, zero = 0;
  return find_ex(fn, kBackwardFilter, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, g, conv->math, requested, returned,
                 perf, workspace_size, [&](cudnnConvolutionBwdFilterAlgo_t algo) {
                   return cudnnConvolutionBackwardFilter(handle, &one, x_desc, x, dy_desc, dy, conv, algo, workspace,
                                                         workspace_size, &zero, dw_desc, dw);
                 });
}

}  // extern "C"

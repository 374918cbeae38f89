#pragma once
// Tensor: a shape, a dtype and a device over shared, contiguous, row-major storage.
// Copying a Tensor copies a handle; views (reshape, row slices) share storage.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"

namespace curec {

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);

struct Storage {
  void* ptr = nullptr;
  size_t bytes = 0;
  Device device;
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

class Node;
struct TensorImpl;
// What backward tells an observer as it runs (see run_backward): data parallelism starts a
// bucket's all-reduce as soon as backward has completed its gradients.
struct BackwardObserver {
  // Once, before any gradient is computed: every leaf the graph reaches (the others will get no
  // gradient from this backward).
  std::function<void(const std::vector<const TensorImpl*>& leaves)> on_graph;
  // Each of those leaves, once, as soon as its gradient is complete.
  std::function<void(const TensorImpl& leaf)> on_leaf_ready;
  bool empty() const { return !on_graph && !on_leaf_ready; }
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // --- factories
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, Device device = Device::cpu());
  static Tensor full(const Shape& shape, float value, Device device = Device::cpu());
  static Tensor scalar(float value, Device device = Device::cpu());
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device = Device::cpu());
  template <class T>
  static Tensor from_vector(const std::vector<T>& values) {
    return from_vector(values, Shape{static_cast<int64_t>(values.size())});
  }
  static Tensor arange(int64_t n, DType dtype = DType::i64, Device device = Device::cpu());

  // --- metadata
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const;
  DType dtype() const;
  Device device() const;
  bool is_cuda() const { return device().is_cuda(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype()); }
  std::string str() const;  // "f32[512, 30] on cuda:0"

  // --- data
  void* raw_data() const;
  template <class T>
  T* data() const;
  const std::shared_ptr<Storage>& storage() const;

  Tensor to(Device device) const;      // copy unless already there
  Tensor cpu() const { return to(Device::cpu()); }
  Tensor clone() const;                // deep copy, same device, no autograd history
  void copy_from(const Tensor& src);   // same shape/dtype, any devices
  template <class T>
  std::vector<T> to_vector() const;    // copies to host (synchronises a CUDA tensor)
  float item() const;                  // single-element f32 tensor -> float

  // --- views without autograd (ops/shape.h has the differentiable ones)
  Tensor view(const Shape& shape) const;
  Tensor rows(int64_t start, int64_t count) const;  // slice along dim 0

  // --- in place (no autograd)
  Tensor& fill_(float value);
  Tensor& zero_();

  // --- autograd
  bool requires_grad() const;
  Tensor& set_requires_grad(bool on = true);
  const Tensor& grad() const;           // dense gradient; undefined if none
  void set_grad(const Tensor& g) const;
  bool has_sparse_grad() const;
  const Tensor& sparse_grad_indices() const;  // i64 [n]: rows that received gradient
  const Tensor& sparse_grad_rows() const;     // f32 [n, ...]: their gradients (may repeat)
  void set_sparse_grad(const Tensor& indices, const Tensor& rows) const;
  void zero_grad() const;                   // drops dense and sparse gradients
  const std::shared_ptr<Node>& grad_fn() const;
  void set_grad_fn(std::shared_ptr<Node> fn);
  bool is_leaf() const { return !grad_fn(); }
  Tensor detach() const;                // same storage, no history
  // Backpropagates from this tensor; a non-scalar needs the gradient of the output.
  // observer: see run_backward (core/autograd.h).
  void backward(const Tensor& grad_output = Tensor(), const BackwardObserver& observer = {}) const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  void require_defined(const char* what) const;
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  size_t offset = 0;  // bytes
  Shape shape;
  DType dtype = DType::f32;
  bool requires_grad = false;
  Tensor grad;
  Tensor sparse_indices, sparse_rows;
  std::shared_ptr<Node> grad_fn;
};

// Checks used by every op; each error names the op and the offending shapes.
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
void check_dtype(const char* op, const Tensor& t, DType expected, const char* arg);
void check_defined(const char* op, const Tensor& t, const char* arg);

}  // namespace curec

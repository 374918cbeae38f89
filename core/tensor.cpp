#include "core/tensor.h"

#include <sstream>

#include "core/allocator.h"
#include "core/autograd.h"
#include "core/checked.h"
#include "core/out_of_memory.h"
#include "core/tensor_kernels.h"

namespace curec {

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    CUREC_CHECK(d >= 0, "negative dimension in shape ", shape_str(s));
    n = checked_mul(n, d, [&] { return "element count of shape " + shape_str(s); });
  }
  return n;
}

Storage::Storage(size_t bytes_, Device device_) : ptr(allocate_bytes(bytes_, device_)), bytes(bytes_), device(device_) {}
Storage::~Storage() { free_bytes(ptr, bytes, device); }

// ---------------------------------------------------------------- factories
Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  auto impl = std::make_shared<TensorImpl>();
  const int64_t bytes = checked_mul(shape_numel(shape), static_cast<int64_t>(dtype_size(dtype)), [&] {
    return "bytes of a " + dtype_name(dtype) + " tensor of shape " + shape_str(shape);
  });
  try {
    impl->storage = std::make_shared<Storage>(static_cast<size_t>(bytes), device);
  } catch (const OutOfMemory& e) {
    throw e.needed_for("a " + dtype_name(dtype) + " tensor of shape " + shape_str(shape));
  }
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.zero_();
  return t;
}

Tensor Tensor::ones(const Shape& shape, Device device) { return full(shape, 1.0f, device); }

Tensor Tensor::full(const Shape& shape, float value, Device device) {
  Tensor t = empty(shape, DType::f32, device);
  t.fill_(value);
  return t;
}

Tensor Tensor::scalar(float value, Device device) { return full(Shape{}, value, device); }

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  CUREC_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
              " values do not fill shape ", shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>::value, device);
  copy_bytes(t.raw_data(), device, values.data(), Device::cpu(), values.size() * sizeof(T));
  return t;
}
template Tensor Tensor::from_vector(const std::vector<float>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<int32_t>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<int64_t>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<uint8_t>&, const Shape&, Device);

Tensor Tensor::arange(int64_t n, DType dtype, Device device) {
  Tensor t = empty({n}, dtype, device);
  if (dtype == DType::i64) fill_i64_iota(t.data<int64_t>(), n, device);
  else if (dtype == DType::i32) fill_i32_iota(t.data<int32_t>(), n, device);
  else CUREC_FAIL("arange: dtype ", dtype_name(dtype), " not supported; use i32 or i64");
  return t;
}

// ---------------------------------------------------------------- metadata
void Tensor::require_defined(const char* what) const {
  CUREC_CHECK(impl_, what, " on an undefined tensor");
}
const Shape& Tensor::shape() const { require_defined("shape()"); return impl_->shape; }
int64_t Tensor::size(int64_t d) const {
  int64_t n = dim();
  if (d < 0) d += n;
  CUREC_CHECK(d >= 0 && d < n, "dimension ", d, " out of range for shape ", shape_str(shape()));
  return impl_->shape[d];
}
int64_t Tensor::numel() const { return shape_numel(shape()); }
DType Tensor::dtype() const { require_defined("dtype()"); return impl_->dtype; }
Device Tensor::device() const { require_defined("device()"); return impl_->storage->device; }
std::string Tensor::str() const {
  if (!impl_) return "undefined";
  return dtype_name(dtype()) + shape_str(shape()) + " on " + device().str();
}

void* Tensor::raw_data() const {
  require_defined("data()");
  return static_cast<char*>(impl_->storage->ptr) + impl_->offset;
}

template <class T>
T* Tensor::data() const {
  require_defined("data()");
  CUREC_CHECK(impl_->dtype == dtype_of<T>::value, "data<", dtype_name(dtype_of<T>::value), ">() on a tensor of dtype ",
              dtype_name(impl_->dtype));
  return static_cast<T*>(raw_data());
}
template float* Tensor::data<float>() const;
template int32_t* Tensor::data<int32_t>() const;
template int64_t* Tensor::data<int64_t>() const;
template uint8_t* Tensor::data<uint8_t>() const;

const std::shared_ptr<Storage>& Tensor::storage() const { require_defined("storage()"); return impl_->storage; }

Tensor Tensor::to(Device d) const {
  if (device() == d) return *this;
  Tensor t = empty(shape(), dtype(), d);
  t.copy_from(*this);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape(), dtype(), device());
  t.copy_from(*this);
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  CUREC_CHECK(shape() == src.shape() && dtype() == src.dtype(), "copy_from: ", src.str(), " into ", str(),
              " needs equal shape and dtype");
  copy_bytes(raw_data(), device(), src.raw_data(), src.device(), nbytes());
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  CUREC_CHECK(dtype() == dtype_of<T>::value, "to_vector<", dtype_name(dtype_of<T>::value), "> on ", str());
  std::vector<T> v(static_cast<size_t>(numel()));
  copy_bytes(v.data(), Device::cpu(), raw_data(), device(), nbytes());
  return v;
}
template std::vector<float> Tensor::to_vector() const;
template std::vector<int32_t> Tensor::to_vector() const;
template std::vector<int64_t> Tensor::to_vector() const;
template std::vector<uint8_t> Tensor::to_vector() const;

float Tensor::item() const {
  CUREC_CHECK(numel() == 1, "item() needs a single-element tensor, got ", str());
  return to_vector<float>()[0];
}

Tensor Tensor::view(const Shape& new_shape) const {
  CUREC_CHECK(shape_numel(new_shape) == numel(), "cannot view ", str(), " as ", shape_str(new_shape),
              ": element counts differ");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->offset = impl_->offset;
  impl->shape = new_shape;
  impl->dtype = impl_->dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::rows(int64_t start, int64_t count) const {
  CUREC_CHECK(dim() >= 1 && start >= 0 && count >= 0 && start <= size(0) && count <= size(0) - start, "rows(",
              start, ", ", count, ") out of range for ", str());
  Shape s = shape();
  int64_t row_bytes = s[0] ? static_cast<int64_t>(nbytes()) / s[0] : 0;
  s[0] = count;
  Tensor t = view(shape());
  t.impl_->shape = s;
  t.impl_->offset += static_cast<size_t>(start * row_bytes);
  return t;
}

Tensor& Tensor::fill_(float value) {
  CUREC_CHECK(dtype() == DType::f32 || value == 0.0f, "fill_(", value, ") needs an f32 tensor, got ", str());
  if (dtype() == DType::f32) fill_f32(data<float>(), numel(), value, device());
  else zero_();
  return *this;
}

Tensor& Tensor::zero_() {
  // All-zero bytes are 0 in every dtype: one memset, on the device's stream (no host copy).
  zero_bytes(raw_data(), nbytes(), device());
  return *this;
}

// ---------------------------------------------------------------- autograd state
bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad; }
Tensor& Tensor::set_requires_grad(bool on) {
  require_defined("set_requires_grad()");
  CUREC_CHECK(!on || dtype() == DType::f32, "only f32 tensors can require gradients, got ", str());
  impl_->requires_grad = on;
  return *this;
}
const Tensor& Tensor::grad() const { require_defined("grad()"); return impl_->grad; }
void Tensor::set_grad(const Tensor& g) const { require_defined("set_grad()"); impl_->grad = g; }
bool Tensor::has_sparse_grad() const { return impl_ && impl_->sparse_indices.defined(); }
const Tensor& Tensor::sparse_grad_indices() const { return impl_->sparse_indices; }
const Tensor& Tensor::sparse_grad_rows() const { return impl_->sparse_rows; }
void Tensor::set_sparse_grad(const Tensor& indices, const Tensor& rows) const {
  impl_->sparse_indices = indices;
  impl_->sparse_rows = rows;
}
void Tensor::zero_grad() const {
  if (!impl_) return;
  impl_->grad = Tensor();
  impl_->sparse_indices = Tensor();
  impl_->sparse_rows = Tensor();
}
const std::shared_ptr<Node>& Tensor::grad_fn() const { require_defined("grad_fn()"); return impl_->grad_fn; }
void Tensor::set_grad_fn(std::shared_ptr<Node> fn) {
  impl_->grad_fn = std::move(fn);
  if (impl_->grad_fn) impl_->requires_grad = true;
}

Tensor Tensor::detach() const {
  Tensor t = view(shape());
  return t;
}

void Tensor::backward(const Tensor& grad_output, const BackwardObserver& observer) const {
  run_backward(*this, grad_output, observer);
}

// ---------------------------------------------------------------- checks
void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  CUREC_CHECK(a.device() == b.device(), op, ": inputs on different devices (", a.str(), " and ", b.str(),
              "); move them with .to(device)");
}
void check_dtype(const char* op, const Tensor& t, DType expected, const char* arg) {
  CUREC_CHECK(t.dtype() == expected, op, ": ", arg, " must be ", dtype_name(expected), ", got ", t.str());
}
void check_defined(const char* op, const Tensor& t, const char* arg) {
  CUREC_CHECK(t.defined(), op, ": ", arg, " is an undefined tensor");
}

}  // namespace curec

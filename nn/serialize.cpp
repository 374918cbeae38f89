#include "nn/serialize.h"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/atomic_file.h"

namespace curec::nn {
namespace {

constexpr char kMagic[8] = {'C', 'U', 'R', 'E', 'C', 'S', 'D', '\0'};
constexpr int kMaxDims = 16;

// Streams bytes to the file being written while hashing them; every failure is an Error
// naming the file, and leaves the previous file intact.
class Writer {
 public:
  explicit Writer(const std::string& path) : file_(path, "save_state") {}
  void bytes(const void* p, size_t n) {
    if (!n) return;
    hash_ = fnv1a64(p, n, hash_);
    file_.write(p, n);
  }
  template <class T>
  void le(T v) {
    unsigned char b[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<unsigned char>(static_cast<uint64_t>(v) >> (8 * i));
    bytes(b, sizeof(T));
  }
  void str(const std::string& s) {
    CUREC_CHECK(s.size() <= UINT32_MAX, "save_state: string of ", s.size(), " bytes is too long");
    le<uint32_t>(static_cast<uint32_t>(s.size()));
    bytes(s.data(), s.size());
  }
  uint64_t hash() const { return hash_; }
  // Flushes to stable storage and renames the file into place.
  void finish() { file_.commit(); }

 private:
  AtomicFile file_;
  uint64_t hash_ = kFnvOffset;
};

// Bounds-checked reads from a file held in memory: a length field never makes it read past
// the end or allocate more than the file holds.
class Reader {
 public:
  Reader(const std::string& path, std::vector<unsigned char> data) : path_(path), data_(std::move(data)) {}
  [[noreturn]] void fail(const std::string& what) const { CUREC_FAIL("load_state: ", path_, ": ", what); }
  void need(uint64_t n, const char* what) const {
    if (n > data_.size() - pos_)
      fail("truncated or corrupted: " + std::string(what) + " needs " + std::to_string(n) + " bytes at offset " +
           std::to_string(pos_) + " but the file has " + std::to_string(data_.size()) + " bytes");
  }
  const unsigned char* take(uint64_t n, const char* what) {
    need(n, what);
    const unsigned char* p = data_.data() + pos_;
    pos_ += n;
    return p;
  }
  template <class T>
  T le(const char* what) {
    const unsigned char* p = take(sizeof(T), what);
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return static_cast<T>(v);
  }
  std::string str(const char* what) {
    uint32_t n = le<uint32_t>(what);
    const unsigned char* p = take(n, what);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  size_t pos() const { return pos_; }
  size_t size() const { return data_.size(); }
  const unsigned char* data() const { return data_.data(); }

 private:
  std::string path_;
  std::vector<unsigned char> data_;
  size_t pos_ = 0;
};

// Weights that are NaN or infinite would load and predict NaN: refuse them by name.
void check_finite(const Reader& r, const std::string& name, const Tensor& t) {
  const float* p = t.data<float>();
  for (int64_t i = 0, n = t.numel(); i < n; ++i)
    if (!std::isfinite(p[i]))
      r.fail("tensor \"" + name + "\" " + t.str() + " holds a non-finite value (" + std::to_string(p[i]) +
             ") at element " + std::to_string(i) + "; the model diverged before it was saved, or the file was "
             "altered: train it again (with a smaller learning rate)");
}

std::vector<unsigned char> read_file(const std::string& path) {
  // Opening a FIFO would block until a writer appears; a directory reads as an I/O error.
  struct stat st {};
  CUREC_CHECK(::stat(path.c_str(), &st) == 0, "load_state: cannot open ", path, ": ", std::strerror(errno));
  CUREC_CHECK(S_ISREG(st.st_mode), "load_state: ", path, " is ",
              S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)" : "not a regular file",
              ", not a state file; give the path of a file written by save_state");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  CUREC_CHECK(f, "load_state: cannot open ", path, ": ", std::strerror(errno));
  std::vector<unsigned char> data;
  unsigned char buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof(buf), f)) > 0) data.insert(data.end(), buf, buf + got);
  bool err = std::ferror(f);
  std::fclose(f);
  CUREC_CHECK(!err, "load_state: reading ", path, " failed");
  return data;
}

}  // namespace

uint64_t fnv1a64(const void* bytes, size_t n, uint64_t hash) {
  const auto* p = static_cast<const unsigned char*>(bytes);
  for (size_t i = 0; i < n; ++i) {
    hash ^= p[i];
    hash *= 1099511628211ull;
  }
  return hash;
}

void save_state(const std::string& path, const StateDict& tensors, const std::map<std::string, std::string>& meta) {
  Writer w(path);
  w.bytes(kMagic, sizeof(kMagic));
  w.le<uint32_t>(kStateFormatVersion);
  w.le<uint32_t>(static_cast<uint32_t>(meta.size()));
  for (const auto& [k, v] : meta) {
    w.str(k);
    w.str(v);
  }
  w.le<uint32_t>(static_cast<uint32_t>(tensors.size()));
  for (const auto& [name, t] : tensors) {
    CUREC_CHECK(t.defined(), "save_state: tensor \"", name, "\" is undefined");
    CUREC_CHECK(t.dim() <= kMaxDims, "save_state: tensor \"", name, "\" has ", t.dim(), " dims; at most ", kMaxDims);
    w.str(name);
    w.le<uint8_t>(static_cast<uint8_t>(t.dtype()));
    w.le<uint8_t>(static_cast<uint8_t>(t.dim()));
    for (int64_t d : t.shape()) w.le<int64_t>(d);
    w.le<uint64_t>(t.nbytes());
    Tensor host = t.cpu();
    // The byte layout is the host's; the format is little-endian, as every supported host is.
    w.bytes(host.raw_data(), host.nbytes());
  }
  w.le<uint64_t>(w.hash());
  w.finish();
}

LoadedState load_state(const std::string& path) {
  Reader r(path, read_file(path));
  if (r.size() < sizeof(kMagic) || std::memcmp(r.data(), kMagic, sizeof(kMagic)) != 0)
    r.fail("not a curec state file (bad magic; expected a file written by save_state)");
  r.take(sizeof(kMagic), "magic");
  LoadedState out;
  out.version = r.le<uint32_t>("format version");
  if (out.version == 0 || out.version > kStateFormatVersion)
    r.fail("format version " + std::to_string(out.version) + " is not supported (this build reads versions 1.." +
           std::to_string(kStateFormatVersion) + "); use a newer curec");
  // The checksum goes first: a corrupted file is reported as such, not as whatever field the
  // corruption happened to hit. Truncation shows up here too (the trailing hash is cut off).
  if (r.size() < r.pos() + 8) r.fail("truncated: no room for the checksum");
  size_t body = r.size() - 8;
  uint64_t stored = 0;
  for (int i = 0; i < 8; ++i) stored |= static_cast<uint64_t>(r.data()[body + i]) << (8 * i);
  if (fnv1a64(r.data(), body) != stored) r.fail("checksum mismatch: the file is truncated or corrupted");

  uint32_t n_meta = r.le<uint32_t>("metadata count");
  for (uint32_t i = 0; i < n_meta; ++i) {
    std::string k = r.str("metadata key");
    out.meta[k] = r.str("metadata value");
  }
  uint32_t n_tensors = r.le<uint32_t>("tensor count");
  for (uint32_t i = 0; i < n_tensors; ++i) {
    std::string name = r.str("tensor name");
    auto dtype = r.le<uint8_t>("dtype");
    if (dtype > static_cast<uint8_t>(DType::u8)) r.fail("tensor \"" + name + "\" has unknown dtype " + std::to_string(dtype));
    auto ndim = r.le<uint8_t>("ndim");
    if (ndim > kMaxDims) r.fail("tensor \"" + name + "\" has " + std::to_string(ndim) + " dims");
    Shape shape;
    uint64_t elems = 1;
    for (int d = 0; d < ndim; ++d) {
      auto s = r.le<int64_t>("dims");
      // No dimension can exceed the bytes in the file, which also keeps the product from overflowing.
      if (s < 0 || static_cast<uint64_t>(s) > r.size()) r.fail("tensor \"" + name + "\" has bad dimension " + std::to_string(s));
      // Saturate above the file size: such a tensor fails the byte-count check below.
      uint64_t u = static_cast<uint64_t>(s);
      elems = (u != 0 && elems > (r.size() + 1) / u) ? r.size() + 1 : elems * u;
      shape.push_back(s);
    }
    uint64_t nbytes = r.le<uint64_t>("byte count");
    if (nbytes != elems * dtype_size(static_cast<DType>(dtype)))
      r.fail("tensor \"" + name + "\" of shape " + shape_str(shape) + " claims " + std::to_string(nbytes) + " bytes");
    r.need(nbytes, "tensor data");
    if (out.tensors.count(name)) r.fail("tensor \"" + name + "\" appears twice");
    Tensor t = Tensor::empty(shape, static_cast<DType>(dtype));
    if (nbytes) std::memcpy(t.raw_data(), r.take(nbytes, "tensor data"), nbytes);
    if (t.dtype() == DType::f32) check_finite(r, name, t);
    out.tensors[name] = t;
  }
  if (r.pos() != body)
    r.fail(std::to_string(body - r.pos()) + " unexpected bytes before the checksum");
  return out;
}

}  // namespace curec::nn

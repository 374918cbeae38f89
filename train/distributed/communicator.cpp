#include "train/distributed/communicator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <sstream>
#include <thread>

namespace curec::dist {

double default_timeout_s() {
  const char* env = std::getenv("CUREC_DIST_TIMEOUT_S");
  if (!env || !*env) return 300.0;
  char* end = nullptr;
  double v = std::strtod(env, &end);
  CUREC_CHECK(end && *end == '\0' && std::isfinite(v) && v > 0, "CUREC_DIST_TIMEOUT_S=", env,
              " is not a number of seconds > 0; set it to e.g. 600, or unset it for the default of 300");
  return v;
}

bool poll_until(double timeout_s, const std::function<bool()>& done) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  for (int spins = 0; !done(); ++spins) {
    if (Clock::now() > deadline) return false;
    if (spins < 2000) std::this_thread::yield();
    else std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return true;
}

int64_t Gathered::offset(int r) const {
  CUREC_CHECK(r >= 0 && r <= static_cast<int>(counts.size()), "Gathered::offset(", r, "): rank out of range [0, ",
              counts.size(), "]");
  return std::accumulate(counts.begin(), counts.begin() + r, int64_t{0});
}

Communicator::Communicator(int rank, int world_size, bool checked_calls)
    : rank_(rank), world_size_(world_size), checked_(checked_calls) {
  CUREC_CHECK(world_size >= 1, "communicator: world size must be >= 1, got ", world_size);
  CUREC_CHECK(rank >= 0 && rank < world_size, "communicator: rank ", rank, " out of range for world size ",
              world_size, " (ranks are 0..", world_size - 1, ")");
}

std::string Communicator::who() const {
  return detail::concat("rank ", rank_, " of ", world_size_, " (", backend(), ")");
}

std::string Communicator::where() const {
  return current_.str() + " on " + who() + (device().is_cuda() ? " on " + device().str() : "");
}

size_t Communicator::row_bytes(const Tensor& t) {
  return static_cast<size_t>(shape_numel(Shape(t.shape().begin() + 1, t.shape().end()))) * dtype_size(t.dtype());
}

void Communicator::abort(const std::string& reason) {
  std::lock_guard lock(abort_m_);
  if (broken_.load()) return;
  reason_ = reason;
  broken_.store(true);
  do_abort(reason);
}

void Communicator::throw_if_broken() const {
  if (broken_.load())
    CUREC_FAIL(where(), ": the communicator was aborted earlier (", reason_,
               "); make new communicators on every rank to continue");
}

void Communicator::fail_broken(const std::string& msg) {
  abort(msg);
  CUREC_FAIL(msg);
}

std::string Call::str() const {
  static const char* const names[] = {"none", "all_reduce", "broadcast", "all_gather_v", "all_gather_host", "barrier"};
  std::ostringstream os;
  os << names[op] << " #" << seq;
  if (op == barrier) return os.str();
  os << " of " << dtype_name(dtype) << shape_str(shape);
  if (op == broadcast) os << " from root " << extra;
  return os.str();
}

namespace {

// A call as the ranks exchange it: op, seq, dtype, extra, ndim, then up to kDims dims (a longer
// shape folds its tail into the last).
constexpr size_t kDims = 4, kWords = 5 + kDims;

std::vector<int64_t> words_of(const Call& c) {
  std::vector<int64_t> w = {c.op, c.seq, static_cast<int64_t>(c.dtype), c.extra, static_cast<int64_t>(c.shape.size())};
  for (size_t d = 0; d < kDims; ++d) {
    int64_t v = d < c.shape.size() ? c.shape[d] : 0;
    for (size_t e = kDims; d + 1 == kDims && e < c.shape.size(); ++e) v *= c.shape[e];
    w.push_back(v);
  }
  return w;
}

Call call_of(const int64_t* w) {
  Call c{static_cast<Call::Op>(w[0]), w[1], static_cast<DType>(w[2]), {}, w[3]};
  for (int64_t d = 0; d < std::min<int64_t>(w[4], kDims); ++d) c.shape.push_back(w[5 + d]);
  return c;
}

template <class T>
void sum_typed(T* out, const std::vector<const void*>& x, int64_t len) {
  constexpr int64_t kBlock = 2048;  // the partial sums stay in cache and vectorise
  T acc[kBlock];
  const auto n = static_cast<int64_t>(x.size());
  for (int64_t b = 0; b < len; b += kBlock) {
    const int64_t m = std::min(kBlock, len - b);
    const T* first = static_cast<const T*>(x[0]) + b;
    std::copy(first, first + m, acc);
    for (int64_t r = 1; r < n; ++r) {
      const T* xr = static_cast<const T*>(x[r]) + b;
      for (int64_t i = 0; i < m; ++i) acc[i] += xr[i];
    }
    std::copy(acc, acc + m, out + b);
  }
}

}  // namespace

void Communicator::sum_in_rank_order(void* out, const std::vector<const void*>& x, int64_t len, DType dtype) {
  switch (dtype) {
    case DType::f32: return sum_typed(static_cast<float*>(out), x, len);
    case DType::i32: return sum_typed(static_cast<int32_t*>(out), x, len);
    case DType::i64: return sum_typed(static_cast<int64_t*>(out), x, len);
    default: CUREC_FAIL("sum_in_rank_order: dtype ", dtype_name(dtype), " is not f32, i32 or i64");
  }
}

void Communicator::enter(Call call, const std::vector<int64_t>* counts) {
  call.seq = ++seq_;
  current_ = std::move(call);
  if (!checked_ || world_size_ == 1) return;
  const std::vector<int64_t> all = do_all_gather_host(words_of(current_));
  const auto word = [&](int r, size_t i) { return all[static_cast<size_t>(r) * kWords + i]; };
  const Call::Op op = current_.op;
  bool ok = true;
  for (int r = 1; r < world_size_ && ok; ++r)
    for (size_t i = 0; i < kWords && ok; ++i) {
      const bool free = (op == Call::barrier && i >= 2) || (op == Call::all_gather_v && i == 5);  // dim 0 may differ
      ok = free || word(r, i) == word(0, i);
    }
  if (!ok) {
    std::ostringstream os;
    os << where() << ": the ranks disagree:";
    for (int r = 0; r < world_size_; ++r) os << (r ? ";" : "") << " rank " << r << " called " << call_of(&all[r * kWords]).str();
    bool same_call = true;
    for (int r = 1; r < world_size_; ++r) same_call &= word(r, 0) == word(0, 0) && word(r, 1) == word(0, 1);
    os << "; " << (!same_call ? "every rank must call the same collectives in the same order"
                   : op == Call::all_gather_v ? "pass tensors of the same dtype and trailing dims on every rank (only "
                                                "dim 0 may differ)"
                                              : "pass tensors of the same dtype and shape, and the same root, on "
                                                "every rank");
    CUREC_FAIL(os.str());
  }
  if (counts)
    for (int r = 0; r < world_size_; ++r)
      CUREC_CHECK((*counts)[r] == word(r, 5), where(), ": rank ", rank_, " was told that rank ", r, " gives ",
                  (*counts)[r], " rows but rank ", r, " passed ", call_of(&all[r * kWords]).str(),
                  "; pass every rank's true dim-0 size (or let all_gather_v(t) exchange them)");
}

void Communicator::check_tensor(const char* op, const Tensor& t) const {
  CUREC_CHECK(t.defined(), op, " on ", who(), ": the tensor is undefined; pass a tensor of the same shape on every rank");
  CUREC_CHECK(t.device() == device(), op, " on ", who(), ": the tensor ", t.str(), " is on ", t.device().str(),
              " but this communicator works on ", device().str(), "; move it with .to(", device().str(), ")",
              device().is_cpu() ? " or use the NCCL communicator for CUDA tensors" : "");
}

void Communicator::enter_all_reduce(const char* op, const Tensor& t) {
  check_tensor(op, t);
  DType d = t.dtype();
  CUREC_CHECK(d == DType::f32 || d == DType::i32 || d == DType::i64, op, " on ", who(), ": ", t.str(),
              " has dtype ", dtype_name(d), "; ", op, " takes f32, i32 or i64");
  enter({Call::all_reduce, 0, t.dtype(), t.shape()});
}

// An empty tensor is still a collective: every rank must arrive.
void Communicator::all_reduce(Tensor& t) {
  enter_all_reduce("all_reduce", t);
  do_all_reduce(t);
  complete_started();
}

void Communicator::all_reduce_start(Tensor& t) {
  enter_all_reduce("all_reduce_start", t);
  do_all_reduce(t);
}

void Communicator::broadcast(Tensor& t, int root) {
  check_tensor("broadcast", t);
  CUREC_CHECK(root >= 0 && root < world_size_, "broadcast on ", who(), ": root ", root,
              " out of range; ranks are 0..", world_size_ - 1);
  enter({Call::broadcast, 0, t.dtype(), t.shape(), root});
  do_broadcast(t, root);
}

std::vector<int64_t> Communicator::all_gather_host(const std::vector<int64_t>& mine) {
  enter({Call::all_gather_host, 0, DType::i64, {static_cast<int64_t>(mine.size())}});
  return do_all_gather_host(mine);
}

std::vector<int64_t> Communicator::do_all_gather_host(const std::vector<int64_t>& mine) {
  const auto n = static_cast<int64_t>(mine.size());
  Tensor all = Tensor::empty({n * world_size_}, DType::i64, device());
  do_all_gather_v(Tensor::from_vector<int64_t>(mine, {n}, device()), std::vector<int64_t>(world_size_, n), all);
  synchronize();  // read on the host: wait within the timeout
  return all.to_vector<int64_t>();
}

// A tensor without rows still joins the exchange; the checks below then fail on its rank.
Gathered Communicator::all_gather_v(const Tensor& t) {
  return all_gather_v(t, all_gather_host({t.defined() && t.dim() >= 1 ? t.size(0) : 0}));
}

Gathered Communicator::all_gather_v(const Tensor& t, const std::vector<int64_t>& counts) {
  check_tensor("all_gather_v", t);
  CUREC_CHECK(t.dim() >= 1, "all_gather_v on ", who(), ": ", t.str(),
              " has no dim 0 to concatenate along; view it as [1]");
  CUREC_CHECK(static_cast<int>(counts.size()) == world_size_, "all_gather_v on ", who(), ": ", counts.size(),
              " counts given, one per rank (", world_size_, ") needed");
  CUREC_CHECK(counts[static_cast<size_t>(rank_)] == t.size(0), "all_gather_v on ", who(), ": counts[", rank_,
              "] = ", counts[static_cast<size_t>(rank_)], " but this rank's tensor ", t.str(), " has ", t.size(0),
              " rows; pass every rank's true dim-0 size (or let all_gather_v(t) exchange them)");
  int64_t total = 0;
  for (size_t r = 0; r < counts.size(); ++r) {
    CUREC_CHECK(counts[r] >= 0, "all_gather_v on ", who(), ": counts[", r, "] = ", counts[r], " is negative");
    total += counts[r];
  }
  // Every rank checks every rank's count against what that rank passed, so all were told the same.
  enter({Call::all_gather_v, 0, t.dtype(), t.shape()}, &counts);
  Shape s = t.shape();
  s[0] = total;
  Gathered g;
  g.data = Tensor::empty(s, t.dtype(), device());
  g.counts = counts;
  do_all_gather_v(t, counts, g.data);
  return g;
}

// One word exchanged on the host is a barrier on every backend; on NCCL, synchronize() then waits
// for this rank's queued collectives.
void Communicator::barrier() {
  enter({Call::barrier, 0, DType::u8, {}});
  do_all_gather_host({0});
  synchronize();
}

}  // namespace curec::dist

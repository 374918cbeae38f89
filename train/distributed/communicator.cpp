#include "train/distributed/communicator.h"

#include <cmath>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <numeric>
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

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return "sum";
    case ReduceOp::avg: return "avg";
  }
  return "?";
}

int64_t Gathered::offset(int r) const {
  CUREC_CHECK(r >= 0 && r <= static_cast<int>(counts.size()), "Gathered::offset(", r, "): rank out of range [0, ",
              counts.size(), "]");
  return std::accumulate(counts.begin(), counts.begin() + r, int64_t{0});
}

Communicator::Communicator(int rank, int world_size) : rank_(rank), world_size_(world_size) {
  CUREC_CHECK(world_size >= 1, "communicator: world size must be >= 1, got ", world_size);
  CUREC_CHECK(rank >= 0 && rank < world_size, "communicator: rank ", rank, " out of range for world size ",
              world_size, " (ranks are 0..", world_size - 1, ")");
}

std::string Communicator::who() const {
  return detail::concat("rank ", rank_, " of ", world_size_, " (", backend(), ")");
}

void Communicator::check_tensor(const char* op, const Tensor& t) const {
  CUREC_CHECK(t.defined(), op, " on ", who(), ": the tensor is undefined; pass a tensor of the same shape on every rank");
  CUREC_CHECK(t.device() == device(), op, " on ", who(), ": the tensor ", t.str(), " is on ", t.device().str(),
              " but this communicator works on ", device().str(), "; move it with .to(", device().str(), ")",
              device().is_cpu() ? " or use the NCCL communicator for CUDA tensors" : "");
}

void Communicator::check_reducible(const char* op, const Tensor& t, ReduceOp how) const {
  check_tensor(op, t);
  DType d = t.dtype();
  CUREC_CHECK(d == DType::f32 || d == DType::i32 || d == DType::i64, op, " on ", who(), ": ", t.str(),
              " has dtype ", dtype_name(d), "; ", op, " takes f32, i32 or i64");
  CUREC_CHECK(how == ReduceOp::sum || d == DType::f32, op, "(", reduce_op_name(how), ") on ", who(), ": ", t.str(),
              " is not f32; average integers by summing them and dividing yourself");
}

void Communicator::all_reduce(Tensor& t, ReduceOp op) {
  check_reducible("all_reduce", t, op);
  do_all_reduce(t, op);  // an empty tensor is still a collective: every rank must arrive
}

void Communicator::all_reduce_start(Tensor& t, ReduceOp op) {
  check_reducible("all_reduce_start", t, op);
  do_all_reduce_start(t, op);
}

void Communicator::broadcast(Tensor& t, int root) {
  check_tensor("broadcast", t);
  CUREC_CHECK(root >= 0 && root < world_size_, "broadcast on ", who(), ": root ", root,
              " out of range; ranks are 0..", world_size_ - 1);
  do_broadcast(t, root);
}

std::vector<int64_t> Communicator::all_gather_host(const std::vector<int64_t>& mine) { return do_all_gather_host(mine); }

std::vector<int64_t> Communicator::do_all_gather_host(const std::vector<int64_t>& mine) {
  Tensor t = Tensor::from_vector<int64_t>(mine, {static_cast<int64_t>(mine.size())}, device());
  Tensor all = all_gather(t);
  synchronize();  // read on the host: wait within the timeout
  return all.to_vector<int64_t>();
}

Tensor Communicator::all_gather(const Tensor& t) {
  check_tensor("all_gather", t);
  Tensor in = t.dim() == 0 ? t.view({1}) : t;
  std::vector<int64_t> counts(static_cast<size_t>(world_size_), in.size(0));
  Shape s = in.shape();
  s[0] = in.size(0) * world_size_;
  Tensor out = Tensor::empty(s, in.dtype(), device());
  do_all_gather_v("all_gather", in, counts, out);
  return out;
}

Gathered Communicator::all_gather_v(const Tensor& t) {
  check_tensor("all_gather_v", t);
  CUREC_CHECK(t.dim() >= 1, "all_gather_v on ", who(), ": ", t.str(),
              " has no dim 0 to concatenate along; view it as [1] (or use all_gather)");
  return all_gather_v(t, exchange_counts(t.size(0)));
}

Gathered Communicator::all_gather_v(const Tensor& t, const std::vector<int64_t>& counts) {
  check_tensor("all_gather_v", t);
  CUREC_CHECK(t.dim() >= 1, "all_gather_v on ", who(), ": ", t.str(),
              " has no dim 0 to concatenate along; view it as [1] (or use all_gather)");
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
  Shape s = t.shape();
  s[0] = total;
  Gathered g;
  g.data = Tensor::empty(s, t.dtype(), device());
  g.counts = counts;
  do_all_gather_v("all_gather_v", t, counts, g.data);
  return g;
}

void Communicator::barrier() { do_barrier(); }

std::vector<int64_t> Communicator::exchange_counts(int64_t mine) {
  Tensor c = Tensor::from_vector<int64_t>({mine}, {1}, device());
  std::vector<int64_t> counts(static_cast<size_t>(world_size_), 1);
  Tensor all = Tensor::empty({world_size_}, DType::i64, device());
  do_all_gather_v("all_gather_v (of the counts)", c, counts, all);
  return all.to_vector<int64_t>();
}

void run_ranks(const std::vector<Communicator*>& comms, const std::function<void(Communicator&)>& fn) {
  CUREC_CHECK(!comms.empty(), "run_ranks: no communicators given");
  for (size_t r = 0; r < comms.size(); ++r)
    CUREC_CHECK(comms[r] != nullptr, "run_ranks: communicator ", r, " is null");
  std::mutex m;
  std::exception_ptr first;
  int first_rank = -1;
  auto body = [&](size_t r) {
    try {
      fn(*comms[r]);
    } catch (...) {
      bool is_first = false;
      std::string reason;
      {
        std::lock_guard lock(m);
        if (!first) {
          first = std::current_exception();
          first_rank = comms[r]->rank();
          is_first = true;
        }
      }
      if (is_first) {
        try {
          throw;
        } catch (const std::exception& e) {
          reason = e.what();
        } catch (...) {
          reason = "an unknown exception";
        }
        for (size_t o = 0; o < comms.size(); ++o)
          if (o != r) comms[o]->abort(detail::concat(comms[r]->who(), " failed: ", reason));
      }
    }
  };
  if (comms.size() == 1) {
    body(0);
  } else {
    std::vector<std::thread> threads;
    threads.reserve(comms.size());
    for (size_t r = 0; r < comms.size(); ++r) threads.emplace_back(body, r);
    for (std::thread& t : threads) t.join();
  }
  if (!first) return;
  try {
    std::rethrow_exception(first);
  } catch (const Error& e) {
    std::string prefix = detail::concat("[rank ", first_rank, "] ");
    if (e.message().rfind(prefix, 0) == 0) throw;
    throw Error(prefix + e.message(), e.file(), e.line());
  }
}

}  // namespace curec::dist

#include "train/distributed/grad_sync.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "core/tensor_kernels.h"
#include "nn/embedding.h"
#include "ops/embedding.h"

namespace curec::dist {

namespace {

// Walks the module tree for embeddings whose backward gives row-sparse gradients.
void sparse_tables(const nn::Module& m, std::set<const TensorImpl*>& out) {
  if (const auto* e = dynamic_cast<const nn::Embedding*>(&m); e && e->options().sparse_grad) out.insert(e->weight.impl());
  for (const auto& [name, child] : m.children()) sparse_tables(*child, out);
}

std::vector<SyncedParameter> registered(const nn::Module& model) {
  std::set<const TensorImpl*> sparse;
  sparse_tables(model, sparse);
  std::vector<SyncedParameter> out;
  for (const auto& [name, t] : model.named_parameters()) out.emplace_back(t, sparse.count(t.impl()) > 0, name);
  return out;
}

void check_weight(double weight, const std::string& who) {
  CUREC_CHECK(std::isfinite(weight) && weight >= 0, "GradientSync::sync on ", who, ": weight ", weight,
              " must be finite and >= 0 (local examples / global examples; see shard_weight)");
}

}  // namespace

GradientSync::GradientSync(const nn::Module& model, Communicator& comm, GradSyncOptions options)
    : GradientSync(registered(model), comm, options) {}

GradientSync::GradientSync(std::vector<SyncedParameter> params, Communicator& comm, GradSyncOptions options)
    : params_(std::move(params)), comm_(comm), options_(options) {
  CUREC_CHECK(options_.first_bucket_bytes > 0 && options_.bucket_bytes > 0,
              "GradientSync: bucket sizes must be > 0 bytes, got ", options_.first_bucket_bytes, " and ",
              options_.bucket_bytes);
  std::vector<size_t> order;  // reverse: the order backward produces gradients
  for (size_t k = params_.size(); k-- > 0;) {
    SyncedParameter& sp = params_[k];
    const Tensor& p = sp.tensor;
    if (sp.name.empty()) sp.name = detail::concat("#", k);
    CUREC_CHECK(sp.name.find_first_of("\t\n") == std::string::npos, "GradientSync: parameter name '", sp.name,
                "' holds a tab or a newline");
    CUREC_CHECK(p.defined() && p.dtype() == DType::f32, "GradientSync: ", name(k), " must be a defined f32 tensor, got ",
                p.str());
    CUREC_CHECK(p.device() == comm_.device(), "GradientSync: ", name(k), " ", p.str(), " is not on the ",
                comm_.backend(), " communicator's device ", comm_.device().str(),
                "; move the model there before building the GradientSync");
    CUREC_CHECK(!sp.sparse_grad || p.dim() >= 1, "GradientSync: ", name(k), " ", p.str(),
                " has no rows for a row-sparse gradient");
    for (size_t j = k + 1; j < params_.size(); ++j)
      CUREC_CHECK(params_[j].tensor.impl() != p.impl(), "GradientSync: parameter ", j, " is the same tensor as parameter ",
                  k, "; list each parameter once");
    if (sp.sparse_grad && options_.sparse == SparseExchange::gather) gathered_.push_back(k);
    else order.push_back(k);
  }
  pack(order);
}

// Fixes the buckets: the first of first_bucket_bytes, then bucket_bytes each; a parameter that
// would overflow a bucket already holding one starts the next. The dense parameters' flags end
// the last bucket.
void GradientSync::pack(const std::vector<size_t>& order) {
  slot_.assign(params_.size(), Slot{});
  size_t cap = options_.first_bucket_bytes;
  Bucket current;
  auto close = [&] {
    if (current.params.empty()) return;
    buckets_.push_back(std::move(current));
    current = Bucket{};
    cap = options_.bucket_bytes;
  };
  int64_t flags = 0;
  for (size_t k : order) {
    const Tensor& p = params_[k].tensor;
    const bool densified = params_[k].sparse_grad;
    const int64_t elems = p.numel() + (densified ? p.size(0) : 0);
    if (!current.params.empty() && static_cast<size_t>(current.elems + elems) * 4 > cap) close();
    slot_[k] = {static_cast<int>(buckets_.size()), current.elems, densified ? current.elems + p.numel() : -1,
                densified ? -1 : flags++};
    current.params.push_back(k);
    current.elems += elems;
    densified_ |= densified;
    if (static_cast<size_t>(current.elems) * 4 >= cap) close();
  }
  close();
  if (buckets_.empty()) return;
  flags_at_ = buckets_.back().elems;
  flags_ = flags;
  buckets_.back().elems += flags;
  for (Bucket& b : buckets_) b.flat = Tensor::empty({b.elems}, DType::f32, comm_.device());
}

std::string GradientSync::name(size_t k) const {
  const std::string& n = params_[k].name;
  return n.empty() || n[0] == '#' ? detail::concat("parameter ", k) : detail::concat("parameter ", k, " '", n, "'");
}

void GradientSync::check_kind(size_t k) const {
  const SyncedParameter& sp = params_[k];
  CUREC_CHECK(sp.sparse_grad ? !sp.tensor.grad().defined() : !sp.tensor.has_sparse_grad(), "GradientSync::sync on ",
              comm_.who(), ": ", name(k), " was registered with a ", sp.sparse_grad ? "row-sparse" : "dense",
              " gradient but has a ", sp.sparse_grad ? "dense" : "row-sparse", " one; register what backward gives (an "
              "nn::Embedding's sparse_grad option, or SyncedParameter's sparse_grad)");
}

double GradientSync::shard_weight(int64_t local_examples, int64_t global_examples) {
  CUREC_CHECK(global_examples > 0 && local_examples >= 0 && local_examples <= global_examples,
              "GradientSync::shard_weight(", local_examples, ", ", global_examples,
              "): needs 0 <= local examples <= global examples and a non-empty global batch");
  return static_cast<double>(local_examples) / static_cast<double>(global_examples);
}

void GradientSync::check_parameters() {
  std::vector<uint8_t> text;  // a line per parameter
  for (const SyncedParameter& p : params_)
    for (char c : detail::concat("'", p.name, "' ", dtype_name(p.tensor.dtype()), shape_str(p.tensor.shape()),
                                 p.sparse_grad ? " (row-sparse gradient)" : "", "\n"))
      text.push_back(static_cast<uint8_t>(c));
  Gathered g = comm_.all_gather_v(Tensor::from_vector(text, {static_cast<int64_t>(text.size())}, comm_.device()));
  comm_.synchronize();
  const std::vector<uint8_t> all = g.data.to_vector<uint8_t>();
  const auto lines = [&](int r) {
    std::istringstream in(std::string(all.begin() + g.offset(r), all.begin() + g.offset(r + 1)));
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  };
  const std::vector<std::string> ref = lines(0);
  for (int r = 1; r < comm_.world_size(); ++r) {
    const std::vector<std::string> other = lines(r);
    for (size_t i = 0; i < std::max(ref.size(), other.size()); ++i) {
      const std::string a = i < ref.size() ? ref[i] : "none", b = i < other.size() ? other[i] : "none";
      CUREC_CHECK(a == b, "GradientSync: rank ", r, "'s parameters differ from rank 0's (", other.size(), " and ",
                  ref.size(), " of them): parameter ", i, " is ", a, " on rank 0 but ", b, " on rank ", r,
                  "; every rank must build the same model (same model, config and data sizes, e.g. the same numbers "
                  "of users and items)");
    }
  }
}

void GradientSync::broadcast_parameters() {
  check_parameters();
  NoGradGuard no_grad;
  for (SyncedParameter& p : params_) {
    Tensor data = p.tensor.detach();
    comm_.broadcast(data, 0);
  }
}

BackwardObserver GradientSync::begin(double weight) {
  check_weight(weight, comm_.who());
  active_ = false;
  if (!options_.overlap || buckets_.empty() || (comm_.world_size() == 1 && !options_.exchange_alone)) return {};
  start_step(weight, true);
  BackwardObserver observer;
  // Parameters this backward does not reach are complete already (as zeros, or the gradient a
  // fused step set): otherwise one unused parameter would hold back every bucket after it.
  observer.on_graph = [this](const std::vector<const TensorImpl*>& leaves) {
    for (size_t k = 0; k < params_.size(); ++k)
      if (std::find(leaves.begin(), leaves.end(), params_[k].tensor.impl()) == leaves.end()) ready(k);
  };
  observer.on_leaf_ready = [this](const TensorImpl& leaf) {
    for (size_t k = 0; k < params_.size(); ++k)
      if (params_[k].tensor.impl() == &leaf) return ready(k);
  };
  return observer;
}

void GradientSync::start_step(double weight, bool in_backward) {
  active_ = true;
  in_backward_ = in_backward;
  weight_ = weight;
  ignore_local_ = weight == 0;  // an empty shard: whatever gradient it holds (NaN from an empty mean) counts for nothing
  all_local_ = true;
  done_.assign(params_.size(), 0);
  filled_.assign(buckets_.size(), 0);
  started_ = 0;
  last_ = SyncStats{};
}

void GradientSync::ready(size_t k) {
  if (slot_[k].bucket < 0 || done_[k]) return;
  fill(k);
  start_full_buckets();
}

// Copies parameter k's weighted gradient (zeros without one) into its bucket, with its touch
// counts (densified) or its flag (dense).
void GradientSync::fill(size_t k) {
  NoGradGuard no_grad;
  const Device dev = comm_.device();
  const SyncedParameter& sp = params_[k];
  const Tensor& p = sp.tensor;
  const Slot& slot = slot_[k];
  float* base = buckets_[static_cast<size_t>(slot.bucket)].flat.data<float>();
  const float w = static_cast<float>(weight_);
  check_kind(k);
  if (!sp.sparse_grad) {
    const bool has = !ignore_local_ && p.grad().defined();
    if (has) {
      const Tensor& g = p.grad();
      CUREC_CHECK(g.shape() == p.shape() && g.dtype() == DType::f32 && g.device() == p.device(), "GradientSync::sync on ",
                  comm_.who(), ": the gradient ", g.str(), " of ", name(k), " ", p.str(), " does not match it");
      scale_copy(base + slot.offset, g.data<float>(), p.numel(), w, dev);
    } else {
      fill_f32(base + slot.offset, p.numel(), 0.0f, dev);
    }
    fill_f32(buckets_.back().flat.data<float>() + flags_at_ + slot.flag, 1, has ? 1.0f : 0.0f, dev);
    all_local_ &= has;
  } else if (!ignore_local_ && p.has_sparse_grad() && p.sparse_grad_indices().size(0) > 0) {
    const Tensor& idx = p.sparse_grad_indices();
    Tensor d = scatter_add_rows(p.sparse_grad_rows(), idx, p.shape(), true);
    scale_copy(base + slot.offset, d.data<float>(), p.numel(), w, dev);
    Tensor touches = scatter_add_rows(Tensor::ones({idx.size(0), 1}, dev), idx, {p.size(0), 1}, true);
    copy_bytes(base + slot.touches, dev, touches.data<float>(), dev, static_cast<size_t>(p.size(0)) * 4);
  } else {
    fill_f32(base + slot.offset, p.numel() + p.size(0), 0.0f, dev);
  }
  done_[k] = 1;
  ++filled_[static_cast<size_t>(slot.bucket)];
}

// Starts, in bucket order, every bucket whose parameters are all copied in.
void GradientSync::start_full_buckets() {
  while (started_ < buckets_.size() && filled_[started_] == buckets_[started_].params.size()) {
    comm_.all_reduce_start(buckets_[started_].flat);
    if (in_backward_) ++last_.overlapped;
    ++started_;
  }
}

void GradientSync::sync(double weight) {
  check_weight(weight, comm_.who());
  if (comm_.world_size() == 1 && !options_.exchange_alone) {  // nothing to exchange; the weight must be 1
    CUREC_CHECK(std::fabs(weight - 1.0) <= 1e-6, "GradientSync::sync: the only rank's weight is ", weight,
                ", not 1; with one rank the shard is the whole global batch (shard_weight(n, n) = 1)");
    last_ = SyncStats{};
  } else {
    if (!active_) start_step(weight, false);
    CUREC_CHECK(weight == weight_, "GradientSync::sync on ", comm_.who(), ": weight ", weight, " differs from the ",
                weight_, " given to begin() for this step");
    in_backward_ = false;
    for (size_t k = 0; k < params_.size(); ++k)
      if (slot_[k].bucket >= 0 && !done_[k]) fill(k);  // backward did not reach it (or the task ran none)
    start_full_buckets();
    comm_.complete_started();
    unpack();
    gather_sparse();
    active_ = false;
  }
  total_bytes_ += last_.bytes();
  ++syncs_;
}

// Hands the summed buckets back: dense gradients as views (none where no rank had one), densified
// tables as the rows some rank touched. The host reads the flags only where this rank lacked a
// gradient (otherwise every flag is >= 1 without reading it), and the touch counts always.
void GradientSync::unpack() {
  std::vector<float> last;
  if (!all_local_ || densified_) {
    comm_.synchronize();  // read on the host: wait within the timeout
    ++last_.host_waits;
    if (!all_local_) last = buckets_.back().flat.rows(flags_at_, flags_).to_vector<float>();
  }
  for (Bucket& bucket : buckets_) {
    last_.allreduce_bytes += bucket.elems * 4;
    last_.buckets += 1;
    for (size_t k : bucket.params) {
      const Slot& slot = slot_[k];
      const Tensor& p = params_[k].tensor;
      Tensor sum = bucket.flat.rows(slot.offset, p.numel()).view(p.shape());
      p.zero_grad();
      if (slot.touches < 0) {
        if (all_local_ || last[static_cast<size_t>(slot.flag)] > 0) p.set_grad(sum);
        continue;
      }
      const std::vector<float> touches = bucket.flat.rows(slot.touches, p.size(0)).to_vector<float>();
      std::vector<int64_t> touched;  // exactly the rows some rank touched, ascending
      for (size_t r = 0; r < touches.size(); ++r)
        if (touches[r] > 0) touched.push_back(static_cast<int64_t>(r));
      if (touched.empty()) continue;
      Tensor idx = Tensor::from_vector<int64_t>(touched, {static_cast<int64_t>(touched.size())}, p.device());
      p.set_sparse_grad(idx, gather_rows(sum, idx, "GradientSync"));
    }
  }
}

// The gathered row-sparse gradients: their row counts in one exchange on the host, then indices
// and weighted rows with those counts.
void GradientSync::gather_sparse() {
  if (gathered_.empty()) return;
  NoGradGuard no_grad;
  const Device dev = comm_.device();
  const size_t G = gathered_.size();
  std::vector<int64_t> mine(G, 0);
  for (size_t j = 0; j < G; ++j) {
    const Tensor& p = params_[gathered_[j]].tensor;
    check_kind(gathered_[j]);
    if (ignore_local_ || !p.has_sparse_grad()) continue;
    const Tensor &idx = p.sparse_grad_indices(), &rows = p.sparse_grad_rows();
    CUREC_CHECK(idx.dtype() == DType::i64 && idx.dim() == 1 && rows.dtype() == DType::f32 && rows.dim() == p.dim() &&
                    rows.size(0) == idx.size(0) && rows.numel() == idx.size(0) * (p.numel() / p.size(0)),
                "GradientSync::sync on ", comm_.who(), ": the row-sparse gradient of ", name(gathered_[j]), " ", p.str(),
                " has indices ", idx.str(), " and rows ", rows.str(), "; expected i64 [n] and f32 [n, the parameter's "
                "trailing dims]");
    mine[j] = idx.size(0);
  }
  const std::vector<int64_t> all = comm_.all_gather_host(mine);  // no device wait where NCCL has a host channel
  if (comm_.host_gather_waits()) ++last_.host_waits;
  last_.meta_bytes += static_cast<int64_t>(all.size() * sizeof(int64_t));
  const int N = comm_.world_size();
  for (size_t j = 0; j < G; ++j) {
    Tensor& p = params_[gathered_[j]].tensor;
    std::vector<int64_t> counts(static_cast<size_t>(N));
    int64_t total = 0;
    for (int r = 0; r < N; ++r) total += counts[r] = all[static_cast<size_t>(r) * G + j];
    if (total == 0) {  // no rank touched it
      p.zero_grad();
      continue;
    }
    Shape shape = p.shape();
    shape[0] = mine[j];
    Tensor idx = mine[j] > 0 ? p.sparse_grad_indices() : Tensor::empty({0}, DType::i64, dev);
    Tensor rows = Tensor::empty(shape, DType::f32, dev);
    if (mine[j] > 0)
      scale_copy(rows.data<float>(), p.sparse_grad_rows().data<float>(), rows.numel(), static_cast<float>(weight_), dev);
    Gathered gi = comm_.all_gather_v(idx, counts);
    Gathered gr = comm_.all_gather_v(rows, counts);
    last_.allgather_bytes += static_cast<int64_t>(gi.data.nbytes() + gr.data.nbytes());
    p.zero_grad();
    p.set_sparse_grad(gi.data, gr.data);
  }
}

}  // namespace curec::dist

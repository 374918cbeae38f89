#include "train/distributed/grad_sync.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "core/autograd.h"
#include "core/tensor_kernels.h"
#include "ops/embedding.h"
#include "train/distributed/kernels.h"

namespace curec::dist {

namespace {

constexpr int64_t kNone = -1;
constexpr int64_t kDense = -2;

Shape trailing_of(const Shape& s) { return Shape(s.begin() + 1, s.end()); }

// The parameter list one rank describes to the others: a line per parameter.
std::string describe_params(const std::vector<Tensor>& params, const std::vector<std::string>& names) {
  std::ostringstream os;
  for (size_t i = 0; i < params.size(); ++i)
    os << names[i] << '\t' << dtype_name(params[i].dtype()) << shape_str(params[i].shape()) << '\n';
  return os.str();
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string pretty(const std::string& line) {  // "name\tf32[2, 3]" -> "'name' f32[2, 3]"
  size_t tab = line.find('\t');
  if (tab == std::string::npos) return line;
  std::string out = "'";
  out.append(line, 0, tab);
  out += "' ";
  out.append(line, tab + 1, std::string::npos);
  return out;
}

}  // namespace

SyncStats& SyncStats::operator+=(const SyncStats& o) {
  allreduce_bytes += o.allreduce_bytes;
  allgather_bytes += o.allgather_bytes;
  meta_bytes += o.meta_bytes;
  collectives += o.collectives;
  buckets += o.buckets;
  dense += o.dense;
  sparse_gathered += o.sparse_gathered;
  sparse_densified += o.sparse_densified;
  skipped += o.skipped;
  overlapped += o.overlapped;
  steps += o.steps;
  host_waits += o.host_waits;
  return *this;
}

GradientSync::GradientSync(std::vector<Tensor> params, Communicator& comm, GradSyncOptions options)
    : params_(std::move(params)), comm_(comm), options_(options) {
  CUREC_CHECK(options_.first_bucket_bytes > 0 && options_.bucket_bytes > 0,
              "GradientSync: bucket sizes must be > 0 bytes, got ", options_.first_bucket_bytes, " and ",
              options_.bucket_bytes);
  CUREC_CHECK(options_.weight_check_every >= 1, "GradientSync: weight_check_every must be >= 1 (1: every step), got ",
              options_.weight_check_every);
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    names_.push_back(detail::concat("#", i));
    CUREC_CHECK(p.defined() && p.dtype() == DType::f32, "GradientSync: parameter ", i, " must be a defined f32 tensor, got ",
                p.str());
    CUREC_CHECK(p.device() == comm_.device(), "GradientSync: parameter ", i, " ", p.str(), " is not on the ",
                comm_.backend(), " communicator's device ", comm_.device().str(),
                "; move the model there before building the GradientSync");
    for (size_t j = 0; j < i; ++j)
      CUREC_CHECK(params_[j].impl() != p.impl(), "GradientSync: parameter ", i, " is the same tensor as parameter ", j,
                  "; list each parameter once");
  }
  in_plan_.assign(params_.size(), 0);
}

GradientSync::GradientSync(const std::vector<std::pair<std::string, Tensor>>& named, Communicator& comm,
                           GradSyncOptions options)
    : GradientSync([&] {
        std::vector<Tensor> p;
        for (const auto& [n, t] : named) p.push_back(t);
        return p;
      }(),
                   comm, options) {
  for (size_t i = 0; i < named.size(); ++i) {
    CUREC_CHECK(named[i].first.find_first_of("\t\n") == std::string::npos, "GradientSync: parameter name '",
                named[i].first, "' holds a tab or a newline");
    names_[i] = named[i].first;
  }
}

std::string GradientSync::name(size_t i) const {
  return names_[i][0] == '#' ? detail::concat("parameter ", i) : detail::concat("parameter ", i, " '", names_[i], "'");
}

double GradientSync::shard_weight(int64_t local_examples, int64_t global_examples) {
  CUREC_CHECK(global_examples > 0 && local_examples >= 0 && local_examples <= global_examples,
              "GradientSync::shard_weight(", local_examples, ", ", global_examples,
              "): needs 0 <= local examples <= global examples and a non-empty global batch");
  return static_cast<double>(local_examples) / static_cast<double>(global_examples);
}

void GradientSync::check_parameters() {
  std::string mine = describe_params(params_, names_);
  Tensor text = Tensor::empty({static_cast<int64_t>(mine.size())}, DType::u8);
  if (!mine.empty()) std::memcpy(text.raw_data(), mine.data(), mine.size());
  Gathered g = comm_.all_gather_v(text.to(comm_.device()));
  comm_.synchronize();
  std::vector<uint8_t> all = g.data.to_vector<uint8_t>();
  std::vector<std::vector<std::string>> lists;
  for (int r = 0; r < comm_.world_size(); ++r) {
    int64_t at = g.offset(r);
    lists.push_back(split_lines(std::string(reinterpret_cast<const char*>(all.data()) + at,
                                            static_cast<size_t>(g.counts[r]))));
  }
  const auto& ref = lists[0];
  for (int r = 1; r < comm_.world_size(); ++r) {
    const auto& other = lists[r];
    size_t n = std::min(ref.size(), other.size());
    for (size_t i = 0; i < n; ++i)
      CUREC_CHECK(ref[i] == other[i], "GradientSync: rank ", r, "'s parameters differ from rank 0's: parameter ", i,
                  " is ", pretty(ref[i]), " on rank 0 but ", pretty(other[i]), " on rank ", r,
                  "; every rank must build the same model (same model, config and data sizes, e.g. the same numbers "
                  "of users and items)");
    CUREC_CHECK(ref.size() == other.size(), "GradientSync: rank 0 has ", ref.size(), " parameters but rank ", r, " has ",
                other.size(), "; the first one only ", ref.size() > other.size() ? "rank 0" : detail::concat("rank ", r),
                " has is ", pretty(ref.size() > other.size() ? ref[n] : other[n]),
                "; every rank must build the same model");
  }
}

void GradientSync::broadcast_parameters() {
  check_parameters();
  NoGradGuard no_grad;
  for (Tensor& p : params_) {
    Tensor data = p.detach();
    comm_.broadcast(data, 0);
  }
}

// Per rank, per parameter: kNone, kDense or the sparse row count; and every rank's weight.
std::vector<std::vector<int64_t>> GradientSync::exchange_kinds(double weight) {
  const size_t P = params_.size();
  std::vector<int64_t> mine(P + 1);
  for (size_t i = 0; i < P; ++i) {
    const Tensor& p = params_[i];
    if (ignore_local_ || in_plan_[i]) {  // planned: exchanged in the buckets
      mine[i] = kNone;
    } else if (p.has_sparse_grad()) {
      const Tensor &idx = p.sparse_grad_indices(), &rows = p.sparse_grad_rows();
      CUREC_CHECK(p.dim() >= 1 && idx.dtype() == DType::i64 && idx.dim() == 1 && rows.dtype() == DType::f32 &&
                      rows.dim() >= 1 && rows.size(0) == idx.size(0) && trailing_of(rows.shape()) == trailing_of(p.shape()),
                  "GradientSync::sync on ", comm_.who(), ": the row-sparse gradient of ", name(i), " ", p.str(),
                  " has indices ", idx.str(), " and rows ", rows.str(), "; expected i64 [n] and f32 [n, ",
                  "the parameter's trailing dims]");
      CUREC_CHECK(p.grad().defined() == false, "GradientSync::sync: ", name(i), " has both a dense and a row-sparse gradient");
      mine[i] = idx.size(0);
    } else if (p.grad().defined()) {
      const Tensor& g = p.grad();
      CUREC_CHECK(g.shape() == p.shape() && g.dtype() == DType::f32 && g.device() == p.device(),
                  "GradientSync::sync on ", comm_.who(), ": the gradient ", g.str(), " of ", name(i), " ", p.str(),
                  " does not match it");
      mine[i] = kDense;
    } else {
      mine[i] = kNone;
    }
  }
  std::memcpy(&mine[P], &weight, sizeof(double));
  std::vector<int64_t> all = comm_.all_gather_host(mine);  // host data: no device wait where NCCL has a host channel
  if (comm_.host_gather_waits()) ++last_.host_waits;
  last_.meta_bytes += static_cast<int64_t>(all.size() * sizeof(int64_t));
  last_.collectives += 1;
  std::vector<std::vector<int64_t>> kinds(static_cast<size_t>(comm_.world_size()));
  for (int r = 0; r < comm_.world_size(); ++r)
    kinds[r].assign(all.begin() + static_cast<int64_t>(r * (P + 1)), all.begin() + static_cast<int64_t>((r + 1) * (P + 1)));
  return kinds;
}

namespace {
void check_weight(double weight, const std::string& who) {
  CUREC_CHECK(std::isfinite(weight) && weight >= 0, "GradientSync::sync on ", who, ": weight ", weight,
              " must be finite and >= 0 (local examples / global examples; see shard_weight)");
}
}  // namespace

void GradientSync::sync(double weight) {
  check_weight(weight, comm_.who());
  last_ = SyncStats{};
  last_.steps = 1;
  ignore_local_ = weight == 0;  // an empty shard: whatever gradient it holds (NaN from an empty mean) counts for nothing
  if (comm_.world_size() == 1 && !options_.exchange_alone) {
    solo(weight);
  } else {
    if (!step_.active && planned_ && !plan_.buckets.empty()) (void)begin(weight);  // no begin() this step: all now
    if (step_.active) finish_overlapped(weight);
    else sync_unplanned(weight);
  }
  total_ += last_;
}

std::pair<size_t, size_t> GradientSync::Packer::add(Segment seg, int64_t elems) {
  if (!current_.segments.empty() && static_cast<size_t>(current_.elems + elems) * 4 > cap_) close();
  seg.offset = current_.elems;
  if (seg.mask_offset >= 0) seg.mask_offset = seg.offset + seg.numel;
  const std::pair<size_t, size_t> where{buckets_.size(), current_.segments.size()};
  current_.segments.push_back(seg);
  current_.elems += elems;
  if (static_cast<size_t>(current_.elems) * 4 >= cap_) close();
  return where;
}

void GradientSync::Packer::close() {
  if (current_.segments.empty()) return;
  buckets_.push_back(std::move(current_));
  current_ = Bucket{};
  cap_ = next_cap_;
}

std::vector<GradientSync::Bucket> GradientSync::Packer::finish() {
  close();
  return std::move(buckets_);
}

// Every parameter outside the plan (all of them until the plan is made): agree on kinds, then
// buckets and gathers. The first call makes the plan.
void GradientSync::sync_unplanned(double weight) {
  const int N = comm_.world_size();
  auto kinds = exchange_kinds(weight);
  const size_t P = params_.size();
  if (options_.check_weights) {
    double sum = 0;
    std::ostringstream each;
    for (int r = 0; r < N; ++r) {
      double w;
      std::memcpy(&w, &kinds[r][P], sizeof(double));
      sum += w;
      each << (r ? ", " : "") << "rank " << r << ": " << w;
    }
    CUREC_CHECK(std::fabs(sum - 1.0) <= 1e-6, "GradientSync::sync: the ranks' weights add up to ", sum, " (", each.str(),
                "), not 1; each rank's weight is its examples / the global batch's examples (shard_weight), with every "
                "rank's gradient that of its own shard's mean loss");
  }
  const float w = static_cast<float>(weight);

  // Plan: which parameters go into buckets (dense, or densified sparse), which are gathered.
  Packer packer(options_);
  std::vector<size_t> gathered;
  for (size_t k = P; k-- > 0;) {  // reverse order: the order backward produces gradients
    const Tensor& p = params_[k];
    bool any = false, any_dense = false;
    int64_t rows_total = 0;
    for (int r = 0; r < N; ++r) {
      int64_t kind = kinds[r][k];
      CUREC_CHECK(kind >= kDense, "GradientSync::sync: rank ", r, " sent a bad kind ", kind, " for ", name(k));
      any |= kind != kNone;
      any_dense |= kind == kDense;
      if (kind >= 0) rows_total += kind;
    }
    if (in_plan_[k]) continue;
    if (!any) {
      ++last_.skipped;
      continue;
    }
    Segment seg{k, 0, p.numel(), -1};
    if (!any_dense) {
      // Row-sparse everywhere it is present: gather, unless densifying moves fewer bytes.
      const int64_t row_elems = p.size(0) ? p.numel() / p.size(0) : 0;
      const int64_t gather_bytes = rows_total * (8 + 4 * row_elems);
      const int64_t dense_bytes = 4 * (p.numel() + p.size(0));
      bool gather = options_.sparse == SparseExchange::gather ||
                    (options_.sparse == SparseExchange::automatic && gather_bytes < 2 * dense_bytes);
      if (gather) {
        gathered.push_back(k);
        continue;
      }
      seg.mask_offset = 0;  // with touch counts; the packer places them
      ++last_.sparse_densified;
    } else {
      ++last_.dense;
    }
    packer.add(seg, seg.numel + (seg.mask_offset >= 0 ? p.size(0) : 0));
  }

  reduce_buckets(packer.finish(), w);
  for (size_t k : gathered) {
    std::vector<int64_t> counts(static_cast<size_t>(N));
    for (int r = 0; r < N; ++r) counts[r] = std::max<int64_t>(0, kinds[r][k]);
    gather_sparse(k, counts, w);
  }
  if (options_.overlap && !planned_) make_plan(kinds);
}

// From the first step's kinds (the same on every rank): the parameters with a dense gradient on
// some rank and a row-sparse one on none, bucketed as sync_unplanned buckets them.
void GradientSync::make_plan(const std::vector<std::vector<int64_t>>& kinds) {
  const size_t P = params_.size();
  plan_ = Plan{};
  plan_.bucket_of.assign(P, -1);
  plan_.segment_of.assign(P, 0);
  plan_.flag_of.assign(P, 0);
  Packer packer(options_);
  for (size_t k = P; k-- > 0;) {
    bool any_dense = false, any_sparse = false;
    for (const auto& rank_kinds : kinds) {
      any_dense |= rank_kinds[k] == kDense;
      any_sparse |= rank_kinds[k] >= 0;
    }
    if (!any_dense || any_sparse) continue;
    const int64_t elems = params_[k].numel();
    const auto [bucket, segment] = packer.add(Segment{k, 0, elems, -1}, elems);
    plan_.bucket_of[k] = static_cast<int>(bucket);
    plan_.segment_of[k] = segment;
    plan_.flag_of[k] = plan_.planned.size();
    plan_.planned.push_back(k);
  }
  plan_.buckets = packer.finish();
  if (!plan_.buckets.empty()) {
    Bucket& last = plan_.buckets.back();
    plan_.flags_at = last.elems;
    last.elems += static_cast<int64_t>(plan_.planned.size()) + 1;  // the flags, then the weight
  }
  for (size_t k : plan_.planned) in_plan_[k] = 1;
  planned_ = true;
}

BackwardObserver GradientSync::begin(double weight) {
  check_weight(weight, comm_.who());
  step_ = Step{};
  if (!options_.overlap || !planned_ || plan_.buckets.empty() ||
      (comm_.world_size() == 1 && !options_.exchange_alone))
    return {};
  NoGradGuard no_grad;
  const Device dev = comm_.device();
  step_.active = true;
  step_.in_backward = true;
  step_.weight = weight;
  ignore_local_ = weight == 0;
  for (const Bucket& b : plan_.buckets) step_.flats.push_back(Tensor::empty({b.elems}, DType::f32, dev));
  step_.filled.assign(plan_.buckets.size(), 0);
  step_.done.assign(params_.size(), 0);
  fill_f32(step_.flats.back().data<float>() + plan_.flags_at + static_cast<int64_t>(plan_.planned.size()), 1,
           static_cast<float>(weight), dev);
  BackwardObserver observer;
  // Planned parameters this backward does not reach are complete already (as zeros, or the
  // gradient a fused step set): otherwise one unused parameter would hold back every bucket after it.
  observer.on_graph = [this](const std::vector<const TensorImpl*>& leaves) {
    for (size_t k : plan_.planned)
      if (std::find(leaves.begin(), leaves.end(), params_[k].impl()) == leaves.end()) planned_ready(k);
  };
  observer.on_leaf_ready = [this](const TensorImpl& leaf) {
    for (size_t k = 0; k < params_.size(); ++k)
      if (params_[k].impl() == &leaf) return planned_ready(k);
  };
  return observer;
}

void GradientSync::planned_ready(size_t k) {
  if (!in_plan_[k] || step_.done[k]) return;
  fill_planned(k);
  start_full_buckets();
}

// Copies planned parameter k's weighted gradient (zeros without one) and its flag into the step's buckets.
void GradientSync::fill_planned(size_t k) {
  NoGradGuard no_grad;
  const Device dev = comm_.device();
  const Tensor& p = params_[k];
  const auto b = static_cast<size_t>(plan_.bucket_of[k]);
  const Segment& seg = plan_.buckets[b].segments[plan_.segment_of[k]];
  CUREC_CHECK(!p.has_sparse_grad(), "GradientSync::sync on ", comm_.who(), ": ", name(k),
              " has a row-sparse gradient, but it had a dense one at the first step, when the overlap plan was made; "
              "a parameter's kind of gradient must not change between steps (or set GradSyncOptions::overlap = false)");
  const bool has = !ignore_local_ && p.grad().defined();
  float* dst = step_.flats[b].data<float>() + seg.offset;
  if (has) {
    const Tensor& g = p.grad();
    CUREC_CHECK(g.shape() == p.shape() && g.dtype() == DType::f32 && g.device() == p.device(), "GradientSync::sync on ",
                comm_.who(), ": the gradient ", g.str(), " of ", name(k), " ", p.str(), " does not match it");
    scale_copy(dst, g.data<float>(), seg.numel, static_cast<float>(step_.weight), dev);
  } else {
    fill_f32(dst, seg.numel, 0.0f, dev);
  }
  fill_f32(step_.flats.back().data<float>() + plan_.flags_at + static_cast<int64_t>(plan_.flag_of[k]), 1,
           has ? 1.0f : 0.0f, dev);
  step_.all_local &= has;
  step_.done[k] = 1;
  ++step_.filled[b];
}

// Starts, in bucket order, every bucket whose parameters are all copied in.
void GradientSync::start_full_buckets() {
  while (step_.started < plan_.buckets.size() &&
         step_.filled[step_.started] == plan_.buckets[step_.started].segments.size()) {
    comm_.all_reduce_start(step_.flats[step_.started], ReduceOp::sum);
    if (step_.in_backward) ++step_.overlapped;
    ++step_.started;
  }
}

void GradientSync::finish_overlapped(double weight) {
  CUREC_CHECK(weight == step_.weight, "GradientSync::sync on ", comm_.who(), ": weight ", weight,
              " differs from the ", step_.weight, " given to begin() for this step");
  step_.in_backward = false;
  for (size_t k : plan_.planned)
    if (!step_.done[k]) fill_planned(k);  // backward did not reach it (or the task ran none)
  start_full_buckets();
  comm_.complete_started();
  const auto F = static_cast<int64_t>(plan_.planned.size());
  const bool check_now = options_.check_weights && ++overlapped_steps_ % options_.weight_check_every == 0;
  // Where this rank gave every planned gradient, each flag is >= 1 without reading it.
  std::vector<float> tail(static_cast<size_t>(F + 1), 1.0f);
  if (check_now || !step_.all_local) {
    comm_.synchronize();  // the tail is read on the host: wait within the timeout
    tail = step_.flats.back().rows(plan_.flags_at, F + 1).to_vector<float>();
    ++last_.host_waits;
  }
  if (check_now)
    CUREC_CHECK(std::fabs(tail.back() - 1.0f) <= 1e-5f, "GradientSync::sync: the ranks' weights add up to ", tail.back(),
                ", not 1 (at overlapped step ", overlapped_steps_, "); each rank's weight is its examples / the global "
                "batch's examples (shard_weight), with every rank's gradient that of its own shard's mean loss");
  for (size_t b = 0; b < plan_.buckets.size(); ++b) {
    const Bucket& bucket = plan_.buckets[b];
    last_.allreduce_bytes += bucket.elems * 4;
    last_.collectives += 1;
    last_.buckets += 1;
    for (const Segment& seg : bucket.segments) {
      Tensor& p = params_[seg.param];
      p.zero_grad();
      if (tail[plan_.flag_of[seg.param]] > 0) {  // some rank had it
        p.set_grad(step_.flats[b].rows(seg.offset, seg.numel).view(p.shape()));
        ++last_.dense;
      } else {
        ++last_.skipped;
      }
    }
  }
  last_.overlapped = step_.overlapped;
  step_.active = false;
  if (plan_.planned.size() < params_.size()) sync_unplanned(weight);
}

void GradientSync::reduce_buckets(const std::vector<Bucket>& buckets, float weight) {
  NoGradGuard no_grad;
  const Device dev = comm_.device();
  for (const Bucket& b : buckets) {
    Tensor flat = Tensor::empty({b.elems}, DType::f32, dev);
    float* base = flat.data<float>();
    for (const Segment& s : b.segments) {
      Tensor& p = params_[s.param];
      float* dst = base + s.offset;
      if (ignore_local_) {
        fill_f32(dst, s.numel + (s.mask_offset < 0 ? 0 : p.size(0)), 0.0f, dev);
      } else if (s.mask_offset < 0) {
        if (p.grad().defined()) scale_copy(dst, p.grad().data<float>(), s.numel, weight, dev);
        else if (p.has_sparse_grad() && p.sparse_grad_indices().size(0) > 0) {  // dense elsewhere: densify
          Tensor d = scatter_add_rows(p.sparse_grad_rows(), p.sparse_grad_indices(), p.shape(), true);
          scale_copy(dst, d.data<float>(), s.numel, weight, dev);
        } else {
          fill_f32(dst, s.numel, 0.0f, dev);
        }
      } else {
        const int64_t rows = p.size(0);
        if (p.has_sparse_grad() && p.sparse_grad_indices().size(0) > 0) {
          const Tensor& idx = p.sparse_grad_indices();
          Tensor d = scatter_add_rows(p.sparse_grad_rows(), idx, p.shape(), true);
          scale_copy(dst, d.data<float>(), s.numel, weight, dev);
          Tensor touches = scatter_add_rows(Tensor::ones({idx.size(0), 1}, dev), idx, {rows, 1}, true);
          copy_bytes(base + s.mask_offset, dev, touches.data<float>(), dev, static_cast<size_t>(rows) * 4);
        } else {
          fill_f32(dst, s.numel, 0.0f, dev);
          fill_f32(base + s.mask_offset, rows, 0.0f, dev);
        }
      }
    }
    comm_.all_reduce(flat, ReduceOp::sum);
    const bool densified =
        std::any_of(b.segments.begin(), b.segments.end(), [](const Segment& s) { return s.mask_offset >= 0; });
    if (densified) {
      comm_.synchronize();  // the touch counts are read on the host: wait within the timeout
      ++last_.host_waits;
    }
    last_.allreduce_bytes += b.elems * 4;
    last_.collectives += 1;
    last_.buckets += 1;
    for (const Segment& s : b.segments) {
      Tensor& p = params_[s.param];
      Tensor sum = flat.rows(s.offset, s.numel).view(p.shape());
      p.zero_grad();
      if (s.mask_offset < 0) {
        p.set_grad(sum);
        continue;
      }
      // Back to row-sparse: exactly the rows some rank touched, ascending.
      std::vector<float> touches = flat.rows(s.mask_offset, p.size(0)).to_vector<float>();
      std::vector<int64_t> touched;
      for (size_t r = 0; r < touches.size(); ++r)
        if (touches[r] > 0) touched.push_back(static_cast<int64_t>(r));
      Tensor idx = Tensor::from_vector<int64_t>(touched, {static_cast<int64_t>(touched.size())}, dev);
      Tensor rows = gather_rows(sum, idx, "GradientSync");
      p.set_sparse_grad(idx, rows);
    }
  }
}

void GradientSync::gather_sparse(size_t k, const std::vector<int64_t>& counts, float weight) {
  NoGradGuard no_grad;
  Tensor& p = params_[k];
  const Device dev = comm_.device();
  Shape rows_shape = p.shape();
  Tensor idx, rows;
  if (p.has_sparse_grad() && !ignore_local_) {
    idx = p.sparse_grad_indices();
    const Tensor& g = p.sparse_grad_rows();
    rows = Tensor::empty(g.shape(), DType::f32, dev);
    scale_copy(rows.data<float>(), g.data<float>(), g.numel(), weight, dev);
  } else {
    idx = Tensor::empty({0}, DType::i64, dev);
    rows_shape[0] = 0;
    rows = Tensor::empty(rows_shape, DType::f32, dev);
  }
  Gathered gi = comm_.all_gather_v(idx, counts);
  Gathered gr = comm_.all_gather_v(rows, counts);
  last_.allgather_bytes += static_cast<int64_t>(gi.data.nbytes() + gr.data.nbytes());
  last_.collectives += 2;
  ++last_.sparse_gathered;
  p.zero_grad();
  p.set_sparse_grad(gi.data, gr.data);
}

// One rank: nothing to exchange; only the weight (1 for the whole batch) applies.
void GradientSync::solo(double weight) {
  if (options_.check_weights)
    CUREC_CHECK(std::fabs(weight - 1.0) <= 1e-6, "GradientSync::sync: the only rank's weight is ", weight,
                ", not 1; with one rank the shard is the whole global batch (shard_weight(n, n) = 1)");
  NoGradGuard no_grad;
  const float w = static_cast<float>(weight);
  for (Tensor& p : params_) {
    if (w == 1.0f) continue;
    if (p.has_sparse_grad()) {
      const Tensor& g = p.sparse_grad_rows();
      Tensor rows = Tensor::empty(g.shape(), DType::f32, g.device());
      scale_copy(rows.data<float>(), g.data<float>(), g.numel(), w, g.device());
      p.set_sparse_grad(p.sparse_grad_indices(), rows);
    } else if (p.grad().defined()) {
      const Tensor& g = p.grad();
      Tensor scaled = Tensor::empty(g.shape(), DType::f32, g.device());
      scale_copy(scaled.data<float>(), g.data<float>(), g.numel(), w, g.device());
      p.set_grad(scaled);
    }
  }
}

}  // namespace curec::dist

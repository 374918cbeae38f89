// One launch at a time per host thread: blocks one after another, each block's threads as
// fibers scheduled round by round (every runnable thread runs until it blocks at a barrier or
// a warp operation, or exits) in the selected order.
#include "grid.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>
#include <vector>

#include "fiber.h"
#include "state.h"

namespace curec_emu {

thread_local const ThreadContext* t_context = nullptr;

namespace {

constexpr size_t kStaticSharedLimit = 48 << 10;

std::atomic<uint64_t> g_threads_run{0};
std::atomic<int> g_order{-1};
std::atomic<uint64_t> g_seed{1};

Order order_from_env() {
  const char* s = std::getenv("CUREC_EMU_ORDER");
  const char* seed = std::getenv("CUREC_EMU_SEED");
  if (seed && *seed) g_seed = std::strtoull(seed, nullptr, 10);
  if (!s || !*s || std::strcmp(s, "in_order") == 0) return Order::in_order;
  if (std::strcmp(s, "reversed") == 0) return Order::reversed;
  if (std::strcmp(s, "random") == 0) return Order::random;
  // Test machinery: a setting it cannot honour stops the run rather than testing something else.
  std::fprintf(stderr, "curec emulator: CUREC_EMU_ORDER=%s: use in_order, reversed or random\n", s);
  std::exit(2);
}

// A kernel fault unwinds nothing: the faulting fiber switches to the scheduler and is dropped.
struct EmuThread;
struct WarpOp {
  WarpKind kind;
  unsigned mask, arrived = 0;
  int width;
  const char* file;
  int line;
};
enum class State { runnable, barrier, warp, done };
struct EmuThread {
  Fiber fiber;
  ThreadContext ctx;
  int linear = 0, warp = 0, lane = 0;
  State state = State::runnable;
  bool started = false;
  const char* file = nullptr;  // where it waits
  int line = 0;
  int predicate = 0;
  uint64_t value = 0, result = 0;
  int arg = 0;
  WarpOp* op = nullptr;
};

struct SharedVar {
  const char* key;
  void* p;
  size_t bytes;
};

const char* warp_kind_name(WarpKind k) {
  switch (k) {
    case WarpKind::sync: return "__syncwarp";
    case WarpKind::shfl_idx: return "__shfl_sync";
    case WarpKind::shfl_up: return "__shfl_up_sync";
    case WarpKind::shfl_down: return "__shfl_down_sync";
    case WarpKind::shfl_xor: return "__shfl_xor_sync";
    case WarpKind::ballot: return "__ballot_sync";
    case WarpKind::any: return "__any_sync";
    case WarpKind::all: return "__all_sync";
  }
  return "?";
}

std::string hex(unsigned m) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", m);
  return b;
}

// The block being run on this host thread.
struct Block {
  const KernelSite* kernel;
  Fiber scheduler;
  std::vector<EmuThread> threads;
  std::vector<std::vector<std::unique_ptr<WarpOp>>> warp_ops;  // pending operations per warp
  std::vector<SharedVar> shared;
  size_t static_shared_bytes = 0;
  void* dynamic = nullptr;
  EmuThread* current = nullptr;
  std::string error;  // the launch's first fault
  std::vector<std::unique_ptr<Stack>>* stacks;
  int barrier_result = 0;
  bool direct = false;  // threads run without fibers (a barrier-free kernel)
  size_t runnable = 0;  // threads in State::runnable
  std::vector<std::unique_ptr<WarpOp>> spare_ops;  // completed operations, reused
  std::vector<uint32_t> sequence;  // the order threads run in

  std::string where(const EmuThread& t) const {
    std::ostringstream os;
    os << "kernel " << kernel->name << " (launched at " << kernel->file << ":" << kernel->line << "), block ("
       << t.ctx.block_idx.x << "," << t.ctx.block_idx.y << "," << t.ctx.block_idx.z << "), thread ("
       << t.ctx.thread_idx.x << "," << t.ctx.thread_idx.y << "," << t.ctx.thread_idx.z << ")";
    return os.str();
  }
  EmuThread* lane_thread(int warp, int lane) {
    size_t i = static_cast<size_t>(warp) * 32 + lane;
    return i < threads.size() ? &threads[i] : nullptr;
  }
  void free_shared() {
    for (auto& v : shared) std::free(v.p);
    shared.clear();
    static_shared_bytes = 0;
    std::free(dynamic);
    dynamic = nullptr;
  }
};

thread_local Block* t_block = nullptr;
thread_local std::vector<std::unique_ptr<Stack>> t_stacks;  // free stacks of this host thread
thread_local uint64_t t_launches = 0;

// Switches from the running thread back to the scheduler; returns when it is resumed.
void block_on(EmuThread& t) {
  --t_block->runnable;
  Fiber::switch_to(t.fiber, t_block->scheduler);
}

// Thrown to end the thread that faulted: unwinding its stack frees what its frames own (the
// fault's own message among them), where a fiber simply dropped would leak it.
struct KernelAbort {};

[[noreturn]] void fail_here(const std::string& message) {
  Block& b = *t_block;
  if (b.error.empty()) b.error = message;
  throw KernelAbort{};
}

struct Body {
  void (*fn)(void*);
  void* args;
};
thread_local Body t_body;

// A lane leaving the kernel while lanes of its warp wait for it in a warp operation.
void check_exit(Block& b, EmuThread& t) {
  for (auto& op : b.warp_ops[t.warp])
    if (op->mask >> t.lane & 1u) {
      std::ostringstream os;
      os << b.where(t) << ": lane " << t.lane << " exited while lanes " << hex(op->arrived) << " of its warp wait for it at "
         << warp_kind_name(op->kind) << "(" << hex(op->mask) << ") at " << op->file << ":" << op->line
         << "; every lane a mask names must reach the operation";
      if (b.error.empty()) b.error = os.str();
    }
}

// Runs the kernel body as thread t to its end, on a fiber or not: a fault (KernelAbort) or an
// exception ends the thread, with the launch's error said once.
void run_body(Block& b, EmuThread& t) {
  try {
    t_body.fn(t_body.args);
  } catch (const KernelAbort&) {
  } catch (const std::exception& e) {
    if (b.error.empty()) b.error = b.where(t) + ": threw " + e.what();
  } catch (...) {
    if (b.error.empty()) b.error = b.where(t) + ": threw an exception";
  }
  t.state = State::done;
}

void thread_entry(void* arg) {
  auto& t = *static_cast<EmuThread*>(arg);
  Block& b = *t_block;
  Fiber::entered(b.scheduler);
  run_body(b, t);
  --b.runnable;
  if (b.error.empty()) check_exit(b, t);
  Fiber::switch_to(t.fiber, b.scheduler, true);
  __builtin_unreachable();
}

void run_thread(Block& b, EmuThread& t) {
  if (!t.started) {
    t.started = true;
    if (b.stacks->empty()) b.stacks->push_back(std::make_unique<Stack>());
    t.fiber.start(b.stacks->back().release(), thread_entry, &t);
    b.stacks->pop_back();
    g_threads_run.fetch_add(1, std::memory_order_relaxed);
  }
  b.current = &t;
  t_context = &t.ctx;
  Fiber::switch_to(b.scheduler, t.fiber);
  t_context = nullptr;
  b.current = nullptr;
  if (t.state == State::done && t.fiber.stack()) {
    b.stacks->emplace_back(t.fiber.stack());
    t.fiber = Fiber();
  }
}

// Nothing is runnable: release the barrier or name why the block cannot go on.
bool resolve_barrier(Block& b) {
  EmuThread *at_barrier = nullptr, *waiting = nullptr, *exited = nullptr, *other_site = nullptr;
  for (auto& t : b.threads) {
    if (t.state == State::barrier) {
      if (!at_barrier) at_barrier = &t;
      else if (!other_site && (t.line != at_barrier->line || std::strcmp(t.file, at_barrier->file) != 0)) other_site = &t;
    } else if (t.state == State::warp && !waiting) {
      waiting = &t;
    } else if (t.state == State::done && !exited) {
      exited = &t;
    }
  }
  std::ostringstream os;
  if (waiting) {
    WarpOp& op = *waiting->op;
    os << b.where(*waiting) << " waits forever at " << warp_kind_name(op.kind) << "(" << hex(op.mask) << ") at " << op.file
       << ":" << op.line << ": lanes " << hex(op.mask & ~op.arrived) << " of its warp never arrive";
    if (at_barrier) os << " (thread " << at_barrier->linear << " waits at __syncthreads at " << at_barrier->file << ":" << at_barrier->line << ")";
    os << "; every lane a mask names must reach the same warp operation";
  } else if (exited && at_barrier) {
    os << b.where(*at_barrier) << " waits at __syncthreads at " << at_barrier->file << ":" << at_barrier->line
       << ", which thread (" << exited->ctx.thread_idx.x << "," << exited->ctx.thread_idx.y << "," << exited->ctx.thread_idx.z
       << ") never reaches (it exited); every thread of the block must reach each __syncthreads";
  } else if (other_site) {
    os << b.where(*at_barrier) << " waits at __syncthreads at " << at_barrier->file << ":" << at_barrier->line << " while thread ("
       << other_site->ctx.thread_idx.x << "," << other_site->ctx.thread_idx.y << "," << other_site->ctx.thread_idx.z
       << ") waits at another one, at " << other_site->file << ":" << other_site->line
       << "; every thread of the block must reach the same __syncthreads";
  } else if (at_barrier) {
    int count = 0;
    for (auto& t : b.threads) count += t.predicate != 0;
    b.barrier_result = count;  // _count, _and and _or are all read off the count
    for (auto& t : b.threads) t.state = State::runnable;
    b.runnable = b.threads.size();
    return true;
  } else {
    return false;  // every thread is done
  }
  if (b.error.empty()) b.error = os.str();
  return false;
}

// A barrier-free block: each thread runs to its end on this stack, in the selected order.
bool run_block_direct(Block& b, std::mt19937_64& rng) {
  if (order() == Order::random) std::shuffle(b.sequence.begin(), b.sequence.end(), rng);
  for (uint32_t i : b.sequence) {
    EmuThread& t = b.threads[i];
    b.current = &t;
    t_context = &t.ctx;
    run_body(b, t);
    if (!b.error.empty()) break;
  }
  t_context = nullptr;
  b.current = nullptr;
  g_threads_run.fetch_add(b.threads.size(), std::memory_order_relaxed);
  return b.error.empty();
}

// Runs one block; false when it faulted (b.error says why).
bool run_block(Block& b, std::mt19937_64& rng) {
  if (b.direct) return run_block_direct(b, rng);
  const bool random = order() == Order::random;
  if (random) std::shuffle(b.sequence.begin(), b.sequence.end(), rng);
  b.runnable = b.threads.size();
  while (true) {
    for (uint32_t i : b.sequence) {
      EmuThread& t = b.threads[i];
      if (t.state != State::runnable) continue;
      run_thread(b, t);
      if (!b.error.empty()) return false;
    }
    if (b.runnable) {  // a warp operation completed for lanes the round had passed
      if (random) std::shuffle(b.sequence.begin(), b.sequence.end(), rng);
      continue;
    }
    if (!resolve_barrier(b)) return b.error.empty();
  }
}

std::string dims(dim3 d) {
  std::ostringstream os;
  os << "(" << d.x << "," << d.y << "," << d.z << ")";
  return os.str();
}

bool fibers_forced() {
  static const bool all = [] {
    const char* s = std::getenv("CUREC_EMU_FIBERS");
    if (s && *s && std::strcmp(s, "all") != 0) {
      std::fprintf(stderr, "curec emulator: CUREC_EMU_FIBERS=%s: the only setting is all\n", s);
      std::exit(2);
    }
    return s && *s;
  }();
  return all;
}

}  // namespace

void set_order(Order o, uint64_t seed) {
  g_order = static_cast<int>(o);
  g_seed = seed;
}
Order order() {
  int o = g_order.load();
  if (o < 0) {
    int from_env = static_cast<int>(order_from_env());
    g_order.compare_exchange_strong(o, from_env);
    return static_cast<Order>(g_order.load());
  }
  return static_cast<Order>(o);
}
uint64_t threads_run() { return g_threads_run.load(); }

bool check_pointer_argument(const KernelSite& k, int index, const void* p, cudaStream_t stream) {
  if (!p) return true;
  auto a = find_allocation(p);
  int device = stream_device(stream);
  std::ostringstream os;
  os << "launch of kernel " << k.name << " at " << k.file << ":" << k.line << ": pointer argument " << index + 1 << " ("
     << p << ") ";
  if (!a) os << "is not device memory (a host pointer, or memory already freed); pass memory from cudaMalloc";
  else if (a->kind == MemoryKind::device && a->device != device)
    os << "is memory of device " << a->device << ", but the kernel runs on device " << device;
  else
    return true;
  fault(cudaErrorIllegalAddress, os.str());
  return false;
}

void run_grid(const KernelSite& k, dim3 grid, dim3 block, size_t dynamic_shared, cudaStream_t stream,
              void (*body)(void*), void* args) {
  std::ostringstream bad;
  uint64_t threads = uint64_t(block.x) * block.y * block.z;
  cudaError_t code = cudaErrorInvalidConfiguration;
  if (threads == 0 || threads > 1024 || block.x > 1024 || block.y > 1024 || block.z > 64)
    bad << "block " << dims(block) << " (" << threads
        << " threads): sm_90 allows 1 to 1024 threads a block, at most (1024,1024,64)";
  else if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535)
    bad << "grid " << dims(grid) << ": sm_90 allows 1 to (2147483647,65535,65535) blocks";
  else if (dynamic_shared > max_dynamic_shared(k.function)) {
    code = cudaErrorInvalidValue;
    bad << dynamic_shared << " bytes of dynamic shared memory: more than the " << max_dynamic_shared(k.function)
        << " allowed (48 KiB, or what cudaFuncSetAttribute opted into)";
  } else if (stream_device(stream) < 0 || stream_device(stream) >= device_count()) {
    code = cudaErrorInvalidDevice;
    bad << "no device " << stream_device(stream);
  }
  if (!bad.str().empty()) {
    fault(code, "launch of kernel " + std::string(k.name) + " at " + k.file + ":" + std::to_string(k.line) + ": " + bad.str());
    return;
  }

  // Denormals flushed to zero, as nvcc -ftz=true compiles every kernel of the project.
  unsigned mxcsr;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  unsigned ftz = mxcsr | 0x8040u;
  asm volatile("ldmxcsr %0" : : "m"(ftz));

  Block b;
  b.kernel = &k;
  b.direct = k.barrier_free && !fibers_forced();
  b.stacks = &t_stacks;
  Block* outer = t_block;
  t_block = &b;
  Body saved_body = t_body;
  t_body = Body{body, args};
  std::mt19937_64 rng(g_seed.load() * 0x9E3779B97F4A7C15ull + ++t_launches);

  uint64_t blocks = uint64_t(grid.x) * grid.y * grid.z;
  bool reversed = order() == Order::reversed, random = order() == Order::random;
  uint64_t stride = 1, start = 0;
  if (random) {  // a random odd stride through the blocks: every block once, in a scrambled order
    stride = (rng() % blocks) | 1;
    while (std::gcd(stride, blocks) != 1) stride += 2;
    start = rng() % blocks;
  }
  b.threads.resize(threads);
  b.warp_ops.resize((threads + 31) / 32);
  for (uint64_t i = 0; i < threads; ++i) {
    EmuThread& t = b.threads[i];
    t.linear = static_cast<int>(i);
    t.warp = static_cast<int>(i / 32);
    t.lane = static_cast<int>(i % 32);
    t.ctx = ThreadContext{uint3{static_cast<unsigned>(i % block.x), static_cast<unsigned>(i / block.x % block.y),
                                static_cast<unsigned>(i / (uint64_t(block.x) * block.y))},
                          uint3{0, 0, 0}, block, grid};
  }
  b.sequence.resize(threads);
  std::iota(b.sequence.begin(), b.sequence.end(), 0u);
  if (reversed) std::reverse(b.sequence.begin(), b.sequence.end());
  for (uint64_t n = 0; n < blocks; ++n) {
    uint64_t id = random ? (start + n * stride) % blocks : reversed ? blocks - 1 - n : n;
    uint3 bi{static_cast<unsigned>(id % grid.x), static_cast<unsigned>(id / grid.x % grid.y),
             static_cast<unsigned>(id / (uint64_t(grid.x) * grid.y))};
    for (auto& t : b.threads) {
      t.fiber = Fiber();
      t.state = State::runnable;
      t.started = false;
      t.op = nullptr;
      t.ctx.block_idx = bi;
    }
    if (dynamic_shared) {
      b.dynamic = std::malloc(dynamic_shared);
      std::memset(b.dynamic, 0xFF, dynamic_shared);
    }
    bool ok = run_block(b, rng);
    // Fibers a fault left suspended are dropped; their stacks go back to the pool.
    for (auto& t : b.threads)
      if (t.fiber.stack()) t_stacks.emplace_back(t.fiber.stack());
    for (auto& ops : b.warp_ops) ops.clear();
    b.free_shared();
    if (!ok) break;
  }
  t_block = outer;
  t_body = saved_body;
  asm volatile("ldmxcsr %0" : : "m"(mxcsr));
  if (!b.error.empty()) fault(cudaErrorLaunchFailure, b.error);
}

// ---- built-ins ----

[[noreturn]] void blocking_in_direct(const char* what, const char* file, int line) {
  fail_here(t_block->where(*t_block->current) + ": " + what + " at " + file + ":" + std::to_string(line) +
            " in a kernel cudaemu/rewrite.py read as barrier-free (no barrier or warp operation in its source, "
            "perhaps one hidden in a macro or another file's function); run with CUREC_EMU_FIBERS=all");
}

int syncthreads(const char* file, int line, BarrierReduce reduce, int predicate) {
  Block& b = *t_block;
  if (b.direct) blocking_in_direct("__syncthreads", file, line);
  EmuThread& t = *b.current;
  t.state = State::barrier;
  t.file = file;
  t.line = line;
  t.predicate = predicate;
  block_on(t);
  int count = b.barrier_result;
  switch (reduce) {
    case BarrierReduce::none: return 0;
    case BarrierReduce::count: return count;
    case BarrierReduce::all: return count == static_cast<int>(b.threads.size());
    case BarrierReduce::any: return count > 0;
  }
  return 0;
}

uint64_t warp_op(WarpKind kind, const char* file, int line, unsigned mask, uint64_t value, int arg, int width) {
  Block& b = *t_block;
  if (b.direct) blocking_in_direct(warp_kind_name(kind), file, line);
  EmuThread& t = *b.current;
  auto fail = [&](const std::string& why) {
    fail_here(b.where(t) + ": " + warp_kind_name(kind) + "(" + hex(mask) + ") at " + file + ":" + std::to_string(line) + ": " + why);
  };
  if (!(mask >> t.lane & 1u)) fail("the calling lane " + std::to_string(t.lane) + " is not in the mask");
  auto& ops = b.warp_ops[t.warp];
  WarpOp* op = nullptr;
  for (auto& o : ops) {
    if (!(o->mask & mask)) continue;
    if (o->mask != mask || o->kind != kind)
      fail(std::string("lanes ") + hex(o->arrived) + " wait at " + warp_kind_name(o->kind) + "(" + hex(o->mask) + ") at " +
           o->file + ":" + std::to_string(o->line) + ", whose mask overlaps this one: the lanes diverged");
    op = o.get();
  }
  if (!op) {
    // The first lane to arrive checks the mask; a lane that exits later is caught at its exit.
    if (width < 1 || width > 32 || (width & (width - 1))) fail("width " + std::to_string(width) + " is not a power of two up to 32");
    for (int l = 0; l < 32; ++l) {
      if (!(mask >> l & 1u)) continue;
      EmuThread* other = b.lane_thread(t.warp, l);
      if (!other) fail("the mask names lane " + std::to_string(l) + ", which does not exist (the block has " + std::to_string(b.threads.size()) + " threads)");
      if (other->state == State::done) fail("the mask names lane " + std::to_string(l) + ", which has exited");
    }
    if (b.spare_ops.empty()) b.spare_ops.push_back(std::make_unique<WarpOp>());
    ops.push_back(std::move(b.spare_ops.back()));
    b.spare_ops.pop_back();
    op = ops.back().get();
    *op = WarpOp{kind, mask, 0, width, file, line};
  }
  if (op->width != width) fail("lanes disagree on the width");
  t.value = value;
  t.arg = arg;
  t.op = op;
  op->arrived |= 1u << t.lane;
  if (op->arrived != op->mask) {
    t.state = State::warp;
    t.file = file;
    t.line = line;
    block_on(t);
    return t.result;
  }
  // Every lane is here: compute each one's result.
  unsigned votes = 0;
  for (int l = 0; l < 32; ++l)
    if (mask >> l & 1u && b.lane_thread(t.warp, l)->value) votes |= 1u << l;
  for (int l = 0; l < 32; ++l) {
    if (!(mask >> l & 1u)) continue;
    EmuThread& x = *b.lane_thread(t.warp, l);
    int seg = l & ~(width - 1), in = l & (width - 1), src = l;
    switch (kind) {
      case WarpKind::shfl_idx: src = seg + (x.arg & (width - 1)); break;
      case WarpKind::shfl_up: src = in - x.arg >= 0 ? l - x.arg : l; break;
      case WarpKind::shfl_down: src = in + x.arg < width ? l + x.arg : l; break;
      case WarpKind::shfl_xor: src = ((l ^ x.arg) & ~(width - 1)) == seg ? (l ^ x.arg) : l; break;
      default: break;
    }
    switch (kind) {
      case WarpKind::sync: x.result = 0; break;
      case WarpKind::ballot: x.result = votes; break;
      case WarpKind::any: x.result = votes != 0; break;
      case WarpKind::all: x.result = votes == mask; break;
      default:
        // A source lane outside the mask gives an undefined value: poison it.
        x.result = (src >= 0 && src < 32 && (mask >> src & 1u)) ? b.lane_thread(t.warp, src)->value : ~uint64_t(0);
    }
    x.op = nullptr;
    if (&x != &t) {
      x.state = State::runnable;
      ++b.runnable;
    }
  }
  auto done = std::find_if(ops.begin(), ops.end(), [op](auto& o) { return o.get() == op; });
  b.spare_ops.push_back(std::move(*done));
  ops.erase(done);
  return t.result;
}

unsigned lane_id() { return static_cast<unsigned>(t_block->current->lane); }

unsigned active_mask() {
  Block& b = *t_block;
  EmuThread& t = *b.current;
  unsigned m = 0;
  for (int l = 0; l < 32; ++l) {
    EmuThread* x = b.lane_thread(t.warp, l);
    if (x && x->state != State::done) m |= 1u << l;
  }
  return m;
}

void* shared_static(const char* key, size_t bytes) {
  Block& b = *t_block;
  for (auto& v : b.shared)
    if (v.key == key || std::strcmp(v.key, key) == 0) return v.p;
  b.static_shared_bytes += bytes;
  if (b.static_shared_bytes > kStaticSharedLimit)
    fail_here(b.where(*b.current) + ": " + std::to_string(b.static_shared_bytes) +
              " bytes of static shared memory: sm_90 allows 48 KiB (49152 bytes) a block (ptxas refuses more)");
  void* p = std::malloc(bytes ? bytes : 1);
  std::memset(p, 0xFF, bytes);
  b.shared.push_back(SharedVar{key, p, bytes});
  return p;
}

void* shared_dynamic() {
  Block& b = *t_block;
  if (!b.dynamic) {
    b.dynamic = std::malloc(1);  // none asked for: any access is past the end
  }
  return b.dynamic;
}

void kernel_fault(const std::string& message) { fail_here(t_block->where(*t_block->current) + ": " + message); }

}  // namespace curec_emu

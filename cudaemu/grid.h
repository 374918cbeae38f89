#pragma once
// The execution model of one kernel launch: every block of the grid in turn, a fiber per CUDA
// thread, __syncthreads released only when every thread of the block has arrived at the same
// barrier, warp operations as rendezvous of the lanes their mask names, shared memory per
// block. What the forced-include header (include/curec_emu.h) turns CUDA's built-ins into.
#include <cstddef>
#include <cstdint>
#include <string>

#include <cuda_runtime_api.h>
#include <vector_types.h>

namespace curec_emu {

// What a launch names in its messages: the kernel and where it was launched from.
struct KernelSite {
  const char* name;
  const char* file;
  int line;
  const void* function;
  // No barrier or warp operation in the kernel's source (rewrite.py's reading): its threads run
  // one after another without fibers, much faster. A blocking built-in reached anyway fails the
  // launch; $CUREC_EMU_FIBERS=all runs every kernel on fibers.
  bool barrier_free = false;
};

// The order in which runnable threads (and blocks) run: code that relies on an order the GPU
// does not promise fails in one of them. Default: $CUREC_EMU_ORDER (in_order, reversed or
// random) and $CUREC_EMU_SEED.
enum class Order { in_order, reversed, random };
void set_order(Order order, uint64_t seed);
Order order();

// Checks the launch configuration against sm_90's limits, then runs body(args) once per thread
// of the grid. A bad configuration or a fault while running (a barrier not every thread
// reaches, a warp mask naming a lane that exited, ...) raises a fault (state.h) naming the
// kernel, block and thread; the rest of the grid is not run.
void run_grid(const KernelSite& kernel, dim3 grid, dim3 block, size_t dynamic_shared, cudaStream_t stream,
              void (*body)(void* args), void* args);
// Checks pointer argument `index` of a launch: null, or device memory of the launch's device
// (or pinned host memory). false after raising a fault.
bool check_pointer_argument(const KernelSite& kernel, int index, const void* p, cudaStream_t stream);

// Emulated threads run so far by this process (for the emulator's speed figure).
uint64_t threads_run();

// ---- inside a kernel ----
struct ThreadContext {
  uint3 thread_idx;
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
};
extern thread_local const ThreadContext* t_context;
inline const ThreadContext& context() { return *t_context; }

enum class BarrierReduce { none, count, all, any };
int syncthreads(const char* file, int line, BarrierReduce reduce = BarrierReduce::none, int predicate = 0);

enum class WarpKind { sync, shfl_idx, shfl_up, shfl_down, shfl_xor, ballot, any, all };
// A warp rendezvous: waits until every lane of `mask` is at the same operation, then returns
// this lane's result (a shuffle's 64 bits, a vote's word).
uint64_t warp_op(WarpKind kind, const char* file, int line, unsigned mask, uint64_t value, int arg, int width);
unsigned active_mask();
unsigned lane_id();

// Shared memory of the running block: a static __shared__ variable (one allocation per
// declaration, named by `key`), or the launch's dynamic (extern) shared memory. Both start
// filled with 0xFF bytes (NaN as float), so a read before a write shows.
void* shared_static(const char* key, size_t bytes);
void* shared_dynamic();

// Fails the launch from inside a kernel with `message` (this thread is not resumed).
[[noreturn]] void kernel_fault(const std::string& message);

}  // namespace curec_emu

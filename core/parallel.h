#pragma once
// curec's CPU parallelism: one thread pool (core/thread_pool.h) shared by every CPU loop.
//
//   parallel_for(0, n, 32768, [&](int64_t b, int64_t e) { for (int64_t i = b; i < e; ++i) y[i] = f(x[i]); });
//
// A range of at most `grain` elements, a pool of one thread, or a call from inside another
// parallel_for (nested) runs inline on the calling thread, with no pool overhead. Otherwise the
// range is cut into contiguous pieces that the pool's threads and the caller share. How it is
// cut depends on the thread count, so `fn` must compute the same whatever pieces it gets
// (element-wise work); a sum over the range belongs in parallel_reduce, whose pieces are fixed.
// An exception thrown by `fn` is rethrown to the caller once every piece has stopped.
//
// Threads: CUREC_CPU_THREADS if set (a positive integer), else the cores this process may run
// on; set_cpu_threads changes it. Every pool thread has denormals flushed (core/denormals.h).
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace curec {

// Elements of simple element-wise work (a few operations each) below which a loop is not worth
// splitting: waking the pool costs about as much as 32K such elements on one core.
inline constexpr int64_t kCpuGrain = int64_t{1} << 15;

// The number of threads CPU loops use (the caller included): at least 1.
int cpu_threads();
// Sets it (n >= 1). Not from inside a parallel_for; waits for a running one to finish.
void set_cpu_threads(int n);
// Whether the calling thread is running a piece of a parallel_for (where a nested one runs inline).
bool in_parallel_region();

// A non-owning reference to a callable void(int64_t, int64_t): what the pool runs without
// copying or allocating.
class RangeFn {
 public:
  template <class F>
  RangeFn(F& f) : obj_(static_cast<void*>(&f)), call_([](void* o, int64_t b, int64_t e) { (*static_cast<F*>(o))(b, e); }) {}
  void operator()(int64_t b, int64_t e) const { call_(obj_, b, e); }

 private:
  void* obj_;
  void (*call_)(void*, int64_t, int64_t);
};

namespace detail {
// Cuts [begin, end) into pieces of at least `grain` and runs them on the pool.
void parallel_run(int64_t begin, int64_t end, int64_t grain, RangeFn fn);
bool run_inline(int64_t n, int64_t grain);
}  // namespace detail

template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, F&& fn) {
  if (end <= begin) return;
  if (detail::run_inline(end - begin, grain)) {
    fn(begin, end);
    return;
  }
  auto call = [&fn](int64_t b, int64_t e) { fn(b, e); };
  detail::parallel_run(begin, end, grain, RangeFn(call));
}

// A reduction whose result does not depend on the thread count: [begin, end) is cut into
// pieces of `chunk` elements from `begin` (the last one shorter), fixed by the range alone;
// map(b, e) -> T reduces a piece (in parallel), and the pieces' values are folded left to right,
// fold(fold(fold(init, v0), v1), ...). A range of at most `chunk` is fold(init, map(begin, end)).
template <class T, class Map, class Fold>
T parallel_reduce(int64_t begin, int64_t end, int64_t chunk, T init, Map&& map, Fold&& fold) {
  if (end <= begin) return init;
  if (chunk < 1) chunk = 1;
  const int64_t pieces = (end - begin + chunk - 1) / chunk;
  if (pieces == 1) return fold(std::move(init), map(begin, end));
  std::vector<T> partial(static_cast<std::size_t>(pieces));
  parallel_for(0, pieces, 1, [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) {
      const int64_t b = begin + p * chunk;
      partial[static_cast<std::size_t>(p)] = map(b, end - b < chunk ? end : b + chunk);
    }
  });
  for (T& v : partial) init = fold(std::move(init), std::move(v));
  return init;
}

}  // namespace curec

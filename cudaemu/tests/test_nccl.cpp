// The emulated NCCL: ranks on threads (or one thread in a group) of this process, on emulated
// devices, against naive expectations; the failures real NCCL would hang on are errors here.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>
#include <doctest/doctest.h>
#include <nccl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// The 3-rank cases want a third emulated device; the emulator reads this at its first use.
[[maybe_unused]] const bool more_devices = [] { return setenv("CUREC_EMU_DEVICES", "4", 0) == 0; }();

int devices() {
  int n = 0;
  cudaGetDeviceCount(&n);
  return n;
}

std::vector<int> rank_counts() {
  if (devices() >= 3) return {2, 3};
  MESSAGE("only ", devices(), " emulated devices: the 3-rank cases are skipped");
  return {2};
}

struct EnvVar {  // set for one test case, then as before
  std::string name, old;
  bool had;
  EnvVar(const char* n, const char* value) : name(n), had(std::getenv(n) != nullptr) {
    if (had) old = std::getenv(n);
    setenv(n, value, 1);
  }
  ~EnvVar() { had ? setenv(name.c_str(), old.c_str(), 1) : unsetenv(name.c_str()); }
};

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// fn(rank) on a thread per rank, with that rank's device current.
void on_ranks(int n, const std::function<void(int)>& fn) {
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r)
    threads.emplace_back([&fn, r] {
      cudaSetDevice(r);
      fn(r);
    });
  for (auto& t : threads) t.join();
}

ncclUniqueId fresh_id() {
  ncclUniqueId id;
  REQUIRE(ncclGetUniqueId(&id) == ncclSuccess);
  return id;
}

// Blocking communicators of ranks 0..n-1 on devices 0..n-1, each made on its own thread.
std::vector<ncclComm_t> make_comms(int n) {
  const ncclUniqueId id = fresh_id();
  std::vector<ncclComm_t> comms(static_cast<size_t>(n));
  std::vector<ncclResult_t> res(static_cast<size_t>(n));
  on_ranks(n, [&](int r) { res[r] = ncclCommInitRank(&comms[r], n, id, r); });
  for (ncclResult_t r : res) REQUIRE(r == ncclSuccess);
  return comms;
}

void destroy(const std::vector<ncclComm_t>& comms) {
  for (ncclComm_t c : comms) CHECK(ncclCommDestroy(c) == ncclSuccess);
}

ncclResult_t settle(ncclComm_t comm, double timeout_s = 10) {
  const auto start = Clock::now();
  ncclResult_t state = ncclInProgress;
  while (state == ncclInProgress && seconds_since(start) < timeout_s) {
    if (ncclCommGetAsyncError(comm, &state) != ncclSuccess) return ncclInternalError;
    std::this_thread::yield();
  }
  return state;
}

// Device memory on the current device.
template <class T>
struct Buf {
  T* p = nullptr;
  size_t n = 0;
  explicit Buf(size_t count) : n(count) {
    REQUIRE(cudaMalloc(reinterpret_cast<void**>(&p), n * sizeof(T)) == cudaSuccess);
  }
  explicit Buf(const std::vector<T>& v) : Buf(v.size()) { put(v); }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  ~Buf() { cudaFree(p); }
  void put(const std::vector<T>& v) { cudaMemcpy(p, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice); }
  std::vector<T> get() const {
    std::vector<T> v(n);
    cudaMemcpy(v.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost);
    return v;
  }
};

template <class T>
constexpr ncclDataType_t nccl_type() {
  if constexpr (std::is_same_v<T, int8_t>) return ncclInt8;
  else if constexpr (std::is_same_v<T, uint8_t>) return ncclUint8;
  else if constexpr (std::is_same_v<T, int32_t>) return ncclInt32;
  else if constexpr (std::is_same_v<T, uint32_t>) return ncclUint32;
  else if constexpr (std::is_same_v<T, int64_t>) return ncclInt64;
  else if constexpr (std::is_same_v<T, uint64_t>) return ncclUint64;
  else if constexpr (std::is_same_v<T, float>) return ncclFloat32;
  else return ncclFloat64;
}

// The naive reduction, in rank order; integers wrap as the GPU's do; Avg is the sum over n.
template <class T>
std::vector<T> naive(const std::vector<std::vector<T>>& x, size_t count, ncclRedOp_t op) {
  std::vector<T> acc(x[0].begin(), x[0].begin() + static_cast<long>(count));
  for (size_t r = 1; r < x.size(); ++r)
    for (size_t i = 0; i < count; ++i) {
      T a = acc[i], b = x[r][i];
      if constexpr (std::is_integral_v<T>) {
        using U = std::make_unsigned_t<T>;
        const U ua = static_cast<U>(a), ub = static_cast<U>(b);
        if (op == ncclSum || op == ncclAvg) acc[i] = static_cast<T>(static_cast<U>(ua + ub));
        if (op == ncclProd) acc[i] = static_cast<T>(static_cast<U>(ua * ub));
      } else {
        if (op == ncclSum || op == ncclAvg) acc[i] = a + b;
        if (op == ncclProd) acc[i] = a * b;
      }
      if (op == ncclMax) acc[i] = std::max(a, b);
      if (op == ncclMin) acc[i] = std::min(a, b);
    }
  if (op == ncclAvg)
    for (T& a : acc) a = static_cast<T>(a / static_cast<T>(x.size()));
  return acc;
}

template <class T>
std::vector<T> random_values(size_t n, std::mt19937& g) {
  std::vector<T> v(n);
  for (T& e : v) {
    if constexpr (std::is_integral_v<T>) e = static_cast<T>(std::uniform_int_distribution<int>(1, 100)(g) *
                                                           (std::is_signed_v<T> && g() % 2 ? -1 : 1));
    else e = static_cast<T>(std::uniform_real_distribution<double>(0.1, 2.0)(g) * (g() % 2 ? -1 : 1));
  }
  return v;
}

template <class T>
void check_every_collective(const std::vector<ncclComm_t>& comms) {
  const int n = static_cast<int>(comms.size());
  const size_t count = 37, nr = static_cast<size_t>(n);
  const ncclDataType_t type = nccl_type<T>();
  std::mt19937 g(static_cast<unsigned>(7 + n + type));
  std::vector<std::vector<T>> x(nr);
  for (auto& v : x) v = random_values<T>(count * nr, g);
  for (ncclRedOp_t op : {ncclSum, ncclProd, ncclMax, ncclMin, ncclAvg}) {
    CAPTURE(op);
    std::vector<std::vector<T>> all(nr), root(nr), scattered(nr);
    std::vector<std::vector<ncclResult_t>> res(nr);
    on_ranks(n, [&](int r) {
      Buf<T> send(x[r]), a(count), b(count), c(count);
      res[r] = {ncclAllReduce(send.p, a.p, count, type, op, comms[r], nullptr),
                ncclReduce(send.p, r == n - 1 ? b.p : nullptr, count, type, op, n - 1, comms[r], nullptr),
                ncclReduceScatter(send.p, c.p, count, type, op, comms[r], nullptr)};
      all[r] = a.get(), root[r] = b.get(), scattered[r] = c.get();
    });
    const std::vector<T> want = naive(x, count, op), want_all = naive(x, count * nr, op);
    for (size_t r = 0; r < nr; ++r) {
      CHECK(res[r] == std::vector<ncclResult_t>(3, ncclSuccess));
      CHECK(all[r] == want);
      CHECK(scattered[r] == std::vector<T>(want_all.begin() + static_cast<long>(r * count),
                                           want_all.begin() + static_cast<long>((r + 1) * count)));
    }
    CHECK(root[nr - 1] == want);
  }
  std::vector<std::vector<T>> bcast(nr), gathered(nr);
  std::vector<ncclResult_t> res(nr * 2);
  on_ranks(n, [&](int r) {
    Buf<T> send(x[r]), a(count), b(count * nr);
    res[r * 2] = ncclBroadcast(r == 1 ? send.p : nullptr, a.p, count, type, 1, comms[r], nullptr);
    res[r * 2 + 1] = ncclAllGather(send.p, b.p, count, type, comms[r], nullptr);
    bcast[r] = a.get(), gathered[r] = b.get();
  });
  std::vector<T> want_gather;
  for (const auto& v : x) want_gather.insert(want_gather.end(), v.begin(), v.begin() + count);
  CHECK(res == std::vector<ncclResult_t>(nr * 2, ncclSuccess));
  for (size_t r = 0; r < nr; ++r) {
    CHECK(bcast[r] == std::vector<T>(x[1].begin(), x[1].begin() + count));
    CHECK(gathered[r] == want_gather);
  }
}

}  // namespace

TEST_CASE("nccl: every collective and reduction op on 2 and 3 ranks gives the naive result") {
  for (int n : rank_counts()) {
    CAPTURE(n);
    auto comms = make_comms(n);
    check_every_collective<int8_t>(comms);
    check_every_collective<uint8_t>(comms);
    check_every_collective<int32_t>(comms);
    check_every_collective<uint32_t>(comms);
    check_every_collective<int64_t>(comms);
    check_every_collective<uint64_t>(comms);
    check_every_collective<float>(comms);
    check_every_collective<double>(comms);
    destroy(comms);
  }
}

TEST_CASE("nccl: 16-bit floats round after each step, as the GPU's conversions do") {
  auto comms = make_comms(2);
  const size_t count = 1 << 16;
  std::mt19937 g(3);
  std::vector<std::vector<uint16_t>> x(2, std::vector<uint16_t>(count));
  for (auto& v : x)
    for (auto& e : v)
      do e = static_cast<uint16_t>(g()); while ((e & 0x7c00u) == 0x7c00u);  // finite halves (and bf16s)
  std::vector<std::vector<uint16_t>> half(2), bf(2);
  on_ranks(2, [&](int r) {
    Buf<uint16_t> send(x[r]), a(count), b(count);
    CHECK(ncclAllReduce(send.p, a.p, count, ncclFloat16, ncclAvg, comms[r], nullptr) == ncclSuccess);
    CHECK(ncclAllReduce(send.p, b.p, count, ncclBfloat16, ncclAvg, comms[r], nullptr) == ncclSuccess);
    half[r] = a.get(), bf[r] = b.get();
  });
  auto as_half = [](uint16_t u) {
    __half_raw raw;
    raw.x = u;
    return __half2float(__half(raw));
  };
  auto as_bf16 = [](uint16_t u) {
    __nv_bfloat16_raw raw;
    raw.x = u;
    return __bfloat162float(__nv_bfloat16(raw));
  };
  size_t wrong_half = 0, wrong_bf = 0;
  for (size_t i = 0; i < count; ++i) {
    const float hs = __half2float(__float2half_rn(as_half(x[0][i]) + as_half(x[1][i])));
    wrong_half += __half_raw(__float2half_rn(hs / 2)).x != half[0][i] || half[1][i] != half[0][i];
    const float bs = __bfloat162float(__float2bfloat16_rn(as_bf16(x[0][i]) + as_bf16(x[1][i])));
    wrong_bf += !(std::isnan(bs) || __nv_bfloat16_raw(__float2bfloat16_rn(bs / 2)).x == bf[0][i]);
  }
  CHECK(wrong_half == 0);
  CHECK(wrong_bf == 0);
  destroy(comms);
}

TEST_CASE("nccl: in-place variants as nccl.h defines them") {
  for (int n : rank_counts()) {
    CAPTURE(n);
    auto comms = make_comms(n);
    const size_t count = 5, nr = static_cast<size_t>(n);
    auto value = [](size_t r, size_t i) { return static_cast<float>(10 * r + i + 1); };
    std::vector<std::vector<float>> ar(nr), bc(nr), red(nr), ag(nr), rs(nr);
    on_ranks(n, [&](int r) {
      const auto ur = static_cast<size_t>(r);
      std::vector<float> mine(count * nr);
      for (size_t i = 0; i < mine.size(); ++i) mine[i] = value(ur, i);
      Buf<float> a(mine), b(mine), c(mine), d(count * nr), e(mine);
      CHECK(ncclAllReduce(a.p, a.p, count, ncclFloat32, ncclSum, comms[r], nullptr) == ncclSuccess);
      CHECK(ncclBroadcast(b.p, b.p, count, ncclFloat32, 0, comms[r], nullptr) == ncclSuccess);
      CHECK(ncclReduce(c.p, c.p, count, ncclFloat32, ncclMax, n - 1, comms[r], nullptr) == ncclSuccess);
      d.put(std::vector<float>(count * nr, -1.0f));
      cudaMemcpy(d.p + ur * count, mine.data(), count * sizeof(float), cudaMemcpyHostToDevice);
      CHECK(ncclAllGather(d.p + ur * count, d.p, count, ncclFloat32, comms[r], nullptr) == ncclSuccess);
      CHECK(ncclReduceScatter(e.p, e.p + ur * count, count, ncclFloat32, ncclSum, comms[r], nullptr) == ncclSuccess);
      ar[ur] = a.get(), bc[ur] = b.get(), red[ur] = c.get(), ag[ur] = d.get(), rs[ur] = e.get();
    });
    for (size_t r = 0; r < nr; ++r)
      for (size_t i = 0; i < count; ++i) {
        float sum = 0, sum_at = 0;
        for (size_t q = 0; q < nr; ++q) sum += value(q, i), sum_at += value(q, r * count + i);
        CHECK(ar[r][i] == sum);
        CHECK(bc[r][i] == value(0, i));
        for (size_t q = 0; q < nr; ++q) CHECK(ag[r][q * count + i] == value(q, i));
        CHECK(rs[r][r * count + i] == sum_at);
        if (r == nr - 1) CHECK(red[r][i] == value(nr - 1, i));
      }
    destroy(comms);
  }
}

TEST_CASE("nccl: one thread drives every rank in groups: ncclCommInitAll, nested groups, non-blocking inits") {
  std::vector<ncclComm_t> comms(2);
  REQUIRE(ncclCommInitAll(comms.data(), 2, nullptr) == ncclSuccess);
  for (int r = 0; r < 2; ++r) {
    int count = 0, device = -1, rank = -1;
    CHECK((ncclCommCount(comms[r], &count) == ncclSuccess && count == 2));
    CHECK((ncclCommCuDevice(comms[r], &device) == ncclSuccess && device == r));
    CHECK((ncclCommUserRank(comms[r], &rank) == ncclSuccess && rank == r));
  }
  std::vector<std::unique_ptr<Buf<int32_t>>> bufs;
  for (int r = 0; r < 2; ++r) {
    cudaSetDevice(r);
    bufs.push_back(std::make_unique<Buf<int32_t>>(std::vector<int32_t>{r + 1, 10 * (r + 1)}));
  }
  cudaSetDevice(0);
  REQUIRE(ncclGroupStart() == ncclSuccess);
  REQUIRE(ncclGroupStart() == ncclSuccess);
  for (int r = 0; r < 2; ++r)
    CHECK(ncclAllReduce(bufs[r]->p, bufs[r]->p, 2, ncclInt32, ncclSum, comms[r], nullptr) == ncclSuccess);
  CHECK(ncclGroupEnd() == ncclSuccess);
  CHECK(bufs[0]->get() == std::vector<int32_t>{1, 10});  // nothing runs before the outermost ncclGroupEnd
  CHECK(ncclGroupEnd() == ncclSuccess);
  for (int r = 0; r < 2; ++r) CHECK(bufs[r]->get() == std::vector<int32_t>{3, 30});
  bufs.clear();
  destroy(comms);

  // nccl_init_all's way: non-blocking inits of every rank in one group, then polled.
  const ncclUniqueId id = fresh_id();
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  REQUIRE(ncclGroupStart() == ncclSuccess);
  for (int r = 0; r < 2; ++r) {
    cudaSetDevice(r);
    const ncclResult_t res = ncclCommInitRankConfig(&comms[r], 2, id, r, &config);
    CHECK((res == ncclSuccess || res == ncclInProgress));
    REQUIRE(comms[r] != nullptr);
  }
  cudaSetDevice(0);
  const ncclResult_t end = ncclGroupEnd();
  CHECK((end == ncclSuccess || end == ncclInProgress));
  for (ncclComm_t c : comms) CHECK(settle(c) == ncclSuccess);
  destroy(comms);
  CHECK(ncclGroupEnd() == ncclInvalidUsage);
}

TEST_CASE("nccl: sends and receives in groups: a ring on threads, and every rank from one thread") {
  for (int n : rank_counts()) {
    CAPTURE(n);
    auto comms = make_comms(n);
    std::vector<std::vector<int64_t>> got(static_cast<size_t>(n));
    on_ranks(n, [&](int r) {
      Buf<int64_t> out(std::vector<int64_t>{r, 100 + r}), in(2), self(2);
      ncclGroupStart();
      ncclSend(out.p, 2, ncclInt64, (r + 1) % n, comms[r], nullptr);
      ncclRecv(in.p, 2, ncclInt64, (r + n - 1) % n, comms[r], nullptr);
      ncclSend(out.p, 2, ncclInt64, r, comms[r], nullptr);  // to itself
      ncclRecv(self.p, 2, ncclInt64, r, comms[r], nullptr);
      CHECK(ncclGroupEnd() == ncclSuccess);
      CHECK(self.get() == out.get());
      got[r] = in.get();
    });
    for (int r = 0; r < n; ++r) CHECK(got[r] == std::vector<int64_t>{(r + n - 1) % n, 100 + (r + n - 1) % n});

    // Rank 0 gathers every rank's value (its own too), all ranks driven from this thread.
    std::vector<std::unique_ptr<Buf<float>>> from;
    for (int r = 0; r < n; ++r) {
      cudaSetDevice(r);
      from.push_back(std::make_unique<Buf<float>>(std::vector<float>{r + 0.5f}));
    }
    cudaSetDevice(0);
    Buf<float> gathered(static_cast<size_t>(n));
    ncclGroupStart();
    for (int r = 0; r < n; ++r) {
      CHECK(ncclSend(from[r]->p, 1, ncclFloat32, 0, comms[r], nullptr) == ncclSuccess);
      if (r == 0)
        for (int q = n - 1; q >= 0; --q)
          CHECK(ncclRecv(gathered.p + q, 1, ncclFloat32, q, comms[0], nullptr) == ncclSuccess);
    }
    CHECK(ncclGroupEnd() == ncclSuccess);
    std::vector<float> want;
    for (int q = 0; q < n; ++q) want.push_back(q + 0.5f);
    CHECK(gathered.get() == want);
    from.clear();
    destroy(comms);
  }
}

TEST_CASE("nccl: a non-blocking communicator says ncclInProgress until the other ranks arrive") {
  const ncclUniqueId id = fresh_id();
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  cudaSetDevice(0);
  ncclComm_t c0 = nullptr, c1 = nullptr;
  CHECK(ncclCommInitRankConfig(&c0, 2, id, 0, &config) == ncclInProgress);
  ncclResult_t state = ncclSuccess;
  CHECK((ncclCommGetAsyncError(c0, &state) == ncclSuccess && state == ncclInProgress));
  std::thread t([&] {
    cudaSetDevice(1);
    const ncclResult_t r = ncclCommInitRankConfig(&c1, 2, id, 1, &config);
    CHECK((r == ncclSuccess || r == ncclInProgress));
    CHECK(settle(c1) == ncclSuccess);
  });
  t.join();
  CHECK(settle(c0) == ncclSuccess);

  Buf<double> a(std::vector<double>{1.5, 2.5});
  CHECK(ncclAllReduce(a.p, a.p, 2, ncclFloat64, ncclAvg, c0, nullptr) == ncclInProgress);
  CHECK((ncclCommGetAsyncError(c0, &state) == ncclSuccess && state == ncclInProgress));
  std::thread t1([&] {
    cudaSetDevice(1);
    Buf<double> b(std::vector<double>{3.5, 4.5});
    CHECK(ncclAllReduce(b.p, b.p, 2, ncclFloat64, ncclAvg, c1, nullptr) == ncclSuccess);  // the last rank runs it
    CHECK(b.get() == std::vector<double>{2.5, 3.5});
    CHECK(ncclCommFinalize(c1) == ncclSuccess);
    CHECK(ncclCommDestroy(c1) == ncclSuccess);
  });
  t1.join();
  CHECK(settle(c0) == ncclSuccess);
  CHECK(a.get() == std::vector<double>{2.5, 3.5});
  const ncclResult_t fin = ncclCommFinalize(c0);
  CHECK((fin == ncclSuccess || fin == ncclInProgress));
  CHECK(settle(c0) == ncclSuccess);
  CHECK(ncclCommDestroy(c0) == ncclSuccess);
}

TEST_CASE("nccl: nccl_communicator.cu's way: non-blocking ranks made in one group, on threads, polling each call") {
  const int n = 2;
  const ncclUniqueId id = fresh_id();
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  std::vector<ncclComm_t> comms(n);
  REQUIRE(ncclGroupStart() == ncclSuccess);
  for (int r = 0; r < n; ++r) {
    cudaSetDevice(r);
    ncclCommInitRankConfig(&comms[r], n, id, r, &config);
  }
  cudaSetDevice(0);
  ncclGroupEnd();
  for (ncclComm_t c : comms) REQUIRE(settle(c) == ncclSuccess);
  std::vector<int> wrong(n);
  on_ranks(n, [&](int r) {
    ncclComm_t c = comms[r];
    auto done = [&](ncclResult_t res) {
      return res == ncclSuccess || (res == ncclInProgress && settle(c) == ncclSuccess);
    };
    Buf<float> t(64);
    Buf<int64_t> mine(3), all(3);  // rank q sends its first q + 1 values
    for (int step = 0; step < 200; ++step) {
      t.put(std::vector<float>(64, static_cast<float>(r + step)));
      const ncclRedOp_t op = step % 2 ? ncclAvg : ncclSum;
      if (!done(ncclAllReduce(t.p, t.p, 64, ncclFloat32, op, c, nullptr))) ++wrong[r];
      const float want = step % 2 ? step + 0.5f : 2.0f * step + 1;
      if (t.get() != std::vector<float>(64, want)) ++wrong[r];
      // all_gather_v's unequal counts: a broadcast from each rank into its place, in one group.
      mine.put({r, step, 7});
      ncclGroupStart();
      int64_t* dst = all.p;
      for (int q = 0; q < n; ++q) {
        const size_t rows = static_cast<size_t>(q + 1);
        ncclBroadcast(q == r ? mine.p : nullptr, dst, rows * sizeof(int64_t), ncclUint8, q, c, nullptr);
        dst += rows;
      }
      if (!done(ncclGroupEnd())) ++wrong[r];
      if (all.get() != std::vector<int64_t>{0, 1, step}) ++wrong[r];
    }
    const ncclResult_t fin = ncclCommFinalize(c);
    if (!done(fin) || ncclCommDestroy(c) != ncclSuccess) ++wrong[r];
  });
  CHECK(wrong == std::vector<int>(n, 0));
}

TEST_CASE("nccl: calls that do not match fail on every rank, and the communicators stay failed") {
  auto comms = make_comms(2);
  std::vector<ncclResult_t> first(2), second(2);
  std::vector<std::string> msg(2);
  on_ranks(2, [&](int r) {
    Buf<float> b(8);
    first[r] = ncclAllReduce(b.p, b.p, r == 0 ? 4 : 5, ncclFloat32, ncclSum, comms[r], nullptr);
    msg[r] = ncclGetLastError(comms[r]);
    second[r] = ncclAllReduce(b.p, b.p, 4, ncclFloat32, ncclSum, comms[r], nullptr);
  });
  for (int r = 0; r < 2; ++r) {
    CAPTURE(msg[r]);
    CHECK(first[r] == ncclInvalidUsage);
    CHECK(second[r] == ncclInvalidUsage);
    CHECK(contains(msg[r], "do not match"));
    CHECK(contains(msg[r], "rank 0 called ncclAllReduce(count 4, ncclFloat32, ncclSum)"));
    CHECK(contains(msg[r], "rank 1 called ncclAllReduce(count 5, ncclFloat32, ncclSum)"));
  }
  for (ncclComm_t c : comms) CHECK(ncclCommAbort(c) == ncclSuccess);

  comms = make_comms(2);
  on_ranks(2, [&](int r) {
    Buf<int32_t> b(4);
    first[r] = r == 0 ? ncclAllReduce(b.p, b.p, 4, ncclInt32, ncclMax, comms[r], nullptr)
                      : ncclBroadcast(b.p, b.p, 4, ncclInt32, 0, comms[r], nullptr);
  });
  CHECK(first == std::vector<ncclResult_t>(2, ncclInvalidUsage));
  CHECK(contains(ncclGetLastError(comms[1]), "rank 1 called ncclBroadcast(count 4, ncclInt32, root 0)"));
  for (ncclComm_t c : comms) CHECK(ncclCommAbort(c) == ncclSuccess);
}

TEST_CASE("nccl: a rank that never arrives is an error after $CUREC_EMU_NCCL_TIMEOUT_S, naming it") {
  EnvVar timeout("CUREC_EMU_NCCL_TIMEOUT_S", "0.3");
  std::vector<ncclComm_t> comms(2);
  REQUIRE(ncclCommInitAll(comms.data(), 2, nullptr) == ncclSuccess);
  cudaSetDevice(0);
  Buf<float> a(4);
  auto start = Clock::now();
  CHECK(ncclAllReduce(a.p, a.p, 4, ncclFloat32, ncclSum, comms[0], nullptr) == ncclSystemError);
  CHECK(seconds_since(start) >= 0.25);
  CHECK(seconds_since(start) < 10);
  std::string msg = ncclGetLastError(comms[0]);
  CAPTURE(msg);
  CHECK(contains(msg, "ncclAllReduce (collective #1) on rank 0 of 2 (cuda:0): rank 1 did not arrive within 0.3 s"));
  CHECK(contains(msg, "rank 1's last call: no call yet"));
  cudaSetDevice(1);
  Buf<float> b(4);
  // At once, as a peer's failure (its own timeout would be ncclSystemError).
  CHECK(ncclAllReduce(b.p, b.p, 4, ncclFloat32, ncclSum, comms[1], nullptr) == ncclRemoteError);
  CHECK(contains(ncclGetLastError(comms[1]), "another rank gave up"));
  for (ncclComm_t c : comms) CHECK(ncclCommAbort(c) == ncclSuccess);

  // An init whose other ranks are elsewhere (another process, as under mpirun) or nowhere.
  cudaSetDevice(0);
  ncclComm_t alone = nullptr;
  CHECK(ncclCommInitRank(&alone, 2, fresh_id(), 0) == ncclSystemError);
  msg = ncclGetLastError(alone);
  CHECK(contains(msg, "rank 1 of 2 did not join within 0.3 s"));
  CHECK(contains(msg, "ranks in other processes (mpirun, torchrun) cannot be emulated"));
  CHECK(ncclCommAbort(alone) == ncclSuccess);
  ncclUniqueId foreign;
  std::memset(foreign.internal, 'x', sizeof foreign.internal);
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  CHECK(ncclCommInitRankConfig(&alone, 2, foreign, 1, &config) == ncclInProgress);
  CHECK(settle(alone) == ncclSystemError);
  CHECK(contains(ncclGetLastError(alone), "not made by the emulated ncclGetUniqueId"));
  CHECK(ncclCommAbort(alone) == ncclSuccess);
}

TEST_CASE("nccl: ncclCommAbort from another thread wakes a rank waiting in a call") {
  EnvVar timeout("CUREC_EMU_NCCL_TIMEOUT_S", "60");
  for (int aborted : {0, 1}) {  // its own communicator, then its peer's
    CAPTURE(aborted);
    std::vector<ncclComm_t> comms(2);
    REQUIRE(ncclCommInitAll(comms.data(), 2, nullptr) == ncclSuccess);
    ncclResult_t res = ncclSuccess;
    double waited = 0;
    std::thread waiter([&] {
      cudaSetDevice(0);
      Buf<float> a(4);
      const auto start = Clock::now();
      res = ncclAllReduce(a.p, a.p, 4, ncclFloat32, ncclSum, comms[0], nullptr);
      waited = seconds_since(start);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(ncclCommAbort(comms[aborted]) == ncclSuccess);
    waiter.join();
    CHECK(res == ncclRemoteError);
    CHECK(waited < 10);
    const ncclComm_t other = comms[1 - aborted];
    ncclResult_t state = ncclSuccess;
    CHECK((ncclCommGetAsyncError(other, &state) == ncclSuccess && state == ncclRemoteError));
    CHECK(contains(ncclGetLastError(other), "rank " + std::to_string(aborted) + " of 2 (cuda:" +
                                                std::to_string(aborted) + ")'s communicator was aborted"));
    CHECK(ncclCommAbort(other) == ncclSuccess);
  }
}

TEST_CASE("nccl: buffers must be device memory of the communicator's device") {
  ncclComm_t comm = nullptr;
  cudaSetDevice(0);
  REQUIRE(ncclCommInitRank(&comm, 1, fresh_id(), 0) == ncclSuccess);
  Buf<float> dev(4);
  std::vector<float> host(4);
  CHECK(ncclAllReduce(host.data(), dev.p, 4, ncclFloat32, ncclSum, comm, nullptr) == ncclInvalidArgument);
  CHECK(contains(ncclGetLastError(comm), "ncclAllReduce's sendbuff"));
  float* pinned = nullptr;
  cudaMallocHost(reinterpret_cast<void**>(&pinned), 4 * sizeof(float));
  CHECK(ncclBroadcast(dev.p, pinned, 4, ncclFloat32, 0, comm, nullptr) == ncclInvalidArgument);
  CHECK(contains(ncclGetLastError(comm), "ncclBroadcast's recvbuff"));
  cudaFreeHost(pinned);
  CHECK(ncclAllGather(dev.p, dev.p, 5, ncclFloat32, comm, nullptr) == ncclInvalidArgument);  // 5 floats of 4
  cudaSetDevice(1);
  Buf<float> other(4);
  cudaSetDevice(0);
  CHECK(ncclAllReduce(dev.p, other.p, 4, ncclFloat32, ncclSum, comm, nullptr) == ncclInvalidArgument);
  CHECK(contains(ncclGetLastError(comm), "recvbuff is memory of cuda:1, not of the communicator's device cuda:0"));
  // Refused calls leave the communicator working; a group with one runs none of its calls.
  dev.put({1, 2, 3, 4});
  CHECK(ncclAllReduce(dev.p, dev.p, 4, ncclFloat32, ncclProd, comm, nullptr) == ncclSuccess);
  CHECK(dev.get() == std::vector<float>{1, 2, 3, 4});
  ncclGroupStart();
  CHECK(ncclAllReduce(dev.p, dev.p, 4, ncclFloat32, ncclSum, comm, nullptr) == ncclSuccess);
  CHECK(ncclAllReduce(host.data(), dev.p, 4, ncclFloat32, ncclSum, comm, nullptr) == ncclInvalidArgument);
  CHECK(ncclGroupEnd() == ncclInvalidArgument);
  CHECK(ncclReduce(dev.p, nullptr, 4, ncclFloat32, ncclSum, 0, comm, nullptr) == ncclInvalidArgument);  // root's
  CHECK(ncclAllReduce(dev.p, dev.p, 4, ncclFloat8e4m3, ncclSum, comm, nullptr) == ncclInvalidArgument);
  CHECK(ncclAllReduce(dev.p, dev.p, 4, ncclFloat32, static_cast<ncclRedOp_t>(ncclNumOps), comm, nullptr) ==
        ncclInvalidArgument);
  CHECK(ncclBroadcast(dev.p, dev.p, 4, ncclFloat32, 1, comm, nullptr) == ncclInvalidArgument);  // no rank 1
  CHECK(ncclCommDestroy(comm) == ncclSuccess);
  CHECK(ncclAllReduce(dev.p, dev.p, 4, ncclFloat32, ncclSum, comm, nullptr) == ncclInvalidArgument);
}

TEST_CASE("nccl: unique ids, NCCL_COMM_ID, version, one rank per device") {
  ncclUniqueId a = fresh_id(), b = fresh_id();
  CHECK(std::memcmp(&a, &b, sizeof a) != 0);
  int version = 0;
  CHECK((ncclGetVersion(&version) == ncclSuccess && version == NCCL_VERSION_CODE));
  CHECK(std::string(ncclGetErrorString(ncclInvalidUsage)).size() > 0);
  {
    // Every rank makes the id itself from the address, as torchrun's ranks do.
    EnvVar addr("NCCL_COMM_ID", "127.0.0.1:29533");
    for (int round = 0; round < 2; ++round) {  // the same id again once the first clique formed
      std::vector<ncclComm_t> comms(2);
      std::vector<ncclResult_t> res(2);
      on_ranks(2, [&](int r) {
        ncclUniqueId id;
        ncclGetUniqueId(&id);
        res[r] = ncclCommInitRank(&comms[r], 2, id, r);
        Buf<uint8_t> x(std::vector<uint8_t>{static_cast<uint8_t>(r + 1)});
        if (res[r] == ncclSuccess) res[r] = ncclAllReduce(x.p, x.p, 1, ncclUint8, ncclSum, comms[r], nullptr);
        if (res[r] == ncclSuccess && x.get()[0] != 3) res[r] = ncclInternalError;
      });
      CHECK(res == std::vector<ncclResult_t>(2, ncclSuccess));
      destroy(comms);
    }
  }
  // Two ranks on one device: refused on both, as NCCL refuses them.
  const ncclUniqueId id = fresh_id();
  std::vector<ncclComm_t> comms(2);
  cudaSetDevice(0);
  ncclGroupStart();
  for (int r = 0; r < 2; ++r) ncclCommInitRank(&comms[r], 2, id, r);
  CHECK(ncclGroupEnd() == ncclInvalidUsage);
  CHECK(contains(ncclGetLastError(comms[1]), "ranks 0 and 1 are both on cuda:0"));
  for (ncclComm_t c : comms) CHECK(ncclCommAbort(c) == ncclSuccess);
}

// The NCCL stand-in's element arithmetic: NCCL's reduction ops over its data types.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "nccl_clique.h"

namespace curec_emu::nccl {

namespace {

// Integers wrap as the GPU's do (signed overflow is undefined in C++, so go through unsigned).
template <class V>
V add(V a, V b) {
  if constexpr (std::is_integral_v<V>) {
    using U = std::make_unsigned_t<V>;
    return static_cast<V>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  } else {
    return a + b;
  }
}

template <class V>
V mul(V a, V b) {
  if constexpr (std::is_integral_v<V>) {
    using U = std::make_unsigned_t<V>;
    return static_cast<V>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
  } else {
    return a * b;
  }
}

template <class T>
struct Plain {
  using Stored = T;
  using Value = T;
  static T get(T v) { return v; }
  static T put(T v) { return v; }
};

// 16-bit floats are reduced a step at a time, rounding after each, as the GPU's half arithmetic.
struct Half {
  using Stored = uint16_t;
  using Value = float;
  static float get(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0) {
      float v = std::ldexp(static_cast<float>(man), -24);
      return sign ? -v : v;
    }
    uint32_t bits = exp == 0x1f ? (sign | 0x7f800000u | (man << 13)) : (sign | ((exp + 112) << 23) | (man << 13));
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
  static uint16_t put(float f) {  // round to nearest, ties to even
    uint32_t x;
    std::memcpy(&x, &f, sizeof x);
    const uint32_t sign = (x >> 16) & 0x8000u, exp = (x >> 23) & 0xffu;
    uint32_t man = x & 0x7fffffu;
    if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (man ? 0x200u : 0u));
    const int e = static_cast<int>(exp) - 112;  // the half's biased exponent
    if (e >= 31) return static_cast<uint16_t>(sign | 0x7c00u);
    uint32_t shift = 13, h = 0;
    if (e <= 0) {  // a subnormal half, or zero
      if (e < -10) return static_cast<uint16_t>(sign);
      man |= 0x800000u;
      shift = static_cast<uint32_t>(14 - e);
      h = man >> shift;
    } else {
      h = (static_cast<uint32_t>(e) << 10) | (man >> 13);
    }
    const uint32_t rem = man & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (h & 1u))) ++h;  // a carry into the exponent is right
    return static_cast<uint16_t>(sign | h);
  }
};

struct Bf16 {
  using Stored = uint16_t;
  using Value = float;
  static float get(uint16_t b) {
    uint32_t bits = static_cast<uint32_t>(b) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
  static uint16_t put(float f) {
    uint32_t x;
    std::memcpy(&x, &f, sizeof x);
    if (std::isnan(f)) return static_cast<uint16_t>((x >> 16) | 0x40u);
    return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
  }
};

template <class N, class F>
void each(void* acc, const void* x, size_t count, F f) {
  auto* a = static_cast<typename N::Stored*>(acc);
  auto* b = static_cast<const typename N::Stored*>(x);
  for (size_t i = 0; i < count; ++i) a[i] = N::put(f(N::get(a[i]), N::get(b[i])));
}

template <class N>
void combine_as(void* acc, const void* x, size_t count, ncclRedOp_t op) {
  using V = typename N::Value;
  switch (op) {
    case ncclProd: each<N>(acc, x, count, [](V a, V b) { return mul(a, b); }); break;
    case ncclMax: each<N>(acc, x, count, [](V a, V b) { return std::max(a, b); }); break;
    case ncclMin: each<N>(acc, x, count, [](V a, V b) { return std::min(a, b); }); break;
    default: each<N>(acc, x, count, [](V a, V b) { return add(a, b); }); break;  // ncclSum, ncclAvg
  }
}

// Calls f(Plain<T>{}) (or Half{}, Bf16{}) for the type; false for one not handled.
template <class F>
bool with_type(ncclDataType_t type, F&& f) {
  switch (type) {
    case ncclInt8: f(Plain<int8_t>{}); return true;
    case ncclUint8: f(Plain<uint8_t>{}); return true;
    case ncclInt32: f(Plain<int32_t>{}); return true;
    case ncclUint32: f(Plain<uint32_t>{}); return true;
    case ncclInt64: f(Plain<int64_t>{}); return true;
    case ncclUint64: f(Plain<uint64_t>{}); return true;
    case ncclFloat16: f(Half{}); return true;
    case ncclFloat32: f(Plain<float>{}); return true;
    case ncclFloat64: f(Plain<double>{}); return true;
    case ncclBfloat16: f(Bf16{}); return true;
    default: return false;
  }
}

}  // namespace

size_t type_size(ncclDataType_t type) {
  size_t size = 0;
  with_type(type, [&](auto n) { size = sizeof(typename decltype(n)::Stored); });
  return size;
}

const char* type_name(ncclDataType_t type) {
  static const char* const names[] = {"ncclInt8",    "ncclUint8",   "ncclInt32",   "ncclUint32",
                                      "ncclInt64",   "ncclUint64",  "ncclFloat16", "ncclFloat32",
                                      "ncclFloat64", "ncclBfloat16", "ncclFloat8e4m3", "ncclFloat8e5m2"};
  const int t = static_cast<int>(type);
  return t >= 0 && t < ncclNumTypes ? names[t] : "an unknown ncclDataType_t";
}

const char* op_name(ncclRedOp_t op) {
  static const char* const names[] = {"ncclSum", "ncclProd", "ncclMax", "ncclMin", "ncclAvg"};
  const int o = static_cast<int>(op);
  return o >= 0 && o < ncclNumOps ? names[o] : "a custom ncclRedOp_t";
}

void combine(void* acc, const void* x, size_t count, ncclDataType_t type, ncclRedOp_t op) {
  with_type(type, [&](auto n) { combine_as<decltype(n)>(acc, x, count, op); });
}

// ncclAvg is the sum divided by the number of ranks; integers divide as C does (toward zero).
void divide(void* acc, size_t count, ncclDataType_t type, int nranks) {
  with_type(type, [&](auto n) {
    using N = decltype(n);
    using V = typename N::Value;
    auto* a = static_cast<typename N::Stored*>(acc);
    for (size_t i = 0; i < count; ++i) a[i] = N::put(static_cast<V>(N::get(a[i]) / static_cast<V>(nranks)));
  });
}

}  // namespace curec_emu::nccl

#pragma once
// Size arithmetic that user input reaches (shapes, row widths, offsets, parsed integers): a
// product or sum that does not fit in int64 is an Error naming the computation and operands,
// never a wrapped value that allocates too little and then writes past the end.
#include <cstdint>
#include <string>
#include <type_traits>

#include "core/error.h"

namespace curec {
namespace detail {
// `what` is text, or a callable returning it: hot paths (a tensor's numel) pass a lambda so
// that the message is only built when the check fails.
template <class What>
std::string describe(const What& what) {
  if constexpr (std::is_invocable_v<const What&>) return std::string(what());
  else return std::string(what);
}
[[noreturn]] inline void overflow(const std::string& what, int64_t a, const char* op, int64_t b, const char* file,
                                  int line) {
  throw Error(concat(what, ": ", a, op, b, " overflows a 64-bit size; the sizes are too large (check the "
                     "dimensions, ids or counts that produced them)"),
              file, line);
}
}  // namespace detail

// a * b; `what` names the computation, e.g. "element count of shape [4, 5]".
template <class What>
int64_t checked_mul(int64_t a, int64_t b, const What& what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) detail::overflow(detail::describe(what), a, " * ", b, __FILE__, __LINE__);
  return r;
}

// a + b, with the same contract as checked_mul.
template <class What>
int64_t checked_add(int64_t a, int64_t b, const What& what) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) detail::overflow(detail::describe(what), a, " + ", b, __FILE__, __LINE__);
  return r;
}

}  // namespace curec

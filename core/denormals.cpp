#include "core/denormals.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(__SSE__)
#include <xmmintrin.h>
#define CUREC_HAS_MXCSR 1
#endif

namespace curec {
namespace {
#if CUREC_HAS_MXCSR
constexpr unsigned kFtz = 0x8000;  // MXCSR bit 15: flush-to-zero
constexpr unsigned kDaz = 0x0040;  // MXCSR bit 6: denormals-are-zero
#endif
}  // namespace

void flush_denormals_on_this_thread() {
#if CUREC_HAS_MXCSR
  _mm_setcsr(_mm_getcsr() | kFtz | kDaz);
#endif
}

bool denormals_flushed_on_this_thread() {
#if CUREC_HAS_MXCSR
  return (_mm_getcsr() & (kFtz | kDaz)) == (kFtz | kDaz);
#else
  return false;
#endif
}

}  // namespace curec

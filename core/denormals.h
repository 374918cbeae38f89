#pragma once
// Denormal floats flushed to zero on the CPU, as the CUDA backend computes them (nvcc's
// -ftz=true): an update that decays weights towards zero would otherwise fall onto the x86
// microcode path for subnormal operands, tens of times slower per operation. The MXCSR bits
// are per thread: FTZ (results that would be subnormal become 0) and DAZ (subnormal inputs
// read as 0).
namespace curec {

// Sets FTZ and DAZ on the calling thread (x86 with SSE; nothing elsewhere).
void flush_denormals_on_this_thread();
// Whether FTZ and DAZ are both set on the calling thread (false where they do not exist).
bool denormals_flushed_on_this_thread();

// Once per thread, where a thread first uses the CPU backend (its first CPU loop: every one goes
// through parallel_for; a pool worker's start): what a thread that runs CPU kernels needs set
// before its first op. Later calls cost one thread-local test.
inline void prepare_cpu_thread() {
  thread_local const bool prepared = (flush_denormals_on_this_thread(), true);
  (void)prepared;
}

}  // namespace curec

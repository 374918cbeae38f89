#include "fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define CUREC_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CUREC_EMU_ASAN 1
#endif
#endif
#ifdef CUREC_EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if !defined(__x86_64__)
#error "the CUDA emulator's fiber switch is written for x86-64"
#endif

extern "C" void curec_emu_switch(void** save_sp, void* next_sp);
extern "C" void curec_emu_fiber_start();

// switch: push the callee-saved registers and the floating-point control state on the current
// stack, store the stack pointer, load the other one and pop its state. A new fiber's stack is
// laid out as if it had switched away just before curec_emu_fiber_start, which calls
// entry(arg) from r12/r13.
asm(R"(
  .text
  .globl curec_emu_switch
  .type curec_emu_switch, @function
curec_emu_switch:
  .cfi_startproc
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .cfi_endproc
  .size curec_emu_switch, .-curec_emu_switch

  .globl curec_emu_fiber_start
  .type curec_emu_fiber_start, @function
curec_emu_fiber_start:
  .cfi_startproc
  .cfi_undefined rip
  movq %r12, %rdi
  callq *%r13
  ud2
  .cfi_endproc
  .size curec_emu_fiber_start, .-curec_emu_fiber_start
)");

namespace curec_emu {
namespace {

size_t stack_bytes() {
  static const size_t n = [] {
    const char* s = std::getenv("CUREC_EMU_STACK_KB");
    size_t kb = s && *s ? std::strtoull(s, nullptr, 10) : 256;
    return (kb < 16 ? 16 : kb) << 10;
  }();
  return n;
}

}  // namespace

Stack::Stack() : page_(static_cast<size_t>(sysconf(_SC_PAGESIZE))), size_(stack_bytes()) {
  void* p = mmap(nullptr, page_ + size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  base_ = static_cast<char*>(p);
  mprotect(base_, page_, PROT_NONE);
}

Stack::~Stack() { munmap(base_, page_ + size_); }

void Fiber::start(Stack* stack, Entry entry, void* arg) {
  stack_ = stack;
#ifdef CUREC_EMU_ASAN
  // A reused stack may still carry the redzones of the frames a previous fiber left.
  __asan_unpoison_memory_region(stack->bottom(), stack->size());
#endif
  auto top = reinterpret_cast<uintptr_t>(stack->bottom() + stack->size()) & ~uintptr_t(15);
  auto* frame = reinterpret_cast<uint64_t*>(top - 64);
  uint32_t mxcsr;
  uint16_t fpucw;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpucw));
  frame[0] = mxcsr | (uint64_t(fpucw) << 32);
  frame[1] = 0;                                          // r15
  frame[2] = 0;                                          // r14
  frame[3] = reinterpret_cast<uint64_t>(entry);          // r13
  frame[4] = reinterpret_cast<uint64_t>(arg);            // r12
  frame[5] = 0;                                          // rbx
  frame[6] = 0;                                          // rbp
  frame[7] = reinterpret_cast<uint64_t>(&curec_emu_fiber_start);  // return address
  sp_ = frame;
  asan_bottom_ = stack->bottom();
  asan_size_ = stack->size();
}

void Fiber::switch_to(Fiber& from, Fiber& to, bool finishing) {
#ifdef CUREC_EMU_ASAN
  __sanitizer_start_switch_fiber(finishing ? nullptr : &from.asan_fake_stack_, to.asan_bottom_, to.asan_size_);
  curec_emu_switch(&from.sp_, to.sp_);
  // Back in `from`: learn where the fiber that switched here runs (the scheduler's own stack
  // is known only this way).
  const void* bottom;
  size_t size;
  __sanitizer_finish_switch_fiber(from.asan_fake_stack_, &bottom, &size);
  (void)bottom, (void)size;
#else
  (void)finishing;
  curec_emu_switch(&from.sp_, to.sp_);
#endif
}

void Fiber::entered(Fiber& scheduler) {
#ifdef CUREC_EMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &scheduler.asan_bottom_, &scheduler.asan_size_);
#else
  (void)scheduler;
#endif
}

}  // namespace curec_emu

#pragma once
// A fiber: one emulated CUDA thread's own stack and saved registers. Switching is a few
// instructions (callee-saved registers, MXCSR and the x87 control word), with no system call,
// which is what makes a fiber per CUDA thread affordable; AddressSanitizer is told of every
// switch so that it follows the stacks.
#include <cstddef>

namespace curec_emu {

// A stack from a pool: mmap'd with a guard page below it, so an overflow faults instead of
// writing into the next fiber's stack.
class Stack {
 public:
  Stack();
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  char* bottom() const { return base_ + page_; }
  size_t size() const { return size_; }

 private:
  char* base_;
  size_t page_, size_;
};

class Fiber {
 public:
  using Entry = void (*)(void* arg);
  // Prepares `stack` to run entry(arg) at the first switch_to; entry must never return (it
  // switches away for the last time instead).
  void start(Stack* stack, Entry entry, void* arg);
  // Saves the caller into `from` and resumes `to`. `finishing` tells AddressSanitizer that
  // `from` will never be resumed.
  static void switch_to(Fiber& from, Fiber& to, bool finishing = false);
  // The first thing a fiber's entry does: completes the switch that started it (AddressSanitizer
  // learns there where `scheduler`'s stack is, to switch back to it).
  static void entered(Fiber& scheduler);
  Stack* stack() const { return stack_; }

 private:
  void* sp_ = nullptr;
  Stack* stack_ = nullptr;  // null for the scheduler's own (the OS thread's) stack
  void* asan_fake_stack_ = nullptr;
  const void* asan_bottom_ = nullptr;
  size_t asan_size_ = 0;
};

}  // namespace curec_emu

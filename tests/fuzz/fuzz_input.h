#pragma once
// What every harness shares: the fuzzer's bytes as a file (the readers take paths and map
// them), and the rule that bad input may only ever end in a curec::Error. Any other
// exception, a crash or a sanitizer report is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <string_view>

#include "core/error.h"

namespace curec::fuzz {

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "curec fuzz finding: %s\n", what.c_str());
  std::abort();
}

// A file of this process's own, rewritten for each input. /dev/shm keeps the writes in memory.
class InputFile {
 public:
  explicit InputFile(const std::string& name) {
    const char* dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    path_ = std::string(dir) + "/curec-fuzz-" + std::to_string(::getpid()) + "-" + name;
  }
  ~InputFile() { std::remove(path_.c_str()); }
  const std::string& write(std::string_view bytes) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) finding("cannot write the fuzz input file " + path_);
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs f; a curec::Error is the expected outcome of bad input, anything else thrown is a finding.
// Returns true when f completed.
template <class F>
bool accepts(F&& f) {
  try {
    f();
    return true;
  } catch (const Error&) {
    return false;
  } catch (const std::exception& e) {
    finding(std::string("an exception other than curec::Error: ") + e.what());
  } catch (...) {
    finding("a non-standard exception");
  }
}

// An invariant of accepted input.
inline void require(bool ok, const std::string& what) {
  if (!ok) finding("invariant broken: " + what);
}

}  // namespace curec::fuzz

#pragma once
// Every file the library writes (models, checkpoints, encoders, curves) is written as one unit:
// the bytes go to PATH.tmp.PID, are flushed to stable storage and the temporary is renamed over
// PATH. A failure (a full disk, a bad folder) or a signal leaves any previous PATH untouched and
// no temporary behind: a failed write removes it, and a fatal-signal handler removes the ones
// still being written with remove_temp_files_in_progress(); the temporaries of a process killed
// outright (SIGKILL) are removed by the next save to the same path. A path that is a symbolic
// link writes the link's target and keeps the link.
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace curec {

class AtomicFile {
 public:
  // Creates the temporary beside `path` (beside its target when it is a symbolic link). `what` starts every error message ("save_state", ...).
  AtomicFile(std::string path, std::string what);
  ~AtomicFile();  // removes the temporary unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* bytes, size_t n);
  void write(std::string_view text) { write(text.data(), text.size()); }
  // Flushes, syncs and closes the temporary, then renames it over the path. An error (the
  // disk is full, ...) names the path and the reason and says the previous file is unchanged.
  void commit();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_; }

 private:
  [[noreturn]] void fail(const char* doing, int err);
  std::string path_, temp_, what_;
  std::FILE* file_ = nullptr;
  int slot_ = -1;  // in the registry of temporaries in progress
  bool committed_ = false;
};

// The file a save to `path` writes: `path` itself, or the end of its chain of symbolic links
// (relative targets taken from each link's folder), which need not exist yet.
std::string link_target(const std::string& path);

// The suffix of this process's temporaries: ".tmp.PID".
std::string temp_suffix();

// Removes the temporaries PATH.tmp.PID beside `path` whose process no longer exists.
void remove_stale_temporaries(const std::string& path);

// Writes `bytes` to `path` through an AtomicFile.
void write_file_atomically(const std::string& path, std::string_view bytes, const std::string& what);

// Unlinks every temporary an AtomicFile is writing now. Async-signal-safe: for a handler of a
// signal that ends the process, before it re-raises the signal.
void remove_temp_files_in_progress() noexcept;

// Tests only: called after each write() with the temporary's path (nullptr: none), to raise a
// signal or fail in the middle of a save.
void set_atomic_write_hook(void (*hook)(const char* temp_path));

}  // namespace curec

#include "core/atomic_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace curec {
namespace {

// The temporaries being written, as malloc'd C strings a signal handler can unlink. A handful
// of saves run at once at most (one per thread); a save past the table is simply not tracked.
constexpr int kSlots = 32;
std::atomic<char*> g_in_progress[kSlots];
std::atomic<void (*)(const char*)> g_hook{nullptr};

int track(const std::string& temp) {
  char* copy = strdup(temp.c_str());
  if (!copy) return -1;
  for (int i = 0; i < kSlots; ++i) {
    char* expected = nullptr;
    if (g_in_progress[i].compare_exchange_strong(expected, copy)) return i;
  }
  std::free(copy);
  return -1;
}

void untrack(int slot) {
  if (slot < 0) return;
  std::free(g_in_progress[slot].exchange(nullptr));
}

bool process_is_gone(long pid) { return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH; }

}  // namespace

std::string link_target(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path p(path);
  for (int hops = 0; hops < 40; ++hops) {  // the kernel's own limit (ELOOP)
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(p, ec))) return p.string();
    const fs::path to = fs::read_symlink(p, ec);
    if (ec) return p.string();
    p = to.is_absolute() ? to : p.parent_path() / to;
  }
  CUREC_FAIL(path, ": too many levels of symbolic links; name the file itself");
}

std::string temp_suffix() { return ".tmp." + std::to_string(::getpid()); }

void remove_stale_temporaries(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(link_target(path));
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string prefix = target.filename().string() + ".tmp.";
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code kind;
    if (!fs::is_regular_file(it->symlink_status(kind)) && !fs::is_symlink(it->symlink_status(kind))) continue;
    if (process_is_gone(std::stol(digits))) ::unlink(it->path().c_str());
  }
}

AtomicFile::AtomicFile(std::string path, std::string what)
    : path_(link_target(path)), temp_(path_ + temp_suffix()), what_(std::move(what)) {
  // Renaming over a device, FIFO or folder would replace it (as root, /dev/full itself).
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    CUREC_FAIL(what_, ": ", path_, " exists and is ", S_ISDIR(st.st_mode) ? "a folder" : "not a regular file",
               " (a device, FIFO or socket); writing it would replace it: name a file");
  remove_stale_temporaries(path_);
  slot_ = track(temp_);  // before the file exists, so a signal never misses it
  file_ = std::fopen(temp_.c_str(), "wb");
  if (!file_) {
    const int err = errno;
    untrack(slot_);
    slot_ = -1;
    CUREC_FAIL(what_, ": cannot create ", temp_, " to write ", path_, ": ", std::strerror(err),
               "; check that the folder exists and is writable");
  }
}

AtomicFile::~AtomicFile() {
  if (file_) std::fclose(file_);
  if (!committed_) std::remove(temp_.c_str());
  untrack(slot_);
}

void AtomicFile::fail(const char* doing, int err) {
  if (file_) std::fclose(file_);
  file_ = nullptr;
  std::remove(temp_.c_str());
  CUREC_FAIL(what_, ": ", doing, " ", path_, " failed: ", std::strerror(err),
             "; the previous file, if any, is unchanged");
}

void AtomicFile::write(const void* bytes, size_t n) {
  CUREC_CHECK(file_, what_, ": writing ", path_, " after it was committed or failed");
  if (n && std::fwrite(bytes, 1, n, file_) != n) fail("writing", errno);
  if (auto hook = g_hook.load()) hook(temp_.c_str());
}

void AtomicFile::commit() {
  CUREC_CHECK(file_, what_, ": committing ", path_, " twice or after a failure");
  // A full disk often shows only here, when the buffered bytes reach the file system.
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) fail("writing", errno);
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (closed != 0) fail("writing", errno);
  if (std::rename(temp_.c_str(), path_.c_str()) != 0) fail("replacing", errno);
  committed_ = true;
}

void write_file_atomically(const std::string& path, std::string_view bytes, const std::string& what) {
  AtomicFile f(path, what);
  f.write(bytes);
  f.commit();
}

void remove_temp_files_in_progress() noexcept {
  for (auto& slot : g_in_progress)
    if (char* p = slot.load()) ::unlink(p);
}

void set_atomic_write_hook(void (*hook)(const char*)) { g_hook = hook; }

}  // namespace curec

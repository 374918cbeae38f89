// Files written as one unit (core/atomic_file): a full disk, a failure mid-write and a signal
// mid-save each leave the previous file intact and no PATH.tmp.PID behind.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <string>

#include "app/run_report.h"
#include "core/atomic_file.h"
#include "nn/serialize.h"
#include "tests/testing.h"

using namespace curec;
using testing::TempDir;
namespace fs = std::filesystem;

namespace {

size_t files_in(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

nn::StateDict weights(float value, int64_t n) { return {{"w", Tensor::full({n}, value)}}; }

float first_weight(const std::string& path) { return nn::load_state(path).tensors.at("w").data<float>()[0]; }

// Runs `child` in a forked process; returns its wait status. The child ends with _exit(code).
template <class F>
int in_child(pid_t& pid, F&& child) {
  std::fflush(nullptr);
  pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(child());
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

}  // namespace

TEST_CASE("atomic file: a write replaces the file and leaves no temporary") {
  TempDir dir;
  const std::string path = dir.file("a.txt");
  write_file_atomically(path, "old", "test");
  write_file_atomically(path, "new contents", "test");
  CHECK(testing::read_text(path) == "new contents");
  CHECK(files_in(dir.path) == 1);
}

TEST_CASE("atomic file: a full disk (/dev/full) is a clear error and the previous file survives") {
  if (!fs::exists("/dev/full")) {
    MESSAGE("SKIPPED: this system has no /dev/full");
    return;
  }
  TempDir dir;
  const std::string path = dir.file("model.curec");
  nn::save_state(path, weights(1.0f, 4), {{"model", "test"}});
  // The save's temporary, PATH.tmp.PID, leads to /dev/full: every byte written to it fails
  // with ENOSPC, as on a full file system.
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  fs::create_symlink("/dev/full", temp);
  const std::string message = testing::error_of([&] { nn::save_state(path, weights(2.0f, 100000), {}); });
  CAPTURE(message);
  CHECK(message.find("save_state: writing " + path + " failed: No space left on device") != std::string::npos);
  CHECK(message.find("the previous file, if any, is unchanged") != std::string::npos);
  CHECK(first_weight(path) == 1.0f);
  CHECK_FALSE(fs::exists(fs::symlink_status(temp)));  // the failed temporary is gone
  CHECK(files_in(dir.path) == 1);
}

TEST_CASE("atomic file: a failure mid-write removes the temporary and keeps the previous file") {
  TempDir dir;
  const std::string path = dir.file("keep.txt");
  write_file_atomically(path, "previous", "test");
  {
    AtomicFile f(path, "test");
    f.write("partial");
    CHECK(fs::exists(f.temp_path()));
    // Destroyed without commit(), as when an exception leaves the save.
  }
  CHECK(testing::read_text(path) == "previous");
  CHECK(files_in(dir.path) == 1);
  CHECK_THROWS_WITH_AS(write_file_atomically(dir.file("no/such/folder/x"), "x", "test"),
                       doctest::Contains("cannot create"), Error);
}

TEST_CASE("atomic file: the temporaries in progress are what a signal handler removes") {
  TempDir dir;
  AtomicFile a(dir.file("a"), "test"), b(dir.file("b"), "test");
  a.write("x");
  CHECK(files_in(dir.path) == 2);
  remove_temp_files_in_progress();
  CHECK(files_in(dir.path) == 0);
}

TEST_CASE("atomic file: Ctrl-C during a save finishes it; a second Ctrl-C ends the process with no temporary left") {
  TempDir dir;
  const std::string path = dir.file("model.curec");
  nn::save_state(path, weights(1.0f, 4), {});
  static std::string g_path;
  g_path = path;
  pid_t pid = 0;

  // One signal mid-write: the save completes (it is not training to stop), the run is told.
  int status = in_child(pid, [] {
    app::install_interrupt_handlers();
    set_atomic_write_hook([](const char*) {
      set_atomic_write_hook(nullptr);
      std::raise(SIGINT);
    });
    nn::save_state(g_path, weights(2.0f, 1000), {});
    return app::interrupted() ? 3 : 4;
  });
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 3);
  CHECK(first_weight(path) == 2.0f);
  CHECK_FALSE(fs::exists(path + ".tmp." + std::to_string(pid)));

  // Two signals mid-write: the process dies of SIGINT; its temporary is removed first.
  status = in_child(pid, [] {
    app::install_interrupt_handlers();
    set_atomic_write_hook([](const char*) {
      std::raise(SIGINT);
      std::raise(SIGINT);
    });
    nn::save_state(g_path, weights(3.0f, 1000), {});
    return 5;  // not reached
  });
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGINT);
  CHECK_FALSE(fs::exists(path + ".tmp." + std::to_string(pid)));
  CHECK(first_weight(path) == 2.0f);  // the previous file is intact
  CHECK(files_in(dir.path) == 1);
}

TEST_CASE("atomic file: a symbolic link is followed, its target written and the link kept") {
  TempDir dir;
  fs::create_directory(dir.file("real"));
  const std::string target = dir.file("real/model.curec"), link = dir.file("link.curec");
  write_file_atomically(target, "old", "test");
  fs::create_symlink("real/model.curec", link);  // relative, from the link's folder
  write_file_atomically(link, "new", "test");
  CHECK(fs::is_symlink(fs::symlink_status(link)));
  CHECK(testing::read_text(target) == "new");
  // A link to a file not there yet creates the file the link names.
  const std::string dangling = dir.file("dangling");
  fs::create_symlink(dir.file("real/later.txt"), dangling);
  write_file_atomically(dangling, "later", "test");
  CHECK(fs::is_symlink(fs::symlink_status(dangling)));
  CHECK(testing::read_text(dir.file("real/later.txt")) == "later");
  CHECK(link_target(link) == (dir.path / "real/model.curec").string());
  // A loop of links is refused by name rather than followed forever.
  fs::create_symlink(dir.file("loop_b"), dir.file("loop_a"));
  fs::create_symlink(dir.file("loop_a"), dir.file("loop_b"));
  CHECK(testing::error_of([&] { write_file_atomically(dir.file("loop_a"), "x", "test"); }).find("too many levels") !=
        std::string::npos);
}

TEST_CASE("atomic file: the next save removes the temporaries of processes that are gone, not of live ones") {
  TempDir dir;
  const std::string path = dir.file("m.curec");
  pid_t dead = 0;
  in_child(dead, [] { return 0; });  // reaped: its pid names no process now
  const std::string stale = path + ".tmp." + std::to_string(dead);
  const std::string live = path + ".tmp." + std::to_string(::getppid());  // our parent, alive
  const std::string other = dir.file("other.curec.tmp." + std::to_string(dead));  // another file's
  for (const std::string& f : {stale, live, other}) write_file_atomically(f, "partial", "test");
  write_file_atomically(path, "saved", "test");
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(live));
  CHECK(fs::exists(other));
  CHECK(testing::read_text(path) == "saved");
}

// cmake/CurecFindCudaLib.cmake, run in script mode on made-up folders: cuDNN and NCCL are found
// as versioned .so.9 / .so.2 files and inside Python wheels, and the configure says where.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/testing.h"

namespace fs = std::filesystem;

namespace {

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "";
}

// Runs the finder for `lib` with only the given site-packages folder and roots; returns what it printed.
std::string find(const fs::path& tmp, const std::string& lib, const std::string& versions, const fs::path& site,
                 const std::string& env = "") {
  const fs::path script = tmp / ("find-" + lib + ".cmake");
  std::ofstream(script) << "set(CMAKE_FIND_LIBRARY_PREFIXES lib)\n"
                        << "set(CMAKE_FIND_LIBRARY_SUFFIXES .so)\n"
                        << "set(CUREC_PYTHON_SITE_DIRS \"" << site.string() << "\")\n"
                        << "set(CUREC_FIND_ONLY_HINTS ON)\n"
                        << "include(\"" << CUREC_SOURCE_DIR << "/cmake/CurecFindCudaLib.cmake\")\n"
                        << "curec_find_cuda_lib(" << lib << " HEADER " << lib << ".h VERSIONS " << versions << ")\n"
                        << "string(TOUPPER " << lib << " N)\n"
                        << "message(\"lib=${${N}_LIBRARY}\")\n"
                        << "message(\"where=${${N}_FOUND_IN}\")\n";
  const std::string cmd = env + " cmake -P '" + script.string() + "' 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE_MESSAGE(p, "cannot run cmake");
  char buf[4096];
  while (size_t got = fread(buf, 1, sizeof buf, p)) out.append(buf, got);
  const int status = pclose(p);
  REQUIRE_MESSAGE(WIFEXITED(status), out);
  REQUIRE_MESSAGE(WEXITSTATUS(status) == 0, "cmake -P failed (is cmake on PATH?): ", out);
  return out;
}

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/curec-cmake-find-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("curec_find_cuda_lib: cuDNN as libcudnn.so.9 inside a Python wheel") {
  TempDir t;
  const fs::path site = t.path / "site-packages";
  touch(site / "nvidia/cudnn/include/cudnn.h");
  touch(site / "nvidia/cudnn/lib/libcudnn.so.9");
  const std::string out = find(t.path, "cudnn", "9 8", site);
  CHECK_MESSAGE(out.find("lib=" + (site / "nvidia/cudnn/lib/libcudnn.so.9").string()) != std::string::npos, out);
  CHECK_MESSAGE(out.find("from a Python wheel") != std::string::npos, out);
}

TEST_CASE("curec_find_cuda_lib: the unversioned name first, when both are there") {
  TempDir t;
  const fs::path site = t.path / "site-packages";
  touch(site / "nvidia/nccl/include/nccl.h");
  touch(site / "nvidia/nccl/lib/libnccl.so.2");
  touch(site / "nvidia/nccl/lib/libnccl.so");
  const std::string out = find(t.path, "nccl", "2", site);
  CHECK_MESSAGE(out.find("lib=" + (site / "nvidia/nccl/lib/libnccl.so").string() + "\n") != std::string::npos, out);
}

TEST_CASE("curec_find_cuda_lib: NCCL as libnccl.so.2 under CUREC_NCCL_ROOT (a carried install)") {
  TempDir t;
  const fs::path root = t.path / "nccl";
  touch(root / "include/nccl.h");
  touch(root / "lib/libnccl.so.2");
  const std::string out = find(t.path, "nccl", "2", t.path / "no-site", "CUREC_NCCL_ROOT='" + root.string() + "'");
  CHECK_MESSAGE(out.find("lib=" + (root / "lib/libnccl.so.2").string()) != std::string::npos, out);
  CHECK_MESSAGE(out.find("from a Python wheel") == std::string::npos, out);
}

TEST_CASE("curec_find_cuda_lib: nothing there is reported as not found, naming where it looked") {
  TempDir t;
  const std::string out = find(t.path, "cudnn", "9", t.path / "no-site");
  CHECK_MESSAGE(out.find("lib=CUDNN_LIBRARY-NOTFOUND") != std::string::npos, out);
  CHECK_MESSAGE(out.find("not found (looked in") != std::string::npos, out);
}

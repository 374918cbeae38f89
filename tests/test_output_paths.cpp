// The one check of what a command writes (app/output_paths.h), against a corpus of outputs and
// inputs: every way an output can be an input (the same file spelled otherwise, through a link,
// a hard link, a file inside a data folder, a FORMAT:PATH, the default data set, a split file, a
// resume checkpoint), two outputs that are one file, and outputs that cannot be written at all.
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "app/output_paths.h"
#include "core/atomic_file.h"
#include "tests/testing.h"

using namespace curec;
using app::NamedPath;
namespace fs = std::filesystem;

namespace {

void touch(const std::string& path) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << "1\t2\t5\t881250949\n";
}

std::vector<NamedPath> plus(std::vector<NamedPath> a, const std::vector<NamedPath>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct Case {
  const char* what;
  // Makes the files in the folder `d` (ends with '/'), and gives the outputs and inputs.
  std::function<std::pair<std::vector<NamedPath>, std::vector<NamedPath>>(const std::string& d)> make;
  const char* error;  // a part of the message, or "" when the outputs pass
};

// A name of n bytes.
std::string name_of(size_t n) { return std::string(n, 'm'); }

}  // namespace

TEST_CASE("output paths: a corpus of outputs against the inputs of a run") {
  using V = std::vector<NamedPath>;
  using R = std::pair<V, V>;
  const long name_max = NAME_MAX;
  const size_t suffix = temp_suffix().size();
  const std::vector<Case> cases = {
      {"a new file beside the data", [](const std::string& d) { touch(d + "r.tsv");
         return R{{{"--save", d + "m.curec"}}, app::data_inputs("--data", d + "r.tsv")}; }, ""},
      {"an existing file the run does not read", [](const std::string& d) { touch(d + "old.curec"); touch(d + "r.tsv");
         return R{{{"--save", d + "old.curec"}}, app::data_inputs("--data", d + "r.tsv")}; }, ""},
      {"flags not given", [](const std::string& d) { touch(d + "r.tsv");
         return R{{{"--save", ""}, {"--log", ""}}, app::data_inputs("--data", d + "r.tsv")}; }, ""},
      {"--save onto the data file", [](const std::string& d) { touch(d + "r.tsv");
         return R{{{"--save", d + "r.tsv"}}, app::data_inputs("--data", d + "r.tsv")}; }, "is the data the run reads"},
      {"--save onto the data spelled with ./ and ..", [](const std::string& d) { touch(d + "r.tsv"); fs::create_directory(d + "sub");
         return R{{{"--save", d + "sub/.././r.tsv"}}, app::data_inputs("--data", d + "r.tsv")}; }, "is the data the run reads"},
      {"--save onto a file inside the MovieLens folder", [](const std::string& d) { touch(d + "ml/u.data"); touch(d + "ml/u.item");
         return R{{{"--save", d + "ml/u.item"}}, app::data_inputs("--data", d + "ml")}; }, "(--data " },
      {"--curves onto the ML-1M ratings.dat of the folder", [](const std::string& d) { touch(d + "ml1m/ratings.dat");
         return R{{{"--curves", d + "ml1m/ratings.dat"}}, app::data_inputs("--data", d + "ml1m")}; }, "is the data the run reads"},
      {"a new file in the data folder", [](const std::string& d) { touch(d + "ml/u.data");
         return R{{{"--save", d + "ml/model.curec"}}, app::data_inputs("--data", d + "ml")}; }, ""},
      {"--save onto criteo:FILE", [](const std::string& d) { touch(d + "c.txt");
         return R{{{"--save", d + "c.txt"}}, app::data_inputs("--data", "criteo:" + d + "c.txt")}; }, "is the data the run reads"},
      {"--checkpoint onto tsv:FILE", [](const std::string& d) { touch(d + "r.txt");
         return R{{{"--checkpoint", d + "r.txt"}}, app::data_inputs("--data", "tsv:" + d + "r.txt")}; }, "is the data the run reads"},
      {"--log onto avazu:FILE", [](const std::string& d) { touch(d + "a.csv");
         return R{{{"--log", d + "a.csv"}}, app::data_inputs("--data", "avazu:" + d + "a.csv")}; }, "is the data the run reads"},
      {"--save onto a symbolic link to the data", [](const std::string& d) { touch(d + "r.tsv"); fs::create_symlink(d + "r.tsv", d + "link");
         return R{{{"--save", d + "link"}}, app::data_inputs("--data", d + "r.tsv")}; }, "is the data the run reads"},
      {"--save onto a hard link of the data", [](const std::string& d) { touch(d + "r.tsv"); fs::create_hard_link(d + "r.tsv", d + "hard");
         return R{{{"--save", d + "hard"}}, app::data_inputs("--data", d + "r.tsv")}; }, "is the data the run reads"},
      {"--log onto the data read through a link", [](const std::string& d) { touch(d + "r.tsv"); fs::create_symlink(d + "r.tsv", d + "link");
         return R{{{"--log", d + "r.tsv"}}, app::data_inputs("--data", d + "link")}; }, "is the data the run reads"},
      {"--log onto the test-split file", [](const std::string& d) { touch(d + "r.tsv"); touch(d + "t.tsv");
         return R{{{"--log", d + "t.tsv"}}, plus(app::data_inputs("--data", d + "r.tsv"), app::split_inputs("test:" + d + "t.tsv"))}; },
       "a file the run reads (--split "},
      {"--save onto a test split named with its format", [](const std::string& d) { touch(d + "t.tsv");
         return R{{{"--save", d + "t.tsv"}}, app::split_inputs("test:tsv:" + d + "t.tsv")}; }, "(--split "},
      {"a random split reads no file", [](const std::string& d) { touch(d + "random");
         return R{{{"--save", d + "random"}}, app::split_inputs("random")}; }, ""},
      {"--log onto --resume", [](const std::string& d) { touch(d + "c.ckpt");
         return R{{{"--log", d + "c.ckpt"}}, {{"--resume", d + "c.ckpt"}}}; }, "a file the run reads (--resume "},
      {"--save onto --resume", [](const std::string& d) { touch(d + "c.ckpt");
         return R{{{"--save", d + "c.ckpt"}}, {{"--resume", d + "c.ckpt"}}}; }, "(--resume "},
      {"--checkpoint continues in the file it resumed from", [](const std::string& d) { touch(d + "c.ckpt");
         return R{{{"--checkpoint", d + "c.ckpt", "--resume"}}, {{"--resume", d + "c.ckpt"}}}; }, ""},
      {"--checkpoint onto the data all the same", [](const std::string& d) { touch(d + "r.tsv");
         return R{{{"--checkpoint", d + "r.tsv", "--resume"}}, app::data_inputs("--data", d + "r.tsv")}; }, "is the data the run reads"},
      {"--save m --curves m", [](const std::string& d) {
         return R{{{"--save", d + "m"}, {"--curves", d + "m"}}, {}}; }, "--save " },
      {"two outputs, one new file spelled twice", [](const std::string& d) { fs::create_directory(d + "sub");
         return R{{{"--log", d + "sub/../x"}, {"--checkpoint", d + "x"}}, {}}; }, "name one file"},
      {"two outputs, one existing file through a link", [](const std::string& d) { touch(d + "x"); fs::create_symlink("x", d + "y");
         return R{{{"--log", d + "x"}, {"--curves", d + "y"}}, {}}; }, "name one file"},
      {"two outputs, one new file through a dangling link", [](const std::string& d) { fs::create_symlink(d + "later", d + "y");
         return R{{{"--log", d + "later"}, {"--curves", d + "y"}}, {}}; }, "name one file"},
      {"four distinct outputs", [](const std::string& d) {
         return R{{{"--save", d + "m"}, {"--checkpoint", d + "c"}, {"--curves", d + "s.svg"}, {"--log", d + "l"}}, {}}; }, ""},
      {"a missing folder", [](const std::string& d) {
         return R{{{"--save", d + "nowhere/m"}}, {}}; }, "does not exist; create it first"},
      {"a folder", [](const std::string& d) { fs::create_directory(d + "f");
         return R{{{"--curves", d + "f"}}, {}}; }, "is a folder"},
      {"a link to a folder", [](const std::string& d) { fs::create_directory(d + "f"); fs::create_symlink(d + "f", d + "lf");
         return R{{{"--curves", d + "lf"}}, {}}; }, "is a folder"},
      {"a FIFO", [](const std::string& d) { REQUIRE(::mkfifo((d + "fifo").c_str(), 0600) == 0);
         return R{{{"--log", d + "fifo"}}, {}}; }, "is not a regular file"},
      {"a device", [](const std::string&) {
         return R{{{"--save", "/dev/null"}}, {}}; }, "/dev/null is not a regular file"},
      {"a link to a device", [](const std::string& d) { fs::create_symlink("/dev/null", d + "null");
         return R{{{"--log", d + "null"}}, {}}; }, "is not a regular file"},
      {"a name with no room for the temporary suffix", [name_max, suffix](const std::string& d) {
         return R{{{"--save", d + name_of(static_cast<size_t>(name_max) - suffix + 1)}}, {}}; }, "over the folder's limit"},
      {"a name with room for the suffix exactly", [name_max, suffix](const std::string& d) {
         return R{{{"--save", d + name_of(static_cast<size_t>(name_max) - suffix)}}, {}}; }, ""},
      {"a folder no file can be created in", [](const std::string&) {
         return R{{{"--save", "/proc/curec-output-check"}}, {}}; }, "cannot create a file in the folder /proc"},
      {"synthetic data reads no file", [](const std::string& d) { touch(d + "synthetic");
         return R{{{"--save", d + "synthetic"}}, app::data_inputs("--data", "synthetic")}; }, ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    testing::TempDir dir;
    const std::string d = dir.path.string() + "/";
    auto [outputs, inputs] = c.make(d);
    const std::string error = testing::error_of([&] { app::check_outputs(outputs, inputs); });
    if (std::string(c.error).empty()) {
      CHECK(error == "");
    } else {
      CHECK(error.find(c.error) != std::string::npos);
      CAPTURE(error);
    }
    // The probe leaves nothing behind, whatever the outcome.
    for (const auto& e : fs::directory_iterator(dir.path))
      CHECK(e.path().filename().string().rfind(".curec-probe", 0) != 0);
  }
}

TEST_CASE("output paths: the default data set, and a read-only folder when not root") {
  testing::TempDir dir;
  const std::string d = dir.path.string();
  touch(d + "/ml-100k/u.data");
  touch(d + "/criteo/train-10k.txt");
  const char* before = std::getenv("CUREC_DATA_DIR");
  const std::string saved = before ? before : "";
  ::setenv("CUREC_DATA_DIR", d.c_str(), 1);
  const std::vector<NamedPath> defaults = app::data_inputs("--data", "");
  CHECK(testing::error_of([&] { app::check_outputs({{"--save", d + "/ml-100k/u.data"}}, defaults); })
            .find("is the data the run reads") != std::string::npos);
  CHECK(testing::error_of([&] { app::check_outputs({{"--save", d + "/criteo/train-10k.txt"}}, defaults); })
            .find("is the data the run reads") != std::string::npos);
  CHECK(testing::error_of([&] { app::check_outputs({{"--save", d + "/criteo/train-10k.txt"}},
                                                   app::data_inputs("--data", "criteo")); })
            .find("is the data the run reads") != std::string::npos);
  CHECK(testing::error_of([&] { app::check_outputs({{"--save", d + "/m.curec"}}, defaults); }) == "");
  if (before) ::setenv("CUREC_DATA_DIR", saved.c_str(), 1);
  else ::unsetenv("CUREC_DATA_DIR");

  if (::geteuid() != 0) {  // root writes any folder: the tool's test mounts a read-only one instead
    fs::create_directory(d + "/ro");
    fs::permissions(d + "/ro", fs::perms::owner_read | fs::perms::owner_exec);
    CHECK(testing::error_of([&] { app::check_outputs({{"--save", d + "/ro/m"}}, {}); })
              .find("cannot create a file in the folder") != std::string::npos);
    fs::permissions(d + "/ro", fs::perms::owner_all);
  }
}

TEST_CASE("output paths: an empty value is a usage error") {
  CLI::App app;
  std::string save;
  app.add_option("--save", save)->check(app::non_empty_path());
  CHECK_THROWS_AS(app.parse(std::vector<std::string>{"", "--save"}), CLI::ParseError);
  CHECK_NOTHROW(app.parse(std::vector<std::string>{"m.curec", "--save"}));
  CHECK(save == "m.curec");
}

#include <filesystem>
#include <fstream>

#include "data/download.h"
#include "tests/testing.h"

#if CUREC_WITH_DOWNLOAD
#include <zip.h>
#endif

using namespace curec;
namespace fs = std::filesystem;

namespace {
fs::path scratch_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("curec-test-download-" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

#if CUREC_WITH_DOWNLOAD
// Writes a zip holding (name, content) entries.
void make_zip(const fs::path& path, const std::vector<std::pair<std::string, std::string>>& entries) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  REQUIRE(z);
  for (const auto& [name, content] : entries) {
    zip_source_t* s = zip_source_buffer(z, content.data(), content.size(), 0);
    REQUIRE(zip_file_add(z, name.c_str(), s, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8) >= 0);
  }
  REQUIRE(zip_close(z) == 0);
}
#endif
}  // namespace

TEST_CASE("the registry knows the book's data sets") {
  const data::DatasetInfo& d = data::find_dataset("ml-100k");
  CHECK(d.checksum == "sha1:cd4dcac4241c8a4ad7badc7ca635da8a69dddb83");
  CHECK(d.url.find("ml-100k.zip") != std::string::npos);
  CHECK(data::find_dataset("ml-1m").checksum.rfind("md5:", 0) == 0);
  CHECK_THROWS_WITH_AS(data::find_dataset("ml-2k"), doctest::Contains("known are ml-100k"), Error);
}

#if CUREC_WITH_DOWNLOAD
TEST_CASE("checksums match known digests") {
  fs::path dir = scratch_dir("digest");
  std::ofstream(dir / "abc") << "abc";
  CHECK(data::file_digest((dir / "abc").string(), "sha1") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(data::file_digest((dir / "abc").string(), "md5") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK_THROWS_AS(data::file_digest((dir / "abc").string(), "crc"), Error);
}

TEST_CASE("extract_zip unpacks, and refuses entries that escape the target") {
  fs::path dir = scratch_dir("extract");
  make_zip(dir / "good.zip", {{"ml-tiny/u.data", "1\t1\t5\t0\n"}, {"ml-tiny/README", "hi"}});
  data::extract_zip((dir / "good.zip").string(), (dir / "out").string());
  CHECK(fs::file_size(dir / "out/ml-tiny/u.data") == 8);
  for (std::string evil : {"../evil.txt", "a/../../evil.txt", "/tmp/curec-evil.txt"}) {
    CAPTURE(evil);
    make_zip(dir / "bad.zip", {{"ok.txt", "fine"}, {evil, "gotcha"}});
    CHECK_THROWS_WITH_AS(data::extract_zip((dir / "bad.zip").string(), (dir / "out2").string()),
                         doctest::Contains("outside"), Error);
    CHECK(!fs::exists(dir / "out2/ok.txt"));  // nothing written before the check
  }
  std::ofstream(dir / "not.zip") << "plain text";
  CHECK_THROWS_WITH_AS(data::extract_zip((dir / "not.zip").string(), (dir / "out3").string()),
                       doctest::Contains("not a readable zip"), Error);
}

TEST_CASE("fetch_dataset downloads (file://), verifies and unpacks once") {
  fs::path dir = scratch_dir("fetch");
  make_zip(dir / "tiny.zip", {{"tiny/u.data", "1\t2\t3\t4\n"}});
  data::DatasetInfo info{"tiny", "file://" + (dir / "tiny.zip").string(),
                         "sha1:" + data::file_digest((dir / "tiny.zip").string(), "sha1"), "tiny", "test"};
  data::FetchOptions quiet;
  quiet.quiet = true;
  std::string got = data::fetch_dataset(info, (dir / "cache").string(), quiet);
  CHECK(fs::exists(fs::path(got) / "u.data"));
  CHECK(data::fetch_dataset(info, (dir / "cache").string(), quiet) == got);  // cached

  info.checksum = "sha1:0000000000000000000000000000000000000000";
  info.folder = "tiny2";
  CHECK_THROWS_WITH_AS(data::fetch_dataset(info, (dir / "cache").string(), quiet), doctest::Contains("does not match"),
                       Error);
  CHECK(!fs::exists(dir / "cache/tiny2"));
  for (const auto& e : fs::directory_iterator(dir / "cache")) CHECK(e.path().filename().string().find(".curec-") == std::string::npos);

  info.url = "file://" + (dir / "missing.zip").string();
  CHECK_THROWS_WITH_AS(data::fetch_dataset(info, (dir / "cache").string(), quiet),
                       doctest::Contains("To install by hand"), Error);
  info.checksum = "";
  CHECK_THROWS_WITH_AS(data::fetch_dataset(info, (dir / "cache").string(), quiet),
                       doctest::Contains("FetchOptions::allow_unverified"), Error);
}
#endif

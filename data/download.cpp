#include "data/download.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "core/error.h"

#if CUREC_WITH_DOWNLOAD
#include <curl/curl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <zip.h>
#endif

namespace curec::data {
namespace fs = std::filesystem;

const std::vector<DatasetInfo>& known_datasets() {
  static const std::vector<DatasetInfo> all = {
      {"ml-100k", "https://files.grouplens.org/datasets/movielens/ml-100k.zip",
       "sha1:cd4dcac4241c8a4ad7badc7ca635da8a69dddb83", "ml-100k",
       "MovieLens 100K: 100,000 ratings of 1,682 movies by 943 users (the book's URL and SHA-1)"},
      {"ml-1m", "https://files.grouplens.org/datasets/movielens/ml-1m.zip", "md5:c4d9eecfca2ab87c1945afe126590906",
       "ml-1m", "MovieLens 1M: 1,000,209 ratings of 3,706 movies by 6,040 users"},
      {"ml-latest-small", "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip", "",
       "ml-latest-small",
       "MovieLens latest (small): ~100,000 ratings; GroupLens updates it, so no fixed checksum exists"},
  };
  return all;
}

const DatasetInfo& find_dataset(const std::string& name) {
  std::string names;
  for (const DatasetInfo& d : known_datasets()) {
    if (d.name == name) return d;
    names += (names.empty() ? "" : ", ") + d.name;
  }
  CUREC_FAIL("unknown data set '", name, "': known are ", names);
}

#if CUREC_WITH_DOWNLOAD

bool download_supported() { return true; }

std::string file_digest(const std::string& path, const std::string& algorithm) {
  const EVP_MD* md = algorithm == "sha1" ? EVP_sha1() : algorithm == "md5" ? EVP_md5() : nullptr;
  CUREC_CHECK(md, "unknown checksum algorithm '", algorithm, "': use sha1 or md5");
  std::ifstream in(path, std::ios::binary);
  CUREC_CHECK(in, "cannot open ", path, " to checksum it");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, md, nullptr);
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, out, &len);
  EVP_MD_CTX_free(ctx);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) s += {hex[out[i] >> 4], hex[out[i] & 15]};
  return s;
}

namespace {

// An archive entry name that stays inside the target: relative, no "..", no empty parts.
bool safe_entry(const std::string& name) {
  if (name.empty() || name[0] == '/' || name[0] == '\\' || name.find(':') != std::string::npos) return false;
  fs::path p(name);
  for (const auto& part : p)
    if (part == "..") return false;
  return true;
}

struct ZipCloser {
  zip_t* z;
  ~ZipCloser() {
    if (z) zip_discard(z);
  }
};

}  // namespace

void extract_zip(const std::string& zip_path, const std::string& target_dir) {
  int err = 0;
  zip_t* z = zip_open(zip_path.c_str(), ZIP_RDONLY, &err);
  if (!z) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    std::string msg = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    CUREC_FAIL(zip_path, ": not a readable zip archive (", msg, ")");
  }
  ZipCloser closer{z};
  zip_int64_t n = zip_get_num_entries(z, 0);
  // Check every entry before writing any.
  for (zip_int64_t i = 0; i < n; ++i) {
    std::string name = zip_get_name(z, i, 0);
    CUREC_CHECK(safe_entry(name), zip_path, ": entry '", name, "' would be written outside ", target_dir,
                "; refusing to unpack this archive");
    zip_uint8_t opsys;
    zip_uint32_t attr;
    if (zip_file_get_external_attributes(z, i, 0, &opsys, &attr) == 0 && opsys == ZIP_OPSYS_UNIX)
      CUREC_CHECK(!S_ISLNK(attr >> 16), zip_path, ": entry '", name, "' is a symbolic link; refusing to unpack");
  }
  std::vector<char> buf(1 << 16);
  for (zip_int64_t i = 0; i < n; ++i) {
    std::string name = zip_get_name(z, i, 0);
    fs::path out = fs::path(target_dir) / name;
    if (name.back() == '/') {
      fs::create_directories(out);
      continue;
    }
    fs::create_directories(out.parent_path());
    zip_file_t* f = zip_fopen_index(z, i, 0);
    CUREC_CHECK(f, zip_path, ": cannot read entry '", name, "': ", zip_strerror(z));
    std::ofstream o(out, std::ios::binary);
    zip_int64_t got;
    while ((got = zip_fread(f, buf.data(), buf.size())) > 0) o.write(buf.data(), got);
    zip_fclose(f);
    CUREC_CHECK(got == 0 && o, zip_path, ": entry '", name, "' is corrupt or could not be written to ", out.string());
  }
}

namespace {

size_t write_file(char* data, size_t size, size_t count, void* file) {
  return std::fwrite(data, size, count, static_cast<FILE*>(file));
}

void download(const std::string& url, const std::string& path, bool quiet) {
  FILE* f = std::fopen(path.c_str(), "wb");
  CUREC_CHECK(f, "cannot write ", path);
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_file);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, quiet ? 1L : 0L);
  CURLcode rc = curl_easy_perform(c);
  curl_easy_cleanup(c);
  bool closed = std::fclose(f) == 0;
  if (rc != CURLE_OK || !closed) {
    fs::remove(path);
    CUREC_FAIL("could not download ", url, ": ", curl_easy_strerror(rc));
  }
}

}  // namespace

std::string fetch_dataset(const DatasetInfo& info, const std::string& cache_dir, const FetchOptions& o) {
  fs::path target = fs::path(cache_dir) / info.folder;
  if (fs::exists(target / ".curec-complete")) return target.string();
  CUREC_CHECK(!info.checksum.empty() || o.allow_unverified, info.name,
              " has no published checksum; fetch it anyway with FetchOptions::allow_unverified set");
  fs::create_directories(cache_dir);
  std::string tag = ".curec-" + std::to_string(::getpid());
  fs::path archive = fs::path(cache_dir) / (info.name + tag + ".zip");
  fs::path staging = fs::path(cache_dir) / (info.name + tag);
  try {
    if (!o.quiet) std::fprintf(stderr, "downloading %s from %s\n", info.name.c_str(), info.url.c_str());
    download(info.url, archive.string(), o.quiet);
    if (!info.checksum.empty()) {
      auto colon = info.checksum.find(':');
      std::string algo = info.checksum.substr(0, colon), want = info.checksum.substr(colon + 1);
      std::string got = file_digest(archive.string(), algo);
      CUREC_CHECK(got == want, info.url, ": ", algo, " checksum ", got, " does not match the expected ", want,
                  "; the download is corrupt or the file changed upstream");
    }
    extract_zip(archive.string(), staging.string());
    fs::path unpacked = fs::exists(staging / info.folder) ? staging / info.folder : staging;
    std::ofstream(unpacked / ".curec-complete") << info.checksum << "\n";
    fs::remove_all(target);
    fs::rename(unpacked, target);
  } catch (const curec::Error& e) {
    std::error_code ec;
    fs::remove(archive, ec);
    fs::remove_all(staging, ec);
    CUREC_FAIL(e.message(), "\n  To install by hand: unpack ", info.url, " so that ", target.string(),
               " holds its files, or point CUREC_DATA_DIR at a folder holding ", info.folder, "/");
  }
  std::error_code ec;
  fs::remove(archive, ec);
  fs::remove_all(staging, ec);
  return target.string();
}

#else

bool download_supported() { return false; }
static void no_download() {
  CUREC_FAIL("curec was built without download support: install libcurl4-openssl-dev, libssl-dev and libzip-dev "
             "and rebuild, or fetch the data by hand and set CUREC_DATA_DIR");
}
std::string file_digest(const std::string&, const std::string&) { no_download(); return {}; }
void extract_zip(const std::string&, const std::string&) { no_download(); }
std::string fetch_dataset(const DatasetInfo&, const std::string&, const FetchOptions&) { no_download(); return {}; }

#endif

}  // namespace curec::data

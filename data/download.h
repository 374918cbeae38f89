#pragma once
// Known data sets fetched into a cache folder only when a user asks (`curec data get NAME`):
// downloaded to a temporary file, checksum-verified, unpacked safely (no entry may escape the
// target folder), then moved into place. Tests never download: they fetch file:// URLs.
#include <string>
#include <vector>

namespace curec::data {

struct DatasetInfo {
  std::string name;         // "ml-100k"
  std::string url;          // http(s):// or file://
  std::string checksum;     // "sha1:HEX" or "md5:HEX"; "" = none published (fetch needs allow_unverified)
  std::string folder;       // the folder the archive unpacks to, e.g. "ml-100k"
  std::string description;
};

const std::vector<DatasetInfo>& known_datasets();
const DatasetInfo& find_dataset(const std::string& name);

// Hex digest of a file: algorithm "sha1" or "md5".
std::string file_digest(const std::string& path, const std::string& algorithm);

// Unpacks a zip archive into target_dir. Entries with absolute paths, "..", or links are
// refused with an error before anything is written.
void extract_zip(const std::string& zip_path, const std::string& target_dir);

struct FetchOptions {
  bool allow_unverified = false;  // accept a data set with no published checksum
  bool quiet = false;
};

// Returns cache_dir/info.folder, downloading and unpacking it first when it is not there.
// Offline or on a failed transfer, the error says where to put the files by hand.
std::string fetch_dataset(const DatasetInfo& info, const std::string& cache_dir, const FetchOptions& options = {});

bool download_supported();  // false when built without libcurl/OpenSSL/libzip

}  // namespace curec::data

// Reader throughput: ML-100K u.data (repeated for a stable time) and a generated 2M-row
// ratings.csv in /tmp. Prints one JSON line with MB/s and rows/s.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/philox.h"
#include "data/movielens.h"
#include "data/ratings_reader.h"

using namespace curec;
using namespace curec::data;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

size_t file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  return f ? static_cast<size_t>(f.tellg()) : 0;
}

// Best of `repeats` timed reads: the least disturbed run measures the reader, not the machine.
template <class Read>
nlohmann::json time_reads(const std::string& path, int repeats, Read read) {
  double best = 1e30;
  size_t rows = 0;
  for (int k = 0; k < repeats; ++k) {
    auto t0 = std::chrono::steady_clock::now();
    Interactions d = read();
    best = std::min(best, seconds_since(t0));
    rows = d.size();
  }
  const double mb = file_bytes(path) / 1e6;
  return {{"file", path}, {"rows", rows}, {"megabytes", mb}, {"best_seconds", best}, {"repeats", repeats},
          {"mb_per_s", mb / best}, {"rows_per_s", rows / best}};
}

// A ratings.csv like ML-25M's: header, 2M rows, half-star ratings, 10-digit timestamps.
std::string write_csv(int64_t rows) {
  std::string path = "/tmp/curec_bench_ratings.csv";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return "";
  std::fputs("userId,movieId,rating,timestamp\n", f);
  for (int64_t i = 0; i < rows; ++i) {
    philox::U32x4 b = philox::bits(7, static_cast<uint64_t>(i));
    std::fprintf(f, "%lld,%u,%.1f,%u\n", static_cast<long long>(1 + i / 150), 1 + b.v[0] % 60000, 0.5 * (1 + b.v[1] % 10),
                 1000000000u + b.v[2] % 600000000u);
  }
  std::fclose(f);
  return path;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    // Data directory: argument 1, else $CUREC_DATA_DIR, else ../shared/data (run from the checkout).
    const char* env = std::getenv("CUREC_DATA_DIR");
    std::string data_dir = argc > 1 ? argv[1] : (env && *env ? env : "../shared/data");
    int64_t csv_rows = argc > 2 ? std::stoll(argv[2]) : 2000000;
    nlohmann::json out{{"bench", "readers"}};
    const std::string ml = data_dir + "/ml-100k";
    if (file_bytes(ml + "/u.data") > 0)
      out["ml100k_u_data"] = time_reads(ml + "/u.data", 20, [&] { return read_ml100k(ml); });
    else
      out["ml100k_u_data"] = "skipped: no " + ml + "/u.data";
    const std::string csv = write_csv(csv_rows);
    out["ratings_csv"] = time_reads(csv, 3, [&] { return read_ratings(csv, RatingsFormat::ml_csv()); });
    std::remove(csv.c_str());
    std::cout << out.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_readers: " << e.what() << std::endl;
    return 1;
  }
}

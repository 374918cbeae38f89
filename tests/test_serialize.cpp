#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "nn/serialize.h"
#include "tests/testing.h"

using namespace curec;
namespace fs = std::filesystem;

namespace {

// A fresh directory per test case, removed at the end.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("curec_serialize_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(counter()++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_bytes(const std::string& path, const std::vector<char>& bytes, size_t n) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(n));
}

nn::StateDict sample_state() {
  nn::StateDict d;
  d["emb.weight"] = testing::randn({5, 3}, 1);
  d["fc.bias"] = testing::randn({4}, 2);
  d["ids"] = Tensor::from_vector<int64_t>({7, -1, 1LL << 40}, {3});
  d["mask"] = Tensor::from_vector<uint8_t>({0, 1, 255}, {3});
  d["count"] = Tensor::from_vector<int32_t>({42}, {1});
  d["scalar"] = Tensor::scalar(3.5f);
  d["empty"] = Tensor::zeros({0, 4});
  return d;
}

const std::map<std::string, std::string> kMeta = {{"model", "neumf"}, {"num_factors", "8"}, {"hidden", "10,10"}};

void check_same(const nn::StateDict& a, const nn::StateDict& b) {
  REQUIRE(a.size() == b.size());
  for (const auto& entry : a) {
    // Not a structured binding: clang before 16 cannot capture one (CAPTURE is a lambda).
    const std::string& name = entry.first;
    const Tensor& t = entry.second;
    CAPTURE(name);
    REQUIRE(b.count(name));
    const Tensor& u = b.at(name);
    CHECK(u.shape() == t.shape());
    CHECK(u.dtype() == t.dtype());
    REQUIRE(u.nbytes() == t.nbytes());
    CHECK(std::memcmp(u.raw_data(), t.raw_data(), t.nbytes()) == 0);
  }
}

}  // namespace

TEST_CASE("serialize: save/load round trip is bitwise, with metadata") {
  TempDir dir;
  std::string path = dir.file("model.curec");
  nn::StateDict d = sample_state();
  nn::save_state(path, d, kMeta);
  nn::LoadedState s = nn::load_state(path);
  CHECK(s.version == nn::kStateFormatVersion);
  CHECK(s.meta == kMeta);
  check_same(d, s.tensors);
  for (auto& [name, t] : s.tensors) CHECK(!t.is_cuda());
  // No temporary file is left behind.
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
  // Saving again replaces the file.
  nn::save_state(path, {{"only", Tensor::ones({2})}}, {});
  CHECK(nn::load_state(path).tensors.size() == 1);
}

TEST_CASE("serialize: every truncation of a small file is a clear error") {
  TempDir dir;
  std::string path = dir.file("small.curec");
  nn::save_state(path, {{"w", testing::randn({2, 3}, 4)}, {"i", Tensor::from_vector<int64_t>({3, 1}, {2})}},
                 {{"model", "mf"}});
  std::vector<char> bytes = read_bytes(path);
  REQUIRE(bytes.size() > 60);
  std::string cut = dir.file("cut.curec");
  for (size_t n = 0; n < bytes.size(); ++n) {
    CAPTURE(n);
    write_bytes(cut, bytes, n);
    CHECK_THROWS_WITH_AS(nn::load_state(cut), doctest::Contains(cut.c_str()), Error);
  }
  write_bytes(cut, bytes, bytes.size());
  CHECK_NOTHROW(nn::load_state(cut));
}

TEST_CASE("serialize: a flipped byte anywhere is detected") {
  TempDir dir;
  std::string path = dir.file("f.curec");
  nn::save_state(path, {{"w", testing::randn({4, 2}, 5)}}, {{"k", "v"}});
  std::vector<char> bytes = read_bytes(path);
  std::string bad = dir.file("bad.curec");
  for (size_t i = 0; i < bytes.size(); ++i) {
    CAPTURE(i);
    std::vector<char> b = bytes;
    b[i] ^= 0x10;
    write_bytes(bad, b, b.size());
    CHECK_THROWS_WITH_AS(nn::load_state(bad), doctest::Contains(bad.c_str()), Error);
  }
  // A data byte hit gives the checksum message.
  std::vector<char> b = bytes;
  b[b.size() - 12] ^= 1;
  write_bytes(bad, b, b.size());
  CHECK_THROWS_WITH_AS(nn::load_state(bad), doctest::Contains("checksum mismatch"), Error);
}

TEST_CASE("serialize: foreign files, newer versions and missing files are named errors") {
  TempDir dir;
  std::string foreign = dir.file("foreign.bin");
  std::vector<char> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '\n', 0, 0, 0, 0, 0, 0, 0, 0};
  write_bytes(foreign, text, text.size());
  CHECK_THROWS_WITH_AS(nn::load_state(foreign), doctest::Contains("not a curec state file"), Error);

  std::string path = dir.file("v.curec");
  nn::save_state(path, {{"w", Tensor::ones({2})}}, {});
  std::vector<char> bytes = read_bytes(path);
  bytes[8] = static_cast<char>(nn::kStateFormatVersion + 1);  // version field follows the 8-byte magic
  write_bytes(path, bytes, bytes.size());
  CHECK_THROWS_WITH_AS(nn::load_state(path), doctest::Contains("format version 2 is not supported"), Error);

  CHECK_THROWS_WITH_AS(nn::load_state(dir.file("absent.curec")), doctest::Contains("cannot open"), Error);
}

TEST_CASE("serialize: a huge length field is rejected without allocating it") {
  TempDir dir;
  std::string path = dir.file("h.curec");
  nn::save_state(path, {{"w", Tensor::ones({2})}}, {});
  std::vector<char> bytes = read_bytes(path);
  // Metadata count (offset 12) claims 2^31 entries; fix the checksum so only the length is wrong.
  bytes[15] = 0x7f;
  size_t body = bytes.size() - 8;
  uint64_t h = nn::fnv1a64(bytes.data(), body);
  for (int i = 0; i < 8; ++i) bytes[body + i] = static_cast<char>(h >> (8 * i));
  write_bytes(path, bytes, bytes.size());
  CHECK_THROWS_WITH_AS(nn::load_state(path), doctest::Contains("truncated or corrupted"), Error);
}

TEST_CASE("serialize: an existing file survives a save that fails") {
  TempDir dir;
  std::string path = dir.file("keep.curec");
  nn::StateDict good = sample_state();
  nn::save_state(path, good, kMeta);
  // The failure happens mid-write (the undefined tensor is met after others were written).
  nn::StateDict broken = sample_state();
  broken["zzz.undefined"] = Tensor();
  CHECK_THROWS_WITH_AS(nn::save_state(path, broken, {}), doctest::Contains("undefined"), Error);
  check_same(good, nn::load_state(path).tensors);
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
  // A save into a missing directory fails cleanly too.
  CHECK_THROWS_WITH_AS(nn::save_state(dir.file("no/such/dir/x.curec"), good, {}), doctest::Contains("cannot create"),
                       Error);
}

TEST_CASE("serialize: weights holding NaN or infinity are refused by file and tensor name") {
  TempDir dir;
  for (float bad : {std::nanf(""), INFINITY, -INFINITY}) {
    CAPTURE(bad);
    std::string path = dir.file("diverged.curec");
    nn::StateDict d = sample_state();
    Tensor w = testing::randn({3, 2}, 7);
    w.data<float>()[4] = bad;
    d["mlp.0.weight"] = w;
    nn::save_state(path, d, kMeta);
    const std::string e = testing::error_of([&] { nn::load_state(path); });
    CHECK(e.find(path) != std::string::npos);
    CHECK(e.find("tensor \"mlp.0.weight\" f32[3, 2] on cpu holds a non-finite value") != std::string::npos);
    CHECK(e.find("at element 4") != std::string::npos);
  }
  // Integer tensors have no non-finite values; extreme finite floats load.
  std::string path = dir.file("finite.curec");
  nn::StateDict d = sample_state();
  d["big"] = Tensor::from_vector<float>({3.4e38f, -3.4e38f, 1e-45f}, {3});
  nn::save_state(path, d, kMeta);
  check_same(d, nn::load_state(path).tensors);
}

TEST_CASE("serialize: a directory or FIFO given as a state file is refused by name") {
  TempDir dir;
  CHECK(testing::error_of([&] { nn::load_state(dir.path.string()); }).find("is a directory") != std::string::npos);
  std::string fifo = dir.file("pipe.curec");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(testing::error_of([&] { nn::load_state(fifo); }).find("is a FIFO") != std::string::npos);
}

TEST_SUITE("cuda") {
  TEST_CASE("serialize: CUDA tensors are saved from the device") {
    TempDir dir;
    std::string path = dir.file("gpu.curec");
    Tensor w = testing::randn({7, 3}, 9);
    nn::save_state(path, {{"w", w.to(Device::cuda(0))}}, {});
    check_same({{"w", w}}, nn::load_state(path).tensors);
  }
}

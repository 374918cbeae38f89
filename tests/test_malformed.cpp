// Every file in tests/malformed/ is broken in one way; reading it must stop with an error that
// names the file, the 1-based line and the problem.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "data/ratings_reader.h"
#include "data/sequence_file.h"
#include "app/ratings_source.h"
#include "tests/testing.h"

using namespace curec;
using namespace curec::app;
using namespace curec::data;

namespace {

enum class Kind { udata, dat, csv, tsv, semicolon, detect, seq };

struct Expectation {
  const char* file;
  Kind kind;
  int line;
  const char* phrase;
};

const Expectation kExpectations[] = {
    {"udata_wrong_columns.data", Kind::udata, 3, "wrong column count: expected 4 fields separated by '\\t', found 3"},
    {"udata_non_numeric_user.data", Kind::udata, 2, "user id \"abc\" is not an integer"},
    {"udata_rating_6.data", Kind::udata, 4, "rating 6 outside the declared range [1, 5]"},
    {"udata_rating_0.data", Kind::udata, 1, "rating 0 outside the declared range [1, 5]"},
    {"udata_empty.data", Kind::udata, 1, "empty file"},
    {"udata_truncated.data", Kind::udata, 3, "truncated last line (no trailing newline, 2 of 4 fields)"},
    {"udata_negative_id.data", Kind::udata, 2, "item id -4 out of range"},
    {"udata_huge_id.data", Kind::udata, 3, "user id \"99999999999999999999\" out of range"},
    {"udata_blank_line.data", Kind::udata, 3, "found 1 (empty line)"},
    {"udata_bad_timestamp.data", Kind::udata, 2, "timestamp \"88125x\" is not an integer"},
    {"udata_space_separated.data", Kind::udata, 2, "wrong column count"},
    {"udata_trailing_tab.data", Kind::udata, 2, "found 5"},
    {"dat_wrong_columns.dat", Kind::dat, 2, "expected 4 fields separated by '::', found 3"},
    {"dat_single_colon.dat", Kind::dat, 1, "wrong column count"},
    {"dat_rating_nan.dat", Kind::dat, 3, "outside the declared range [0.5, 5]"},
    {"dat_truncated.dat", Kind::dat, 2, "truncated last line"},
    {"dat_non_numeric_rating.dat", Kind::dat, 1, "rating \"five\" is not a number"},
    {"csv_no_header.csv", Kind::csv, 1, "expected a header line"},
    {"csv_header_only.csv", Kind::csv, 2, "empty file"},
    {"csv_rating_5_5.csv", Kind::csv, 3, "rating 5.5 outside the declared range [0.5, 5]"},
    {"csv_extra_column.csv", Kind::csv, 2, "expected 4 fields separated by ',', found 5"},
    {"csv_empty_field.csv", Kind::csv, 4, "item id \"\" is not an integer"},
    {"csv_rating_inf.csv", Kind::csv, 2, "rating inf outside the declared range"},
    {"csv_truncated_crlf.csv", Kind::csv, 3, "truncated last line (no trailing newline, 2 of 4 fields)"},
    {"generic_wrong_separator.txt", Kind::semicolon, 1, "separated by ';', found 1"},
    {"generic_rating_garbage.tsv", Kind::tsv, 2, "rating \"3.5abc\" is not a number"},
    {"generic_id_float.tsv", Kind::tsv, 2, "user id \"3.0\" is not an integer"},
    {"detect_unknown_sep.txt", Kind::detect, 1, "unknown separator"},
    {"detect_empty.txt", Kind::detect, 1, "empty file"},
    {"detect_header_only.csv", Kind::detect, 2, "empty file"},
    {"udata_nul_byte.data", Kind::udata, 2, "a NUL byte at column 7: this is not a text file"},
    {"csv_bom_bad_rating.csv", Kind::detect, 2, "rating \"x\" is not a number"},
    // The `user item` sequences format (data/sequence_file.h).
    {"seq_non_integer.txt", Kind::seq, 3, "item id \"x\" is not an integer"},
    {"seq_float_id.txt", Kind::seq, 2, "user id \"1.0\" is not an integer"},
    {"seq_zero_id.txt", Kind::seq, 2, "user id 0 out of range: ids in the `user item` format are 1-based"},
    {"seq_negative_id.txt", Kind::seq, 2, "item id -3 out of range"},
    {"seq_huge_id.txt", Kind::seq, 2, "item id 3000000000 out of range"},
    {"seq_three_fields.txt", Kind::seq, 2, "expected 2 fields (user item) separated by spaces or tabs, found 3"},
    {"seq_one_field.txt", Kind::seq, 3, "found 1"},
    {"seq_comma.txt", Kind::seq, 1, "separated by spaces or tabs, found 1"},
    {"seq_blank_line.txt", Kind::seq, 2, "found 0 (blank line: remove it)"},
    {"seq_empty.txt", Kind::seq, 1, "empty file (no interactions)"},
};

void read_as(const std::string& path, Kind kind) {
  switch (kind) {
    case Kind::udata: read_ratings(path, RatingsFormat::ml100k()); break;
    case Kind::dat: read_ratings(path, RatingsFormat::ml_dat()); break;
    case Kind::csv: read_ratings(path, RatingsFormat::ml_csv()); break;
    case Kind::tsv: read_ratings(path, RatingsFormat::csv("\t", false, false)); break;
    case Kind::semicolon: read_ratings(path, RatingsFormat::csv(";", false, false)); break;
    case Kind::detect: read_ratings(path, detect_ratings_format(path)); break;
    case Kind::seq: read_sequence_file(path); break;
  }
}

}  // namespace

TEST_CASE("malformed files: each error names the file, the line and the problem") {
  const std::string dir = std::string(CUREC_SOURCE_DIR) + "/tests/malformed/";
  CHECK(std::size(kExpectations) >= 20);
  for (const Expectation& e : kExpectations) {
    CAPTURE(e.file);
    std::string message;
    try {
      read_as(dir + e.file, e.kind);
    } catch (const Error& err) {
      message = err.what();
    }
    CAPTURE(message);
    REQUIRE_FALSE(message.empty());  // the read must fail
    CHECK(message.find(e.file) != std::string::npos);
    CHECK(message.find("line " + std::to_string(e.line) + ":") != std::string::npos);
    CHECK(message.find(e.phrase) != std::string::npos);
  }
}

TEST_CASE("a format that cannot split numbers is refused before reading") {
  const std::string path = std::string(CUREC_SOURCE_DIR) + "/tests/malformed/udata_rating_6.data";
  CHECK_THROWS_WITH_AS(read_ratings(path, RatingsFormat::csv("", false, true)),
                       doctest::Contains("unknown separator"), Error);
  CHECK_THROWS_WITH_AS(read_ratings(path, RatingsFormat::csv(".", false, true)),
                       doctest::Contains("unknown separator '.'"), Error);
  CHECK_THROWS_WITH_AS(read_ratings("/nonexistent/ratings.csv", RatingsFormat::ml_csv()),
                       doctest::Contains("/nonexistent/ratings.csv"), Error);
}

TEST_CASE("a UTF-8 byte order mark is skipped: format detection and every rating survive it") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("curec_bom_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string tsv = (dir / "bom.data").string(), csv = (dir / "bom.csv").string();
  std::ofstream(tsv) << "\xEF\xBB\xBF" << "196\t242\t3\t881250949\n186\t302\t3\t891717742\n";
  std::ofstream(csv) << "\xEF\xBB\xBF" << "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n";
  RatingsFormat f = detect_ratings_format(tsv);
  CHECK(f.separator == "\t");
  CHECK_FALSE(f.header);  // the first rating is not taken for a header
  Interactions d = read_ratings(tsv, f);
  REQUIRE(d.size() == 2);
  CHECK(d.users->raw(d.user[0]) == 196);
  CHECK(read_ratings(tsv, RatingsFormat::ml100k()).size() == 2);
  RatingsFormat c = detect_ratings_format(csv);
  CHECK(c.header);
  Interactions e = read_ratings(csv, c);
  REQUIRE(e.size() == 1);
  CHECK(e.rating[0] == 2.5f);
  CHECK(read_ratings_file(tsv).size() == 2);
  // A BOM alone is an empty file.
  std::ofstream(tsv, std::ios::trunc) << "\xEF\xBB\xBF";
  CHECK_THROWS_WITH_AS(read_ratings(tsv, RatingsFormat::ml100k()), doctest::Contains("line 1: empty file"), Error);
  fs::remove_all(dir);
}

TEST_CASE("special files are refused by name: directory, FIFO, device, /proc pseudo-file") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("curec_special_" + std::to_string(::getpid()));
  fs::create_directories(dir / "ml" / "u.data");  // a folder whose u.data is a directory
  const std::string fifo = (dir / "ratings.csv").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const std::string udata = (dir / "ml" / "u.data").string();
  CHECK(testing::error_of([&] { load_ratings_source((dir / "ml").string()); })
            .find("cannot read '" + udata + "': it is a directory, not a regular file") != std::string::npos);
  // Opening a FIFO for reading would block; it is refused before that.
  CHECK(testing::error_of([&] { read_ratings_file(fifo); }).find("'" + fifo + "': it is a FIFO (named pipe)") !=
        std::string::npos);
  CHECK(testing::error_of([&] { load_ratings_source(fifo); }).find("it is a FIFO") != std::string::npos);
  CHECK(testing::error_of([&] { read_ratings("/dev/null", RatingsFormat::ml100k()); })
            .find("'/dev/null': it is a character device, not a regular file") != std::string::npos);
  CHECK(testing::error_of([&] { detect_ratings_format("/proc/self/status"); })
            .find("'/proc/self/status': it is a pseudo-file of unknown size") != std::string::npos);
  CHECK(testing::error_of([&] { read_ratings_file((dir / "absent.csv").string()); }).find("no such ratings file") !=
        std::string::npos);
  fs::remove_all(dir);
}

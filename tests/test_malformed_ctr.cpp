// The CTR files in tests/malformed/ctr/ and the encoder files in tests/malformed/encoders/ are
// each broken in one way; reading one must stop with an error naming the file, the 1-based
// line and the problem. Encoder text held inside a model file names the model instead.
#include <fstream>
#include <sstream>
#include <string>

#include "data/ctr.h"
#include "tests/testing.h"

using namespace curec;
using namespace curec::data;

namespace {

struct Case {
  const char* file;
  const char* format;  // "criteo", "avazu", "d2l": fit an encoder on the file; "encoder": load one
  int line;
  const char* phrase;
};

const Case kCases[] = {
    {"ctr/criteo_short_row.txt", "criteo", 4,
     "expected 40 '\\t'-separated fields (a label, 13 integer and 26 categorical fields), got 39"},
    {"ctr/criteo_bad_label.txt", "criteo", 2, "the label must be 0 or 1, got \"2\""},
    {"ctr/criteo_bad_integer.txt", "criteo", 3, "integer field I5 must be an integer or empty, got \"12x\""},
    {"ctr/avazu_no_click.csv", "avazu", 1, "the Avazu header has no 'click' column"},
    {"ctr/avazu_cr_in_field.csv", "avazu", 3, "holds a carriage return ('\\r') inside the line"},
    {"ctr/avazu_short_row.csv", "avazu", 4, "fields (as many as the header), got 22"},
    {"ctr/d2l_wrong_columns.txt", "d2l", 4,
     "expected 35 '\\t'-separated fields (a label and 34 categorical fields), got 34"},
    {"encoders/encoder_cr_in_value.encoder", "encoder", 10, "a carriage return ('\\r') inside the line"},
    {"encoders/encoder_renamed_field.encoder", "encoder", 5, "are not those of the d2l format"},
    {"encoders/encoder_truncated.encoder", "encoder", 41, "unexpected end of file, expected a field value"},
    {"encoders/encoder_wrong_signature.encoder", "encoder", 1, "not a curec CTR encoder file"},
    {"encoders/encoder_min_count_0.encoder", "encoder", 3, "min_count must be at least 1, got 0"},
};

std::string dir() { return std::string(CUREC_SOURCE_DIR) + "/tests/malformed/"; }

void read_as(const Case& c) {
  const std::string path = dir() + c.file;
  const std::string f = c.format;
  if (f == "encoder") CtrEncoder::load(path);
  else CtrEncoder::fit(path, f == "criteo" ? CtrFormat::criteo : f == "avazu" ? CtrFormat::avazu : CtrFormat::d2l, 1);
}

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("malformed CTR and encoder files: each error names the file, the line and the problem") {
  for (const Case& c : kCases) {
    CAPTURE(c.file);
    const std::string message = testing::error_of([&] { read_as(c); });
    CAPTURE(message);
    REQUIRE_FALSE(message.empty());  // the read must fail
    CHECK(message.find("file '" + dir() + c.file + "', line " + std::to_string(c.line) + ": ") != std::string::npos);
    CHECK(message.find(c.phrase) != std::string::npos);
  }
}

TEST_CASE("malformed encoder text inside a model file: the error names the model and the line") {
  for (const Case& c : kCases) {
    if (std::string(c.format) != "encoder") continue;
    CAPTURE(c.file);
    const std::string text = file_text(dir() + c.file);
    REQUIRE_FALSE(text.empty());
    const std::string message = testing::error_of([&] { CtrEncoder::from_text(text, "fm.curec (its CTR encoder)"); });
    CAPTURE(message);
    CHECK(message.find("file 'fm.curec (its CTR encoder)', line " + std::to_string(c.line) + ": ") !=
          std::string::npos);
    CHECK(message.find(c.phrase) != std::string::npos);
  }
}

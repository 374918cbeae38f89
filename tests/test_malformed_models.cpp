// The model files in tests/malformed/models/ are each broken in one way (weights holding NaN,
// truncated, corrupted, ids out of order or repeated, a model predict does not take); loading one must
// stop with an error naming the file and the problem (and the tensor, for a bad weight).
#include <string>

#include "app/saved_model.h"
#include "tests/testing.h"

using namespace curec;

namespace {

struct Case {
  const char* file;
  const char* phrase;
};

const Case kCases[] = {
    {"model_nan_weight.curec", "tensor \"item_factors.weight\" f32[3, 2] on cpu holds a non-finite value (nan) at element 3"},
    {"model_truncated.curec", "checksum mismatch: the file is truncated or corrupted"},
    {"model_corrupted.curec", "checksum mismatch: the file is truncated or corrupted"},
    {"model_ids_unsorted.curec", "the saved user ids are out of order"},
    {"model_ids_repeated.curec", "the saved user id 1 appears twice"},  // found by fuzz_saved_model
    {"model_fm_for_predict.curec", "holds a 'fm' model; predict, recommend and evaluate take"},
};

}  // namespace

TEST_CASE("malformed model files: each error names the file and the problem") {
  const std::string dir = std::string(CUREC_SOURCE_DIR) + "/tests/malformed/models/";
  for (const Case& c : kCases) {
    CAPTURE(c.file);
    const std::string message = testing::error_of([&] { app::load_saved_model(dir + c.file); });
    CAPTURE(message);
    REQUIRE_FALSE(message.empty());  // the load must fail
    CHECK(message.find(dir + c.file) != std::string::npos);
    CHECK(message.find(c.phrase) != std::string::npos);
  }
}

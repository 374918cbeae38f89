// FM/DeepFM model files hold their CTR encoder (app/saved_model_ctr): written as one file, read
// back the same; an older model with FILE.encoder beside it still loads; a model with neither
// is a clear error.
#include <filesystem>
#include <fstream>
#include <string>

#include "app/saved_model_ctr.h"
#include "nn/linear.h"
#include "nn/serialize.h"
#include "tests/testing.h"

using namespace curec;
namespace fs = std::filesystem;

namespace {

// A d2l file of 6 rows: 34 fields with two values each, so min_count 1 keeps them all.
data::CtrEncoder small_encoder(const testing::TempDir& dir) {
  const std::string path = dir.file("rows.txt");
  std::ofstream out(path);
  for (int r = 0; r < 6; ++r) {
    out << (r % 2);
    for (int f = 0; f < 34; ++f) out << "\tv" << f << "_" << (r % 2);
    out << "\n";
  }
  out.close();
  return data::CtrEncoder::fit(path, data::CtrFormat::d2l, 1);
}

}  // namespace

TEST_CASE("saved CTR models: the encoder is inside the one model file") {
  testing::TempDir dir;
  const data::CtrEncoder encoder = small_encoder(dir);
  app::RunSettings s;
  s.save = dir.file("fm.curec");
  s.verbose = false;
  nn::Linear model(3, 1);
  // A stale encoder of an older save sits beside the target: the new save removes it.
  encoder.save(s.save + ".encoder");
  app::save_ctr_model_if_asked(s, model, {{"model", "fm"}}, &encoder);
  CHECK_FALSE(fs::exists(s.save + ".encoder"));
  const nn::LoadedState st = nn::load_state(s.save);
  CHECK(app::saved_ctr_encoder(s.save, st.meta) == encoder);
  CHECK(st.tensors.size() == model.state_dict().size());
}

TEST_CASE("saved CTR models: an older model reads FILE.encoder beside it; with neither, a clear error") {
  testing::TempDir dir;
  const data::CtrEncoder encoder = small_encoder(dir);
  const std::string model = dir.file("old.curec");
  const std::map<std::string, std::string> meta = {{"model", "fm"}};
  const std::string message = testing::error_of([&] { app::saved_ctr_encoder(model, meta); });
  CHECK(message.find("the model holds no CTR encoder and there is no " + model + ".encoder") != std::string::npos);
  encoder.save(model + ".encoder");
  CHECK(app::saved_ctr_encoder(model, meta) == encoder);
}

TEST_CASE("saved CTR models: a damaged encoder inside the file names the model and the line") {
  const std::map<std::string, std::string> meta = {{"model", "fm"}, {"ctr_encoder", "curec-ctr-encoder 1\nformat x\n"}};
  CHECK_THROWS_WITH_AS(app::saved_ctr_encoder("m.curec", meta),
                       doctest::Contains("file 'm.curec (its CTR encoder)', line 2: expected 'format d2l'"), Error);
}

#include "app/saved_model_ctr.h"

#include <cstdio>
#include <filesystem>

#include "app/saved_meta.h"
#include "core/error.h"

namespace curec::app {
namespace {
constexpr const char* kEncoderKey = "ctr_encoder";
}  // namespace

void save_ctr_model_if_asked(const RunSettings& s, const nn::Module& model, std::map<std::string, std::string> meta,
                             const data::CtrEncoder* encoder) {
  if (s.save.empty()) return;
  if (encoder) meta[kEncoderKey] = encoder->to_text();
  save_if_asked(s, model, meta);
  // An encoder file of an older save would now describe another run's model.
  std::error_code ec;
  std::filesystem::remove(s.save + ".encoder", ec);
}

data::CtrEncoder saved_ctr_encoder(const std::string& model_file, const std::map<std::string, std::string>& meta) {
  auto it = meta.find(kEncoderKey);
  if (it != meta.end()) return data::CtrEncoder::from_text(it->second, model_file + " (its CTR encoder)");
  const std::string beside = model_file + ".encoder";  // as an older curec wrote it
  CUREC_CHECK(std::filesystem::exists(beside), model_file,
              ": the model holds no CTR encoder and there is no ", beside,
              " beside it; retrain it with `curec train fm|deepfm --save` on CTR data");
  return data::CtrEncoder::load(beside);
}

}  // namespace curec::app

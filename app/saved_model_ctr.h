#pragma once
// FM and DeepFM model files hold the CTR encoder their rows were encoded with inside the one
// file (the record's "ctr_encoder" entry), so model and encoder are written as one atomic unit:
// a failed or interrupted save leaves the previous pair intact, never a new model beside an old
// encoder. Files from before read FILE.encoder beside the model.
#include <map>
#include <string>

#include "app/recipe.h"
#include "data/ctr.h"
#include "nn/module.h"

namespace curec::app {

// Writes the model with `encoder` (may be null: synthetic rows) in its record, when the
// settings ask for it, and removes a FILE.encoder an older curec left beside it.
void save_ctr_model_if_asked(const RunSettings& s, const nn::Module& model, std::map<std::string, std::string> meta,
                             const data::CtrEncoder* encoder);

// The encoder of the FM/DeepFM model file `model_file` whose record is `meta`.
data::CtrEncoder saved_ctr_encoder(const std::string& model_file, const std::map<std::string, std::string>& meta);

}  // namespace curec::app

#pragma once
// Turns a user's CTR data argument into train and test rows: "synthetic" (a planted FM),
// "criteo" / "avazu" (the shared samples), a book-format folder (train.csv + test.csv), or a
// file (format detected, or named as FORMAT:PATH) split in place into its first 80% and the rest
// (data::read_ctr_split), the feature maps learned from the training rows alone.
#include <memory>
#include <string>

#include "data/ctr.h"

namespace curec::app {

struct CtrSource {
  data::CtrData train, test;
  std::string description;
  std::shared_ptr<data::CtrEncoder> encoder;  // null for synthetic rows
};

CtrSource load_ctr_source(const std::string& spec, uint64_t seed);

// The file or folder a CTR spec reads ("" for "" and "synthetic").
std::string ctr_path(const std::string& spec);

}  // namespace curec::app

#pragma once
// A matrix-factorization model saved by `curec train mf --save FILE`, loaded with the raw ids and
// the data it was trained on, for `curec predict` and `curec recommend`.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/mf.h"

namespace curec::cli {

struct SavedMF {
  std::string file;
  std::shared_ptr<models::MatrixFactorization> model;  // on the CPU, in eval mode
  std::vector<int64_t> user_ids, item_ids;             // raw ids, sorted: index = dense id
  std::map<std::string, std::string> meta;

  int32_t dense_user(int64_t raw) const;  // an error naming the id when the model never saw it
  int32_t dense_item(int64_t raw) const;
  // The --data, --split and --seed the model was trained with ("", "", 0 when the file
  // predates those records).
  std::string data() const;
  std::string split() const;
  uint64_t seed() const;
};

SavedMF load_saved_mf(const std::string& file);

}  // namespace curec::cli

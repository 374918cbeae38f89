#pragma once
// A model saved by `curec train mf|neumf --save FILE`, loaded with the raw ids and the data it
// was trained on, for `curec predict`, `recommend` and `evaluate`.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/mf.h"
#include "models/neumf.h"

namespace curec::cli {

struct SavedModel {
  std::string file, kind;                           // kind: "mf" or "neumf"
  std::shared_ptr<models::MatrixFactorization> mf;  // the one `kind` names, on the CPU, in eval mode
  std::shared_ptr<models::NeuMF> neumf;
  std::vector<int64_t> user_ids, item_ids;  // raw ids, sorted: index = dense id
  std::map<std::string, std::string> meta;

  // MF's predicted ratings or NeuMF's ranking scores of (user, item) pairs: i32 [n] each -> f32 [n].
  Tensor score(const Tensor& users, const Tensor& items) const;
  bool predicts_ratings() const { return kind == "mf"; }

  int32_t dense_user(int64_t raw) const;  // an error naming the id when the model never saw it
  int32_t dense_item(int64_t raw) const;
  // The --data, --split and --seed the model was trained with ("", "", 0 when the file
  // predates those records).
  std::string data() const;
  std::string split() const;
  uint64_t seed() const;
};

SavedModel load_saved_model(const std::string& file);

}  // namespace curec::cli

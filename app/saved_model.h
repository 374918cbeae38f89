#pragma once
// A model saved by `curec train MODEL --save FILE`, loaded with the raw ids and the data it was
// trained on, for `curec predict`, `recommend` and `evaluate`: one format for every model that
// scores a user and an item (MF, AutoRec, NeuMF, Caser, the rating nets, ALS, BPMF). AutoRec and Caser
// score from what a user rated in training, so their training split is rebuilt from the record.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "nn/module.h"

namespace curec::app {

struct SavedModel {
  std::string file, kind;                   // kind: "mf", "autorec", "neumf", ...
  std::vector<int64_t> user_ids, item_ids;  // raw ids, sorted: index = dense id
  std::map<std::string, std::string> meta;

  // Predicted ratings (rating models) or ranking scores (NeuMF, Caser) of (user, item) pairs:
  // i32 [n] each -> f32 [n], on the CPU, without gradients.
  Tensor score(const Tensor& users, const Tensor& items) const;
  // Every item's score for each of `users` (i32 [n]) -> f32 [n, items].
  Tensor score_all_items(const Tensor& users) const;
  bool predicts_ratings() const { return kind != "neumf" && kind != "caser" && kind != "sasrec"; }

  int32_t dense_user(int64_t raw) const;  // an error naming the id when the model never saw it
  int32_t dense_item(int64_t raw) const;
  // The data, split and seed the model was trained with ("", "", 0 when the file predates
  // those records).
  std::string data() const;
  std::string split() const;
  uint64_t seed() const;

  std::shared_ptr<void> model;  // keeps the model the scorers use alive
  std::function<Tensor(const Tensor& users)> all_items;
  std::function<Tensor(const Tensor& users, const Tensor& items)> pairs;  // unset: from all_items
};

SavedModel load_saved_model(const std::string& file);

}  // namespace curec::app

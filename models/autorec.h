#pragma once
// AutoRec (D2L §15.4, Sedhain et al. 2015): an autoencoder that reconstructs one row of the
// rating matrix from the row itself, ŷ = dec(dropout(σ(enc(x)))). 0 in x means "not rated".
//   item-based (the book's): a row is an item, its inputs are the ratings of every user;
//     dropout on the hidden layer.
//   user-based (the course notes'): a row is a user, its inputs are that user's ratings of every
//     item, centred on the user's mean over the rated items (unrated inputs stay 0), with dropout
//     noise on the input; the reconstruction adds the mean back, so it is in rating units too.
// forward() returns the whole reconstruction; the training loss masks it to the rated entries
// (ops/loss.h masked_squared_error), which equals the book's pred * sign(x).
#include <memory>
#include <string>

#include "core/generator.h"
#include "models/row_model.h"
#include "nn/dropout.h"
#include "nn/linear.h"

namespace curec::models {

enum class AutoRecKind { item_based, user_based };

AutoRecKind parse_autorec_kind(const std::string& name);  // "item" | "user"
std::string autorec_kind_name(AutoRecKind kind);

struct AutoRecConfig {
  int64_t num_inputs = 0;  // columns of a row: users (item-based) or items (user-based)
  int64_t hidden = 500;
  AutoRecKind kind = AutoRecKind::item_based;
  float hidden_dropout = 0.05f;  // the book's Dropout(0.05) after the encoder
  float input_dropout = 0.0f;    // denoising noise on the (centred) input
  float init_std = 0.01f;        // weights and biases ~ N(0, 0.01²), as the book and the anchor
  float empty_row_mean = 0.0f;   // user-based: the centre of a row with no ratings (global mean)
  uint64_t seed = 0;             // init and dropout draws

  // The course notes' user-based model: rows are users, inputs centred per user, dropout on
  // the input instead of the hidden layer.
  static AutoRecConfig user_based(int64_t num_items, float global_mean, int64_t hidden = 500);
};

class AutoRec : public RowModel {
 public:
  explicit AutoRec(const AutoRecConfig& config);
  // x: f32 [batch, num_inputs] ratings, 0 = unrated -> f32 [batch, num_inputs] reconstruction.
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "autorec"; }
  int64_t num_inputs() const override { return config_.num_inputs; }
  bool rows_are_items() const override { return config_.kind == AutoRecKind::item_based; }
  const AutoRecConfig& config() const { return config_; }

 private:
  AutoRecConfig config_;
  Generator dropout_gen_;  // owned, so the model never points at a caller's generator
  std::shared_ptr<nn::Linear> encoder_, decoder_;
  std::shared_ptr<nn::Dropout> input_dropout_, hidden_dropout_;
};

}  // namespace curec::models

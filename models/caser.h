#pragma once
// Caser (D2L §15.7, Tang & Wang 2018): a user's L most recent items, embedded as an L x k
// "image", pass through
//   * d horizontal filters of every height h = 1..L (kernel h x k), each ReLU'd and max-pooled
//     over time -> d·L features, and
//   * d' vertical filters (kernel L x 1), no activation -> d'·k features;
// dropout, a fully connected layer to k with ReLU gives z; the sequence-and-user
// representation is [z ; p_u] (2k wide), and an item's score is its dot product with a 2k-wide
// item embedding plus an item bias:
//   ŷ = [z ; p_u] · q'_i + b_i.
// Sequences hold item ids in [0, num_items]; id num_items is padding (data/sequence.h's
// default pad_item), so the sequence embedding has num_items + 1 rows.
#include <memory>
#include <string>
#include <vector>

#include "core/generator.h"
#include "models/ranking_model.h"
#include "nn/conv2d.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/linear.h"

namespace curec::models {

struct CaserConfig {
  int64_t num_users = 0;
  int64_t num_items = 0;
  int64_t factors = 10;  // k
  int64_t L = 5;         // sequence length
  int64_t d = 16;        // horizontal filters per height
  int64_t d_prime = 4;   // vertical filters
  float dropout = 0.05f;
  float init_std = 0.01f;  // every parameter ~ N(0, init_std²), as the book
};

class Caser : public RankingModel {
 public:
  // Dropout draws from a generator the model owns (seeded from gen's seed).
  explicit Caser(const CaserConfig& config, Generator& gen = default_generator());

  // users i32/i64 [n], sequences i32/i64 [n, L] -> f32 [n, 2k], the representation [z ; p_u].
  Tensor represent(const Tensor& users, const Tensor& sequences);
  // representation [n, 2k], items [n] -> f32 [n].
  Tensor score(const Tensor& representation, const Tensor& items);
  Tensor forward(const Tensor& users, const Tensor& sequences, const Tensor& items) {
    return score(represent(users, sequences), items);
  }
  // Every item's score for each user: f32 [n, num_items] (one matrix product).
  Tensor score_all_items(const Tensor& users, const Tensor& sequences) override;
  // RankingModel: the representation once per row and both items scored against it (the book
  // calls the network twice, drawing two dropout masks; here both items see one).
  std::pair<Tensor, Tensor> score_pairs(const Tensor& users, const Tensor& sequences, const Tensor& positives,
                                        const Tensor& negatives) override {
    Tensor r = represent(users, sequences);
    return {score(r, positives), score(r, negatives)};
  }

  int64_t context_length() const override { return config_.L; }
  std::string name() const override { return "caser"; }
  const CaserConfig& config() const { return config_; }

 private:
  CaserConfig config_;
  Generator dropout_gen_;
  std::shared_ptr<nn::Embedding> user_emb_, seq_items_, out_items_, out_bias_;
  std::shared_ptr<nn::Conv2d> vertical_;
  std::vector<std::shared_ptr<nn::Conv2d>> horizontal_;  // height h at index h - 1
  std::shared_ptr<nn::Dropout> dropout_;
  std::shared_ptr<nn::Linear> fc_;
};

}  // namespace curec::models

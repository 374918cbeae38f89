#pragma once
// SASRec (Kang & McAuley, "Self-Attentive Sequential Recommendation", ICDM 2018), after the
// authors' code: a user's last T items (sequence ids, 0 = padding, left-padded) become
//   x = E[s] · √d + P            item table E [num_items + 1, d] (row 0 zero), positions P [T, d]
//   x = Drop(x) ⊙ m              m: the timeline mask, 1 at real items, 0 at padding
//   N times: x = Block(x) ⊙ m    nn::TransformerBlock's sasrec variant, causal, padded keys hidden
//   h = LN(x)                    eps 1e-8
// and item i's score at position t is h_t · E[i], the same table unscaled. Weights and tables
// are Glorot-uniform, biases zero (TensorFlow's defaults, as the authors'). Trained by
// train::SequenceTask (binary cross-entropy of the next item against one sampled negative) with
// Adam β₂ = 0.98; shared/anchors/pytorch_sasrec.py is the same model in PyTorch.
#include <cstdint>
#include <string>
#include <utility>

#include "core/generator.h"
#include "models/sequence_model.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/layer_norm.h"
#include "nn/module_list.h"
#include "nn/positional_embedding.h"
#include "nn/transformer_block.h"

namespace curec::models {

struct SASRecConfig {
  int64_t num_items = 0;      // sequence ids 1..num_items
  int64_t maxlen = 200;       // T (the paper: 200 on MovieLens-1M, 50 on its sparse sets)
  int64_t hidden = 50;        // d
  int64_t blocks = 2;
  int64_t heads = 1;          // must divide hidden
  float dropout = 0.2f;       // the paper: 0.2 on MovieLens-1M, 0.5 on its sparse sets
  bool fused_attention = true;  // ops/attention.h; false: the composed path (ops/attention_composed.h)
};

class SASRec : public SequenceModel {
 public:
  // Init draws from gen; dropout from a generator the model owns (seeded from gen's seed).
  explicit SASRec(const SASRecConfig& config, Generator& gen = default_generator());

  // seqs i64 [B, T] -> f32 [B, T, d]: each position's representation of the sequence up to it.
  Tensor encode(const Tensor& seqs);

  std::string name() const override { return "sasrec"; }
  int64_t max_length() const override { return config_.maxlen; }
  int64_t num_items() const override { return config_.num_items; }
  std::pair<Tensor, Tensor> score_next(const Tensor& seqs, const Tensor& positives, const Tensor& negatives) override;
  Tensor score(const Tensor& seqs, const Tensor& candidates) override;
  Tensor score_all_items(const Tensor& seqs) override;
  const SASRecConfig& config() const { return config_; }

 private:
  Tensor last_position(const Tensor& seqs);  // [B, d]: the representation of the whole sequence
  void check_sequences(const Tensor& seqs) const;

  SASRecConfig config_;
  Generator dropout_gen_;
  nn::Embedding items_;
  nn::PositionalEmbedding positions_;
  nn::Dropout dropout_;
  nn::ModuleList<nn::TransformerBlock> blocks_;
  nn::LayerNorm norm_;
  // Per sequence id: 1 for the padding id 0, else 0 (u8, the attention's key padding mask), and
  // its complement as f32 (the timeline mask). Constants, looked up on the model's device.
  Tensor pad_of_, keep_of_;
};

}  // namespace curec::models

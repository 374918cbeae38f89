#include "models/sasrec.h"

#include <cmath>
#include <vector>

#include "data/take.h"
#include "nn/init.h"
#include "ops/bmm.h"
#include "ops/elementwise.h"
#include "ops/index_select.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace curec::models {
namespace {

const SASRecConfig& checked(const SASRecConfig& c) {
  CUREC_CHECK(c.num_items > 0, "sasrec: needs at least one item, got ", c.num_items);
  CUREC_CHECK(c.maxlen > 0, "sasrec: maxlen (the input length) must be at least 1, got ", c.maxlen);
  CUREC_CHECK(c.hidden > 0 && c.blocks > 0, "sasrec: hidden and blocks must be positive, got ", c.hidden, " and ",
              c.blocks);
  CUREC_CHECK(c.heads > 0 && c.hidden % c.heads == 0, "sasrec: heads = ", c.heads, " must divide hidden = ", c.hidden,
              "; pick a head count that divides the width");
  CUREC_CHECK(c.dropout >= 0.0f && c.dropout < 1.0f, "sasrec: dropout must be in [0, 1), got ", c.dropout);
  return c;
}

nn::TransformerBlockOptions block_options(const SASRecConfig& c) {
  return {.heads = c.heads,
          .ff_dim = c.hidden,
          .dropout = c.dropout,
          .activation = nn::Activation::relu,
          .eps = 1e-8f,
          .fused_attention = c.fused_attention,
          .sasrec = true};
}

}  // namespace

SASRec::SASRec(const SASRecConfig& config, Generator& gen)
    : config_(checked(config)),
      dropout_gen_(gen.seed() ^ 0x5A5E2C0DEull),
      items_(config.num_items + 1, config.hidden, {}, gen),
      positions_(config.maxlen, config.hidden, gen),
      dropout_(config.dropout, dropout_gen_),
      norm_(config.hidden, {.eps = 1e-8f}) {
  register_generator("dropout_gen", dropout_gen_);
  register_module("items", items_);
  register_module("positions", positions_);
  register_module("dropout", dropout_);
  for (int64_t b = 0; b < config.blocks; ++b) blocks_.emplace_back(config.hidden, block_options(config), gen, &dropout_gen_);
  register_module("blocks", blocks_);
  register_module("norm", norm_);
  // TensorFlow's defaults: every matrix Glorot-uniform, every bias zero; LayerNorm keeps 1 and 0.
  for (auto& [name, p] : named_parameters()) {
    if (name.starts_with("norm") || name.find("_norm.") != std::string::npos) continue;
    if (p.dim() == 2) nn::xavier_uniform_(p, 1.0f, gen);
    else nn::zeros_(p);
  }
  items_.weight.rows(0, 1).zero_();  // the padding id's row
  std::vector<uint8_t> pad(static_cast<size_t>(config.num_items + 1), 0);
  std::vector<float> keep(pad.size(), 1.0f);
  pad[0] = 1;
  keep[0] = 0.0f;
  pad_of_ = Tensor::from_vector(pad, {config.num_items + 1});
  keep_of_ = Tensor::from_vector(keep, {config.num_items + 1, 1});
  register_buffer("pad_of", pad_of_);
  register_buffer("keep_of", keep_of_);
}

void SASRec::check_sequences(const Tensor& seqs) const {
  CUREC_CHECK(seqs.defined() && seqs.dim() == 2 && seqs.size(1) == config_.maxlen &&
                  (seqs.dtype() == DType::i64 || seqs.dtype() == DType::i32),
              "sasrec: needs sequences i64 [B, maxlen = ", config_.maxlen, "], got ", seqs.defined() ? seqs.str() : "none");
}

Tensor SASRec::encode(const Tensor& seqs) {
  check_sequences(seqs);
  const float scale = std::sqrt(static_cast<float>(config_.hidden));
  Tensor keep = data::take_rows(keep_of_, seqs);  // [B, T, 1]
  const nn::AttentionMasks masks{.causal = true, .key_padding_mask = data::take_rows(pad_of_, seqs)};
  Tensor x = dropout_(positions_(items_(seqs) * scale)) * keep;
  for (auto& block : blocks_) x = (*block)(x, masks) * keep;
  return norm_(x);
}

std::pair<Tensor, Tensor> SASRec::score_next(const Tensor& seqs, const Tensor& positives, const Tensor& negatives) {
  CUREC_CHECK(positives.defined() && negatives.defined() && positives.shape() == seqs.shape() &&
                  negatives.shape() == seqs.shape(),
              "sasrec: positives and negatives must have the sequences' shape ", seqs.defined() ? seqs.str() : "none");
  Tensor h = encode(seqs);
  return {sum(h * items_(positives), -1), sum(h * items_(negatives), -1)};
}

Tensor SASRec::last_position(const Tensor& seqs) {
  Tensor h = encode(seqs);
  const int64_t B = h.size(0), T = h.size(1);
  // Inputs are left-padded: position T - 1 holds every sequence's most recent item.
  std::vector<int64_t> last(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) last[static_cast<size_t>(b)] = b * T + T - 1;
  return index_select(reshape(h, {B * T, config_.hidden}), Tensor::from_vector(last, {B}).to(h.device()));
}

Tensor SASRec::score(const Tensor& seqs, const Tensor& candidates) {
  check_sequences(seqs);
  CUREC_CHECK(candidates.defined() && candidates.dim() == 2 && candidates.size(0) == seqs.size(0),
              "sasrec: needs candidates [B = ", seqs.size(0), ", C], got ", candidates.defined() ? candidates.str() : "none");
  const int64_t B = seqs.size(0);
  Tensor h = reshape(last_position(seqs), {B, config_.hidden, 1});
  return reshape(bmm(items_(candidates), h), {B, candidates.size(1)});
}

Tensor SASRec::score_all_items(const Tensor& seqs) { return matmul(last_position(seqs), items_.weight, false, true); }

}  // namespace curec::models

#include "models/autorec.h"

#include "core/error.h"
#include "nn/init.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace curec::models {

AutoRecKind parse_autorec_kind(const std::string& name) {
  if (name == "item" || name == "item_based") return AutoRecKind::item_based;
  if (name == "user" || name == "user_based") return AutoRecKind::user_based;
  CUREC_FAIL("unknown AutoRec kind '", name, "': use item or user");
}

std::string autorec_kind_name(AutoRecKind kind) { return kind == AutoRecKind::item_based ? "item" : "user"; }

AutoRecConfig AutoRecConfig::user_based(int64_t num_items, float global_mean, int64_t hidden) {
  AutoRecConfig c;
  c.num_inputs = num_items;
  c.hidden = hidden;
  c.kind = AutoRecKind::user_based;
  c.hidden_dropout = 0.0f;
  c.input_dropout = 0.1f;
  c.empty_row_mean = global_mean;
  return c;
}

namespace {
// Dropout draws must not repeat the init's Philox counters, so they get their own key.
constexpr uint64_t kDropoutKey = 0x9E3779B97F4A7C15ull;
}  // namespace

AutoRec::AutoRec(const AutoRecConfig& c) : config_(c), dropout_gen_(c.seed ^ kDropoutKey) {
  CUREC_CHECK(c.num_inputs > 0 && c.hidden > 0, "autorec: needs positive inputs and hidden units, got ", c.num_inputs,
              " inputs, ", c.hidden, " hidden");
  register_generator("dropout_gen", dropout_gen_);
  Generator init_gen(c.seed);
  encoder_ = register_module("encoder", std::make_shared<nn::Linear>(c.num_inputs, c.hidden, nn::LinearOptions{}, init_gen));
  decoder_ = register_module("decoder", std::make_shared<nn::Linear>(c.hidden, c.num_inputs, nn::LinearOptions{}, init_gen));
  input_dropout_ = register_module("input_dropout", std::make_shared<nn::Dropout>(c.input_dropout, dropout_gen_));
  hidden_dropout_ = register_module("hidden_dropout", std::make_shared<nn::Dropout>(c.hidden_dropout, dropout_gen_));
  for (auto& [name, p] : named_parameters()) nn::normal_(p, 0.0f, c.init_std, init_gen);
}

Tensor AutoRec::forward(const Tensor& x) {
  CUREC_CHECK(x.dtype() == DType::f32 && x.dim() == 2 && x.size(1) == config_.num_inputs,
              "autorec: input must be f32 [batch, ", config_.num_inputs, "] (one row of the rating matrix per sample), got ",
              x.str());
  Tensor input = x, centre;
  if (config_.kind == AutoRecKind::user_based) {
    Tensor rated = square(sign(x));  // 1 where rated
    Tensor count = sum(rated, 1, true);
    Tensor empty = 1.0f - sign(count);  // 1 for a row without ratings: avoid 0/0, use the global mean
    centre = sum(x, 1, true) / (count + empty) + empty * config_.empty_row_mean;
    input = (x - centre) * rated;
  }
  Tensor h = hidden_dropout_->forward(sigmoid(encoder_->forward(input_dropout_->forward(input))));
  Tensor out = decoder_->forward(h);
  return centre.defined() ? out + centre : out;
}

}  // namespace curec::models

#include "nn/transformer_block.h"

#include "ops/elementwise.h"
#include "ops/shape.h"

namespace curec::nn {
namespace {

int64_t hidden_width(int64_t dim, const TransformerBlockOptions& o) { return o.ff_dim > 0 ? o.ff_dim : 4 * dim; }

MultiHeadAttentionOptions attention_options(const TransformerBlockOptions& o) {
  return {.heads = o.heads, .dropout = o.dropout, .bias = true, .out_projection = !o.sasrec, .fused = o.fused_attention};
}

}  // namespace

TransformerBlock::TransformerBlock(int64_t dim, TransformerBlockOptions o, Generator& gen, Generator* dropout_gen)
    : attn_norm(dim, {.eps = o.eps}),
      ff_norm(dim, {.eps = o.eps}),
      attn(dim, attention_options(o), gen, dropout_gen),
      ff1(dim, hidden_width(dim, o), {}, gen),
      ff2(hidden_width(dim, o), dim, {}, gen),
      options_(o),
      act_(make_activation(o.activation)),
      drop_(o.dropout, dropout_gen ? *dropout_gen : gen) {
  CUREC_CHECK(o.activation == Activation::relu || o.activation == Activation::gelu,
              "TransformerBlock: the feed-forward's activation must be relu or gelu, got ", activation_name(o.activation));
  register_module("attn_norm", attn_norm);
  register_module("attn", attn);
  register_module("ff_norm", ff_norm);
  register_module("ff1", ff1);
  register_module("ff2", ff2);
  register_module("dropout", drop_);
}

// The linear layer on every position of x [B, L, in] -> [B, L, out].
Tensor TransformerBlock::per_position(Linear& layer, const Tensor& x) {
  const int64_t B = x.size(0), L = x.size(1);
  return reshape(layer(reshape(x, {B * L, x.size(2)})), {B, L, layer.out_features()});
}

// Dropout sees [B, L, ...] tensors: inside a data-parallel step its masks are keyed by batch row.
Tensor TransformerBlock::feed_forward(const Tensor& f) {
  return drop_(per_position(ff2, drop_((*act_)(per_position(ff1, f)))));
}

Tensor TransformerBlock::forward(const Tensor& x, const AttentionMasks& masks) {
  CUREC_CHECK(x.defined() && x.dim() == 3 && x.size(2) == attn.dim(), "TransformerBlock: needs x [B, L, ",
              attn.dim(), "], got ", x.defined() ? x.str() : "none");
  if (options_.sasrec) {
    Tensor q = attn_norm(x);
    Tensor f = ff_norm(q + attn.forward(q, x, masks));
    return f + feed_forward(f);
  }
  Tensor h = x + drop_(attn(attn_norm(x), masks));
  return h + feed_forward(ff_norm(h));
}

}  // namespace curec::nn

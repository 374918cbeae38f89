#include "nn/multi_head_attention.h"

#include "nn/init.h"
#include "ops/attention.h"
#include "ops/attention_composed.h"
#include "ops/permute.h"
#include "ops/shape.h"

namespace curec::nn {
namespace {

void glorot(Linear& l, Generator& gen) {
  xavier_uniform_(l.weight, 1.0f, gen);
  if (l.bias.defined()) zeros_(l.bias);
}

}  // namespace

MultiHeadAttention::MultiHeadAttention(int64_t dim, MultiHeadAttentionOptions o, Generator& gen, Generator* dropout_gen)
    : q_proj(dim, dim, {.bias = o.bias}, gen),
      k_proj(dim, dim, {.bias = o.bias}, gen),
      v_proj(dim, dim, {.bias = o.bias}, gen),
      dim_(dim),
      options_(o),
      dropout_gen_(dropout_gen ? dropout_gen : &gen) {
  CUREC_CHECK(o.heads >= 1 && dim % o.heads == 0, "MultiHeadAttention: heads = ", o.heads,
              " must be at least 1 and divide the width ", dim, "; pick a head count that divides it");
  CUREC_CHECK(o.dropout >= 0.0f && o.dropout < 1.0f, "MultiHeadAttention: dropout must be in [0, 1), got ", o.dropout);
  register_module("q_proj", q_proj);
  register_module("k_proj", k_proj);
  register_module("v_proj", v_proj);
  for (Linear* l : {&q_proj, &k_proj, &v_proj}) glorot(*l, gen);
  if (o.out_projection) {
    out_proj = register_module("out_proj", std::make_shared<Linear>(dim, dim, LinearOptions{.bias = o.bias}, gen));
    glorot(*out_proj, gen);
  }
}

Tensor MultiHeadAttention::project(Linear& proj, const Tensor& x) const {
  const int64_t B = x.size(0), L = x.size(1), H = options_.heads;
  Tensor y = reshape(proj(reshape(x, {B * L, dim_})), {B, L, H, dim_ / H});
  // One head needs no permute: [B, L, 1, d] and [B, 1, L, d] hold the same bytes.
  return H == 1 ? reshape(y, {B, 1, L, dim_}) : permute(y, {0, 2, 1, 3});
}

Tensor MultiHeadAttention::forward(const Tensor& query, const Tensor& key_value, const AttentionMasks& masks) {
  CUREC_CHECK(query.defined() && key_value.defined() && query.dim() == 3 && key_value.dim() == 3 &&
                  query.size(2) == dim_ && key_value.size(2) == dim_ && query.size(0) == key_value.size(0),
              "MultiHeadAttention: needs query [B, Lq, ", dim_, "] and key_value [B, Lk, ", dim_, "], got ",
              query.defined() ? query.str() : "none", " and ", key_value.defined() ? key_value.str() : "none");
  const int64_t B = query.size(0), Lq = query.size(1), H = options_.heads;
  AttentionOptions ao{.causal = masks.causal,
                      .key_padding_mask = masks.key_padding_mask,
                      .dropout = options_.dropout,
                      .training = is_training(),
                      .generator = dropout_gen_};
  Tensor q = project(q_proj, query), k = project(k_proj, key_value), v = project(v_proj, key_value);
  Tensor heads = options_.fused ? attention(q, k, v, ao) : attention_composed(q, k, v, ao);  // [B, H, Lq, d/H]
  Tensor out = H == 1 ? reshape(heads, {B * Lq, dim_}) : reshape(permute(heads, {0, 2, 1, 3}), {B * Lq, dim_});
  if (out_proj) out = (*out_proj)(out);
  return reshape(out, {B, Lq, dim_});
}

}  // namespace curec::nn

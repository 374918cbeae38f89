#pragma once
// Scaled-dot-product attention composed of general ops: batched matmul, masked softmax, dropout,
// batched matmul, each with its own backward. It computes what the fused op (ops/attention.h)
// computes, from the same options, and is held to it by the op table: the reference a fused
// kernel is checked against, and the path for shapes the fused kernel does not take (a head
// size above 128).
//
// Dropout: attention_dropout (ops/attention.h) drops the probabilities with the mask the fused op
// draws at the same generator position, so both paths train the same model, draw for draw.
#include "core/tensor.h"
#include "ops/attention.h"

namespace curec {

// q [B, H, Lq, D], k and v [B, H, Lk, D] -> [B, H, Lq, D]; a query that sees no key gets zeros.
Tensor attention_composed(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& options = {});

}  // namespace curec

#pragma once
// The factorization machine's pairwise interaction term, Σ_{f<f'} <e_f, e_f'>, computed in
// O(fields·k) as ½ Σ_k [(Σ_f e_fk)² − Σ_f e_fk²].
#include "core/tensor.h"

namespace curec {

// e: f32 [batch, fields, k] (one embedding per field) -> f32 [batch].
Tensor fm_interaction(const Tensor& e);

namespace cuda {
// out[b] = the interaction of example b; sums (may be null) gets S[b, k] = Σ_f e[b, f, k].
void fm_forward(const float* e, float* out, float* sums, int64_t batch, int64_t fields, int64_t k, int device);
// de[b, f, k] = g[b] · (S[b, k] − e[b, f, k]).
void fm_backward(const float* e, const float* sums, const float* g, float* de, int64_t batch, int64_t fields,
                 int64_t k, int device);
}  // namespace cuda

}  // namespace curec

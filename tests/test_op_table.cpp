// Every op of curec listed once, as ggml's test-backend-ops lists its ops: a name, seeded random
// inputs (never zeros), the forward, and which inputs get gradients. From this one list the CPU
// suite runs the finite-difference gradient check of every differentiable op, and the cuda suite
// runs CPU-vs-CUDA parity of every op (outputs and gradients) too. Each prints the coverage table
// and fails when an op lacks a check it should have. Per-op test files keep what is specific to
// one op (formulas, edge cases, errors); the generic contract is here, once.
#include <cstdio>
#include <functional>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "core/random.h"
// ops2 (issue 22): softmax, cross-entropy, layer norm, attention
#include "ops/attention.h"
#include "ops/cross_entropy.h"
#include "ops/layer_norm.h"
#include "ops/softmax.h"
#include "data/csr.h"
#include "data/densify.h"
#include "data/negative_sampler.h"
#include "data/take.h"
#include "models/als.h"
#include "nn/adam.h"
#include "nn/sgd.h"
#include "ops/concat.h"
#include "ops/conv2d.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/fm.h"
#include "ops/index_select.h"
#include "ops/linear.h"
#include "ops/loss.h"
#include "ops/matmul.h"
#include "ops/max_pool.h"
#include "ops/mf_step.h"
#include "ops/reduce.h"
#include "ops/segment_sum.h"
#include "ops/shape.h"
#include "tests/testing.h"
#include "train/ranking_eval.h"
// Issue 22: broadcasting, max, permute, bmm, masked_fill.
#include "ops/bmm.h"
#include "ops/masked_fill.h"
#include "ops/permute.h"
#include "ops/reduce_max.h"
#include "ops/attention_composed.h"

using namespace curec;
using testing::rand_uniform;
using testing::randint;
using testing::randn;
using In = std::vector<Tensor>;

namespace {

struct Tolerance {
  float atol, rtol;
};

struct OpEntry {
  std::string name;
  std::function<In()> inputs;     // on the CPU, seeded, never zeros
  testing::OpFn forward;          // runs on whatever device its inputs are on
  std::vector<size_t> grads = {};  // inputs that get gradients; empty: not differentiable
  Tolerance parity = {1e-4f, 1e-4f};
  float eps = 1e-3f;  // finite-difference step
};

Tensor flat(const Tensor& t) { return reshape(t, {-1}); }

// Fields spaced apart so that a finite-difference step never changes which element is a maximum.
Tensor distinct(const Shape& shape, uint64_t seed) {
  Generator g(seed);
  std::vector<int64_t> order = randperm(shape_numel(shape), g).to_vector<int64_t>();
  std::vector<float> v(order.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(order[i]) * 0.05f - 1.01f;
  return Tensor::from_vector(v, shape);
}

// A CSR of `rows` rows over `cols` columns, each row a seeded, strictly increasing set of
// 1..max_per_row columns, with values (rows may be empty when allow_empty).
struct RandomCsr {
  std::vector<int64_t> row_ptr{0};
  std::vector<int32_t> col;
  int64_t rows, cols;
};
RandomCsr random_csr(int64_t rows, int64_t cols, int64_t max_per_row, uint64_t seed) {
  RandomCsr c{{0}, {}, rows, cols};
  std::vector<int64_t> pick = randint({rows * cols}, 1000, seed).to_vector<int64_t>();
  for (int64_t r = 0; r < rows; ++r) {
    int64_t taken = 0;
    for (int64_t j = 0; j < cols && taken < max_per_row; ++j)
      if (pick[r * cols + j] < 1000 * max_per_row / cols || (j == cols - 1 && taken == 0)) {
        c.col.push_back(static_cast<int32_t>(j));
        ++taken;
      }
    c.row_ptr.push_back(static_cast<int64_t>(c.col.size()));
  }
  return c;
}
In csr_tensors(const RandomCsr& c, uint64_t seed) {
  return {Tensor::from_vector(c.row_ptr), Tensor::from_vector(c.col),
          rand_uniform({static_cast<int64_t>(c.col.size())}, seed, 1.0f, 5.0f)};
}
data::CsrTensors as_csr(const In& in, int64_t rows, int64_t cols) { return {rows, cols, in[0], in[1], in[2]}; }

// One half-sweep's ratings (5 rows over 7 columns) and the other side's factors and biases.
In als_inputs() {
  In in = csr_tensors(random_csr(5, 7, 4, 73), 74);
  in.push_back(randn({7, 3}, 75, 0.5f));
  in.push_back(randn({7}, 76, 0.1f));
  return in;
}
models::NormalEquations normal_equations(const In& in) {
  return models::als_normal_equations(as_csr(in, 5, 7), in[3], in[4], 3.5f, 0.1f, true);
}

Tensor unary_entry_input(Unary op) {
  return op == Unary::log || op == Unary::sqrt ? rand_uniform({5, 7}, 2, 0.5f, 2.0f) : randn({5, 7}, 1);
}

// A dense or row-sparse gradient on an optimizer's parameter, two steps: the slots matter.
template <class Opt, class Options>
Tensor two_steps(const In& in, Options options, bool sparse) {
  Tensor p = in[0].clone().set_requires_grad();
  Opt opt({p}, options);
  for (int s = 0; s < 2; ++s) {
    if (sparse) p.set_sparse_grad(in[1], in[2]);
    else p.set_grad(in[1]);
    opt.step();
  }
  return p.detach();
}

std::vector<OpEntry> op_table() {
  std::vector<OpEntry> t;
  // --- element-wise
  const char* unary_names[] = {"neg", "exp", "log", "sqrt", "square", "sign", "sigmoid", "tanh", "relu", "elu"};
  for (Unary op : {Unary::neg, Unary::exp, Unary::log, Unary::sqrt, Unary::square, Unary::sign, Unary::sigmoid,
                   Unary::tanh, Unary::relu, Unary::elu})
    t.push_back({unary_names[static_cast<int>(op)], [op] { return In{unary_entry_input(op)}; },
                 [op](const In& in) { return unary(op, in[0], 0.7f); }, {0}});
  // --- softmax, cross-entropy, layer norm, attention (issue 22). Masks hold -inf only where
  // every perturbed output stays finite: a fully masked row (zeros), or softmax's dropped entries.
  // [L, L]: 0 on and below the diagonal, -inf above it; row 1 all -inf (a fully masked row).
  auto causal_mask_with_dead_row = [](int64_t l) {
    std::vector<float> m(static_cast<size_t>(l * l));
    for (int64_t i = 0; i < l; ++i)
      for (int64_t j = 0; j < l; ++j) m[i * l + j] = j > i || i == 1 ? -INFINITY : 0.0f;
    return Tensor::from_vector(m, {l, l});
  };
  t.push_back({"softmax", [] { return In{randn({3, 4, 6}, 101)}; }, [](const In& in) { return softmax(in[0]); },
               {0}});
  t.push_back({"softmax (causal [L, L] mask, a fully masked row)",
               [=] { return In{randn({2, 2, 3, 3}, 102), causal_mask_with_dead_row(3)}; },
               [](const In& in) { return softmax(in[0], in[1]); }, {0}});
  t.push_back({"softmax (mask [B, 1, 1, L] of finite biases)",
               [] { return In{randn({2, 2, 3, 5}, 103), randn({2, 1, 1, 5}, 104)}; },
               [](const In& in) { return softmax(in[0], in[1]); }, {0}});
  t.push_back({"log_softmax", [] { return In{randn({4, 7}, 105)}; }, [](const In& in) { return log_softmax(in[0]); },
               {0}});
  t.push_back({"log_softmax (mask, a fully masked row)",
               [] {
                 Tensor m = randn({3, 5}, 107);
                 for (int64_t j = 0; j < 5; ++j) m.data<float>()[5 + j] = -INFINITY;
                 return In{randn({2, 3, 5}, 106), m};
               },
               [](const In& in) { return log_softmax(in[0], in[1]); }, {0}});
  t.push_back({"cross_entropy (mean, an ignored row)",
               [] { return In{randn({6, 5}, 108), Tensor::from_vector<int64_t>({0, 4, -100, 2, 1, 3})}; },
               [](const In& in) { return cross_entropy(in[0], in[1]); }, {0}});
  t.push_back({"cross_entropy (none, i32, ignore_index 0)",
               [] { return In{randn({5, 4}, 109), Tensor::from_vector<int32_t>({3, 0, 1, 2, 0})}; },
               [](const In& in) { return cross_entropy(in[0], in[1], 0, Reduction::none); }, {0}});
  t.push_back({"layer_norm", [] { return In{randn({4, 3, 6}, 110), randn({6}, 111), randn({6}, 112)}; },
               [](const In& in) { return layer_norm(in[0], in[1], in[2]); }, {0, 1, 2}});
  t.push_back({"layer_norm (no affine)", [] { return In{randn({5, 9}, 113)}; },
               [](const In& in) { return layer_norm(in[0], Tensor(), Tensor(), 1e-3f); }, {0}});
  // Fused attention: tiles of 32 crossed (37 queries, 35 keys), masks, dropout, head sizes 6, 70
  // and 128 (one, three and four accumulators a lane on CUDA). Key 0 of batch row 1 is padding,
  // so under the causal mask its query 0 sees no key.
  auto pad_first_key = [](int64_t batch, int64_t lk) {
    Tensor pad = Tensor::zeros({batch, lk}, DType::u8);
    static_cast<uint8_t*>(pad.raw_data())[lk] = 1;
    static_cast<uint8_t*>(pad.raw_data())[2] = 1;
    return pad;
  };
  t.push_back({"attention", [] { return In{randn({1, 2, 37, 6}, 114), randn({1, 2, 35, 6}, 115), randn({1, 2, 35, 6}, 116)}; },
               [](const In& in) { return attention(in[0], in[1], in[2]); }, {0, 1, 2}});
  t.push_back({"attention (causal, key padding, a blind query)",
               [=] { return In{randn({2, 2, 9, 6}, 117), randn({2, 2, 9, 6}, 118), randn({2, 2, 9, 6}, 119), pad_first_key(2, 9)}; },
               [](const In& in) { return attention(in[0], in[1], in[2], {.causal = true, .key_padding_mask = in[3]}); },
               {0, 1, 2}});
  t.push_back({"attention (dropout 0.3, causal)",
               [] { return In{randn({2, 1, 33, 5}, 120), randn({2, 1, 33, 5}, 121), randn({2, 1, 33, 5}, 122)}; },
               [](const In& in) {
                 Generator gen(11);  // the same mask on every call
                 return attention(in[0], in[1], in[2], {.causal = true, .dropout = 0.3f, .training = true, .generator = &gen});
               },
               {0, 1, 2}});
  t.push_back({"attention (D = 70, key padding)",
               [=] { return In{randn({2, 1, 4, 70}, 123), randn({2, 1, 5, 70}, 124), randn({2, 1, 5, 70}, 125), pad_first_key(2, 5)}; },
               [](const In& in) { return attention(in[0], in[1], in[2], {.key_padding_mask = in[3]}); }, {0, 1, 2}});
  t.push_back({"attention_dropout (the composed path's)", [] { return In{rand_uniform({2, 2, 5, 7}, 129, 0.1f, 1.0f)}; },
               [](const In& in) {
                 Generator gen(13);
                 return attention_dropout(in[0], {.dropout = 0.3f, .training = true, .generator = &gen});
               },
               {0}});
  t.push_back({"attention (D = 128)", [] { return In{randn({1, 1, 3, 128}, 126), randn({1, 1, 4, 128}, 127), randn({1, 1, 4, 128}, 128)}; },
               [](const In& in) { return attention(in[0], in[1], in[2]); }, {0, 1, 2}});
  const char* binary_names[] = {"add", "sub", "mul", "div"};
  for (Binary op : {Binary::add, Binary::sub, Binary::mul, Binary::div})  // b broadcast along the rows
    t.push_back({binary_names[static_cast<int>(op)],
                 [] { return In{randn({5, 7}, 3), rand_uniform({7}, 4, 0.5f, 2.0f)}; },
                 [op](const In& in) { return binary(op, in[0], in[1]); }, {0, 1}});
  t.push_back({"gradient accumulation", [] { return In{randn({4, 3}, 5), randn({4, 3}, 6)}; },
               [](const In& in) { return in[0] * in[1] + square(in[0]); }, {0, 1}});
  // --- shapes and reductions
  t.push_back({"reshape", [] { return In{randn({2, 1, 6}, 7)}; },
               [](const In& in) { return reshape(in[0], {3, -1}); }, {0}});
  t.push_back({"squeeze", [] { return In{randn({2, 1, 6}, 7)}; },
               [](const In& in) { return squeeze(in[0], 1); }, {0}});
  t.push_back({"unsqueeze", [] { return In{randn({2, 6}, 7)}; },
               [](const In& in) { return unsqueeze(in[0], -1); }, {0}});
  t.push_back({"flatten", [] { return In{randn({2, 3, 4}, 7)}; }, [](const In& in) { return flatten(in[0]); }, {0}});
  t.push_back({"concat", [] { return In{randn({3, 2, 4}, 8), randn({3, 5, 4}, 9)}; },
               [](const In& in) { return concat(in, 1); }, {0, 1}});
  t.push_back({"narrow", [] { return In{randn({3, 7, 4}, 10)}; },
               [](const In& in) { return narrow(in[0], 1, 2, 4); }, {0}});
  t.push_back({"split", [] { return In{randn({3, 5, 2}, 11)}; },
               [](const In& in) {
                 std::vector<Tensor> s = split(in[0], {2, 3}, 1);
                 return concat({square(s[1]), s[0]}, 1);
               },
               {0}});
  t.push_back({"sum", [] { return In{randn({6, 5, 3}, 12)}; }, [](const In& in) { return sum(in[0]); }, {0},
               {1e-4f, 1e-4f}});
  t.push_back({"sum over a dim", [] { return In{randn({6, 5, 3}, 12)}; },
               [](const In& in) { return sum(in[0], 1); }, {0}});
  t.push_back({"mean", [] { return In{randn({6, 5, 3}, 12)}; }, [](const In& in) { return mean(in[0]); }, {0}});
  t.push_back({"mean over a dim", [] { return In{randn({6, 5, 3}, 12)}; },
               [](const In& in) { return mean(in[0], 0, true); }, {0}});
  // --- layers
  t.push_back({"matmul", [] { return In{randn({4, 3}, 13), randn({3, 5}, 14)}; },
               [](const In& in) { return matmul(in[0], in[1]); }, {0, 1}});
  t.push_back({"matmul (transposed operands)", [] { return In{randn({3, 4}, 13), randn({5, 3}, 14)}; },
               [](const In& in) { return matmul(in[0], in[1], true, true); }, {0, 1}});
  t.push_back({"linear", [] { return In{randn({4, 3}, 15), randn({5, 3}, 16), randn({5}, 17)}; },
               [](const In& in) { return linear(in[0], in[1], in[2]); }, {0, 1, 2}});
  t.push_back({"conv2d", [] { return In{randn({2, 2, 5, 4}, 18), randn({3, 2, 2, 3}, 19), randn({3}, 20)}; },
               [](const In& in) { return conv2d(in[0], in[1], in[2]); }, {0, 1, 2}});
  t.push_back({"max_pool1d", [] { return In{distinct({3, 4, 7}, 21)}; },
               [](const In& in) { return max_pool1d(in[0], 3, 2); }, {0}, {0.0f, 0.0f}});
  t.push_back({"fm_interaction", [] { return In{randn({3, 4, 5}, 22)}; },
               [](const In& in) { return fm_interaction(in[0]); }, {0}, {1e-3f, 1e-4f}});
  t.push_back({"dropout", [] { return In{randn({6, 9}, 23)}; },
               [](const In& in) {
                 Generator gen(9);  // the same mask on every call
                 return dropout(in[0], 0.3f, true, gen);
               },
               {0}});
  t.push_back({"embedding", [] { return In{randn({7, 4}, 24), randint({3, 5}, 7, 25, DType::i32)}; },
               [](const In& in) { return embedding(in[0], in[1]); }, {0}});
  t.push_back({"embedding (deterministic backward)", [] { return In{randn({7, 4}, 24), randint({3, 5}, 7, 25)}; },
               [](const In& in) { return embedding(in[0], in[1], {.deterministic = true}); }, {0}});
  t.push_back({"index_select", [] { return In{randn({6, 2, 3}, 26), randint({9}, 6, 27)}; },
               [](const In& in) { return index_select(in[0], in[1]); }, {0}});
  // --- losses
  t.push_back({"squared_error", [] { return In{randn({3, 5}, 28), randn({3, 5}, 29)}; },
               [](const In& in) { return squared_error(in[0], in[1]); }, {0, 1}});
  t.push_back({"masked_squared_error",
               [] {
                 std::vector<float> mask;  // observed where 1, as an f32 mask
                 for (int64_t v : randint({3, 5}, 2, 32).to_vector<int64_t>()) mask.push_back(static_cast<float>(v));
                 return In{randn({3, 5}, 30), randn({3, 5}, 31), Tensor::from_vector(mask, {3, 5})};
               },
               [](const In& in) { return masked_squared_error(in[0], in[1], in[2], Reduction::sum); }, {0, 1}});
  t.push_back({"bce_with_logits", [] { return In{randn({3, 5}, 33), rand_uniform({3, 5}, 34, 0.1f, 0.9f)}; },
               [](const In& in) { return bce_with_logits(in[0], in[1]); }, {0}});
  t.push_back({"bpr_loss", [] { return In{randn({8}, 35), randn({8}, 36)}; },
               [](const In& in) { return bpr_loss(in[0], in[1], Reduction::none); }, {0, 1}});
  t.push_back({"hinge_loss", [] { return In{randn({8}, 37), randn({8}, 38)}; },
               [](const In& in) { return hinge_loss(in[0], in[1], 1.0f, Reduction::sum); }, {0, 1}});
  // --- fused training steps, optimizers and sparse rows (not differentiable: they write state)
  t.push_back({"mf_fused_step",
               [] {
                 return In{randn({5, 3}, 39), randn({6, 3}, 40), randn({5}, 41), randn({6}, 42),
                           randint({9}, 5, 43, DType::i32), randint({9}, 6, 44, DType::i32),
                           rand_uniform({9}, 45, 1.0f, 5.0f)};
               },
               [](const In& in) {
                 auto zeros_like = [](const Tensor& x) { return Tensor::zeros(x.shape(), DType::f32, x.device()); };
                 Tensor gP = zeros_like(in[0]), gQ = zeros_like(in[1]);
                 Tensor gbu = zeros_like(in[2]), gbi = zeros_like(in[3]);
                 Tensor loss = Tensor::zeros({1}, DType::f32, in[0].device());
                 mf_fused_step(in[0], in[1], in[2], in[3], in[4], in[5], in[6], gP, gQ, gbu, gbi, loss);
                 return concat({flat(gP), flat(gQ), gbu, gbi, loss}, 0);
               }});
  const nn::SgdOptions sgd{.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f};
  t.push_back({"SGD step (dense)", [] { return In{randn({6, 4}, 46), randn({6, 4}, 47)}; },
               [sgd](const In& in) { return two_steps<nn::SGD>(in, sgd, false); }});
  t.push_back({"SGD step (row-sparse)", [] { return In{randn({6, 4}, 48), randint({7}, 6, 49), randn({7, 4}, 50)}; },
               [sgd](const In& in) { return two_steps<nn::SGD>(in, sgd, true); }});
  const nn::AdamOptions adam{.lr = 0.1f, .weight_decay = 0.01f};
  t.push_back({"Adam step (dense)", [] { return In{randn({6, 4}, 51), randn({6, 4}, 52)}; },
               [adam](const In& in) { return two_steps<nn::Adam>(in, adam, false); }});
  t.push_back({"Adam step (row-sparse)", [] { return In{randn({6, 4}, 53), randint({7}, 6, 54), randn({7, 4}, 55)}; },
               [adam](const In& in) { return two_steps<nn::Adam>(in, adam, true); }});
  // Embedding's row-sparse gradient, coalesced (duplicates summed) into a plain SGD step.
  t.push_back({"sparse rows (embedding sparse_grad, coalesced)",
               [] { return In{randn({5, 3}, 56), randint({4, 6}, 5, 57), randn({4, 6, 3}, 58)}; },
               [](const In& in) {
                 Tensor table = in[0].clone();
                 table.set_requires_grad();
                 embedding(table, in[1], {.sparse_grad = true}).backward(in[2]);
                 nn::SGD({table}, nn::SgdOptions{1.0f}).step();
                 return table.detach();
               }});
  // Two ids over 700 rows: runs of ~350, longer than a piece, so the sum takes two tree levels;
  // row 2 of the table is named by no id. Both backends sum in one order: bit for bit.
  t.push_back({"segment_sum_rows", [] { return In{randint({700}, 2, 59), randn({700, 2}, 60)}; },
               [](const In& in) { return segment_sum_rows(in[0], in[1], 3).sums; }, {}, {0.0f, 0.0f}});
  // --- randomness and tensor kernels: the same numbers on both backends
  t.push_back({"uniform_", [] { return In{randn({37, 5}, 61)}; },
               [](const In& in) {
                 Tensor x = in[0].clone();
                 Generator g(3);
                 return uniform_(x, -1.0f, 2.0f, g);
               }});
  t.push_back({"normal_", [] { return In{randn({37, 5}, 62)}; },
               [](const In& in) {
                 Tensor x = in[0].clone();
                 Generator g(4);
                 return normal_(x, 0.5f, 2.0f, g);
               }});
  t.push_back({"randint_", [] { return In{randint({37, 5}, 9, 63)}; },
               [](const In& in) {
                 Tensor x = in[0].clone();
                 Generator g(5);
                 return randint_(x, 1000, g);
               }});
  t.push_back({"randperm", [] { return In{randn({1}, 64)}; },
               [](const In& in) {
                 Generator g(6);
                 return randperm(97, g, in[0].device());
               }});
  t.push_back({"fill_ and zero_", [] { return In{randn({33, 2}, 65)}; },
               [](const In& in) {
                 Tensor x = in[0].clone();
                 x.fill_(2.5f);
                 x.rows(4, 9).zero_();
                 return x;
               }});
  t.push_back({"arange", [] { return In{randn({1}, 66)}; },
               [](const In& in) { return Tensor::arange(41, DType::i32, in[0].device()); }});
  // --- kernels outside ops/
  t.push_back({"take_rows", [] { return In{randn({6, 3}, 67), randint({11}, 6, 67, DType::i32)}; },
               [](const In& in) { return data::take_rows(in[0], in[1]); }});
  t.push_back({"densify_rows",
               [] {
                 In in = csr_tensors(random_csr(6, 9, 4, 68), 69);
                 in.push_back(randint({5}, 6, 70));
                 return in;
               },
               [](const In& in) { return data::densify_rows(as_csr(in, 6, 9), in[3]); }});
  t.push_back({"negative sampler", [] { return In{randint({13}, 6, 71)}; },
               [](const In& in) {
                 RandomCsr c = random_csr(6, 10, 5, 72);
                 data::NegativeSampler s(c.row_ptr, c.col, 10, 3, 7, in[0].device());
                 return s.sample(in[0], 2, 5);
               }});
  t.push_back({"ALS normal equations", [] { return als_inputs(); },
               [](const In& in) {
                 models::NormalEquations ne = normal_equations(in);
                 return concat({flat(ne.A), flat(ne.b)}, 0);
               }});
  t.push_back({"ALS batched SPD solve",
               [] {
                 models::NormalEquations ne = normal_equations(als_inputs());  // positive definite: λ > 0
                 return In{ne.A, ne.b};
               },
               [](const In& in) { return models::solve_spd_batched(in[0], in[1]); }, {}, {1e-4f, 1e-3f}});
  t.push_back({"ranking evaluation",
               [] {
                 RandomCsr c = random_csr(6, 8, 3, 79);
                 return In{randn({6, 8}, 80), Tensor::from_vector(c.row_ptr), Tensor::from_vector(c.col),
                           Tensor::from_vector<int32_t>({0, 7, 3, -1, 5, 2})};
               },
               [](const In& in) {
                 train::RankingAccumulator acc(3, in[0].device());
                 acc.add_chunk(in[0], 0, in[1], in[2], in[3]);
                 std::vector<double> s = acc.sums();
                 return Tensor::from_vector(std::vector<float>(s.begin(), s.end()), {static_cast<int64_t>(s.size())},
                                            in[0].device());
               }});
  // --- issue 22: GELU, NumPy broadcasting, max with argmax, permute, bmm, masked_fill
  t.push_back({"gelu", [] { return In{randn({5, 7}, 81, 2.0f)}; }, [](const In& in) { return gelu(in[0]); }, {0}});
  for (Binary op : {Binary::add, Binary::sub, Binary::mul, Binary::div})  // [2, 1, 3] with [4, 1]: [2, 4, 3]
    t.push_back({std::string(binary_names[static_cast<int>(op)]) + " (NumPy broadcast)",
                 [] { return In{randn({2, 1, 3}, 82), rand_uniform({4, 1}, 83, 0.5f, 2.0f)}; },
                 [op](const In& in) { return binary(op, in[0], in[1]); }, {0, 1}});
  t.push_back({"mul (NumPy broadcast, 4-D)", [] { return In{randn({2, 3, 1, 4}, 84), randn({3, 5, 1}, 85)}; },
               [](const In& in) { return in[0] * in[1]; }, {0, 1}});
  t.push_back({"sum over a negative dim (keepdim)", [] { return In{randn({3, 4, 5}, 86)}; },
               [](const In& in) { return sum(in[0], -2, true); }, {0}});
  t.push_back({"max over a dim", [] { return In{distinct({4, 5, 3}, 87)}; },
               [](const In& in) { return max(in[0], 1).values; }, {0}, {0.0f, 0.0f}});
  t.push_back({"max over the last dim (argmax indices)", [] { return In{distinct({4, 6}, 88)}; },
               [](const In& in) { return max(in[0], -1, true).indices; }, {}, {0.0f, 0.0f}});
  t.push_back({"permute", [] { return In{randn({2, 3, 4, 5}, 89)}; },
               [](const In& in) { return permute(in[0], {2, 0, 3, 1}); }, {0}, {0.0f, 0.0f}});
  t.push_back({"transpose", [] { return In{randn({3, 4, 5}, 90)}; },
               [](const In& in) { return transpose(in[0], 1, 2); }, {0}, {0.0f, 0.0f}});
  t.push_back({"bmm", [] { return In{randn({3, 4, 5}, 91), randn({3, 5, 2}, 92)}; },
               [](const In& in) { return bmm(in[0], in[1]); }, {0, 1}});
  t.push_back({"bmm (transposed, a batch of 1 broadcast)",
               [] { return In{randn({1, 5, 4}, 93), randn({3, 2, 5}, 94)}; },
               [](const In& in) { return bmm(in[0], in[1], true, true); }, {0, 1}});
  t.push_back({"masked_fill (u8 mask, broadcast)",
               [] {
                 std::vector<uint8_t> m;
                 for (int64_t v : randint({2, 1, 5}, 2, 95).to_vector<int64_t>()) m.push_back(static_cast<uint8_t>(v));
                 return In{randn({2, 4, 5}, 96), Tensor::from_vector(m, {2, 1, 5})};
               },
               [](const In& in) { return masked_fill(in[0], in[1], -2.5f); }, {0}, {0.0f, 0.0f}});
  t.push_back({"masked_fill (f32 mask)",
               [] {
                 std::vector<float> m;
                 for (int64_t v : randint({4, 5}, 2, 97).to_vector<int64_t>()) m.push_back(static_cast<float>(v));
                 return In{randn({4, 5}, 98), Tensor::from_vector(m, {4, 5})};
               },
               [](const In& in) { return masked_fill(in[0], in[1], 0.0f); }, {0}, {0.0f, 0.0f}});
  // The composed attention path (bmm + masked softmax + attention dropout + bmm): causal, a padded
  // key (query 0 of batch row 1 sees none), dropout on Lk = 9 keys; tests/test_attention_composed
  // holds it to the fused op's outputs and gradients.
  t.push_back({"attention_composed (causal, key padding, dropout)",
               [] {
                 Tensor pad = Tensor::zeros({2, 9}, DType::u8);
                 static_cast<uint8_t*>(pad.raw_data())[9] = 1;
                 return In{randn({2, 2, 9, 6}, 131), randn({2, 2, 9, 6}, 132), randn({2, 2, 9, 6}, 133), pad};
               },
               [](const In& in) {
                 Generator gen(17);  // the same mask on every call
                 return attention_composed(in[0], in[1], in[2],
                                           {.causal = true, .key_padding_mask = in[3], .dropout = 0.3f, .training = true,
                                            .generator = &gen});
               },
               {0, 1, 2}});
  return t;
}

}  // namespace

namespace {

enum class Run { gradients, gradients_and_parity };

// Whether the op records a backward: run with every f32 input requiring a gradient.
bool records_backward(const OpEntry& e) {
  In in = e.inputs();
  for (Tensor& x : in)
    if (x.dtype() == DType::f32) x.set_requires_grad();
  return e.forward(in).requires_grad();
}

// Why the entry's gradient column is wrong for what its forward does ("" when it is right): an op
// that records a backward must list inputs for the gradient check, and only such an op may.
std::string missing_check(const OpEntry& e) {
  const bool differentiable = records_backward(e);
  if (differentiable && e.grads.empty())
    return e.name + " records a backward but lists no input for the gradient check";
  if (!differentiable && !e.grads.empty())
    return e.name + " lists inputs for the gradient check but records no backward";
  return "";
}

// Runs every check the entry should have and returns its row of the coverage table.
std::string run_entry(const OpEntry& e, Run run) {
  INFO("op: ", e.name);
  std::string grad_cell = "n.a.";
  if (std::string missing = missing_check(e); !missing.empty()) {
    FAIL_CHECK(missing);
    grad_cell = "no";
  } else if (!e.grads.empty()) {
    In in = e.inputs();
    for (size_t k : e.grads) in.at(k).set_requires_grad();
    testing::check_gradients(e.forward, in, e.eps);
    grad_cell = "yes";
  }
  std::string parity_cell = "skipped";
  if (run == Run::gradients_and_parity) {
    In in = e.inputs();
    for (size_t k : e.grads) in.at(k).set_requires_grad();
    testing::check_parity(e.forward, in, e.parity.atol, e.parity.rtol);
    parity_cell = "yes";
  }
  char row[160];
  std::snprintf(row, sizeof row, "  %-48s %-10s %s\n", e.name.c_str(), grad_cell.c_str(), parity_cell.c_str());
  return row;
}

void run_table(Run run, const std::string& why_parity_skipped) {
  std::vector<OpEntry> table = op_table();
  std::set<std::string> names;
  std::string report = "op table: " + std::to_string(table.size()) + " ops\n";
  char head[160];
  std::snprintf(head, sizeof head, "  %-48s %-10s %s\n", "op", "grad-check", "parity");
  report += head;
  for (const OpEntry& e : table) {
    CHECK_MESSAGE(names.insert(e.name).second, "op ", e.name, " is listed twice");
    try {
      report += run_entry(e, run);
    } catch (const std::exception& ex) {  // the table still prints, naming the op that threw
      FAIL_CHECK(e.name, " threw: ", ex.what());
      report += "  " + e.name + ": threw\n";
    }
  }
  if (!why_parity_skipped.empty()) report += "  (parity skipped: " + why_parity_skipped + ")\n";
  std::fputs(report.c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace

TEST_CASE("op table: every op's gradient check (parity in the cuda suite)") {
  run_table(Run::gradients, "the cpu label; op_table.cuda runs it on a CUDA device");
}

TEST_CASE("op table: an entry whose gradient column does not match its forward is caught") {
  OpEntry unchecked{"exp without a gradient check", [] { return In{randn({3}, 1)}; },
                    [](const In& in) { return exp(in[0]); }};
  CHECK(missing_check(unchecked).find("lists no input for the gradient check") != std::string::npos);
  unchecked.grads = {0};
  CHECK(missing_check(unchecked).empty());
  OpEntry not_differentiable{"take_rows with a gradient check", [] { return In{randn({4, 2}, 2), randint({3}, 4, 3)}; },
                             [](const In& in) { return data::take_rows(in[0], in[1]); }, {0}};
  CHECK(missing_check(not_differentiable).find("records no backward") != std::string::npos);
}

TEST_SUITE("cuda") {
  TEST_CASE("op table: every op's gradient check and CPU-vs-CUDA parity") { run_table(Run::gradients_and_parity, ""); }
}

// Write your own attention model: a next-item recommender of the library's layers (item and
// position embeddings, a textbook pre-norm transformer block with GELU, a final LayerNorm),
// scored against an output table of its own, and trained by the library's sequence task
// (binary cross-entropy of each position's next item against a sampled negative; HR@10 and
// NDCG@10 among 100 sampled items, SASRec's protocol) through the one Trainer:
//   h_t = LN(Block(E[s] + P)_t),   score(t, i) = h_t · W[i]
//   own_attention [cpu|cuda[:N]]   (planted item cycles; exits 1 unless it learns them)
#include <cstdio>
#include <string>

#include <curec/curec.h>

using namespace curec;

class TinyTransformer : public models::SequenceModel {
 public:
  TinyTransformer(int64_t num_items, int64_t maxlen, int64_t dim)
      : items_(num_items),
        maxlen_(maxlen),
        embed_(num_items + 1, dim),
        pos_(maxlen, dim),
        block_(dim, {.heads = 2, .dropout = 0.1f, .activation = nn::Activation::gelu}),
        norm_(dim),
        out_(num_items + 1, dim) {
    register_module("embed", embed_);
    register_module("pos", pos_);
    register_module("block", block_);
    register_module("norm", norm_);
    register_module("out", out_);
    for (nn::Embedding* e : {&embed_, &out_}) nn::normal_(e->weight, 0.0f, 0.1f);
    nn::normal_(pos_.weight, 0.0f, 0.1f);
  }
  std::string name() const override { return "tiny_transformer"; }
  int64_t max_length() const override { return maxlen_; }
  int64_t num_items() const override { return items_; }

  // seqs i64 [B, T] (0 = padding, on the left) -> [B, T, dim]. Padding needs no mask here:
  // under the causal mask a real position sees padding only before the sequence starts, and
  // the padding id's embedding is trained like any other.
  Tensor encode(const Tensor& seqs) { return norm_(block_(pos_(embed_(seqs)), {.causal = true})); }

  std::pair<Tensor, Tensor> score_next(const Tensor& seqs, const Tensor& pos, const Tensor& neg) override {
    Tensor h = encode(seqs);
    return {sum(h * out_(pos), -1), sum(h * out_(neg), -1)};
  }
  Tensor score(const Tensor& seqs, const Tensor& candidates) override {
    Tensor h = reshape(last(seqs), {seqs.size(0), 1, -1});  // [B, 1, dim] against [B, C, dim]
    return sum(h * out_(candidates), -1);
  }
  Tensor score_all_items(const Tensor& seqs) override { return matmul(last(seqs), out_.weight, false, true); }

 private:
  // The representation after the whole sequence: the last position's, [B, dim].
  Tensor last(const Tensor& seqs) {
    const int64_t B = seqs.size(0), T = seqs.size(1);
    Tensor h = reshape(encode(seqs), {B * T, -1});
    std::vector<int64_t> rows;
    for (int64_t b = 0; b < B; ++b) rows.push_back(b * T + T - 1);
    return index_select(h, Tensor::from_vector(rows, {B}).to(seqs.device()));
  }

  int64_t items_, maxlen_;
  nn::Embedding embed_;
  nn::PositionalEmbedding pos_;
  nn::TransformerBlock block_;
  nn::LayerNorm norm_;
  nn::Embedding out_;
};

int main(int argc, char** argv) try {
  const Device device = Device::parse(argc > 1 ? argv[1] : "cpu");
  // Users walk arcs of four item cycles: only the order of what they saw tells what comes next.
  data::SyntheticSequenceOptions o{.num_users = 300, .num_items = 160, .num_cycles = 4, .min_length = 8,
                                   .max_length = 16, .noise = 0.0f, .seed = 1};
  const data::SequenceSplit split = data::split_last_two(data::user_sequences(data::synthetic_sequences(o)));
  manual_seed(0);
  TinyTransformer model(split.num_items(), 12, 32);
  train::TrainerConfig config;
  config.epochs = 30;
  config.batch_size = 32;
  config.eval_every = 10;
  config.optimizer = nn::AdamOptions{.lr = 0.005f, .beta2 = 0.98f};
  config.device = device;
  train::TrainerHooks hooks;
  hooks.on_epoch = [](const train::EpochRecord& r) {
    if (r.evaluated)
      std::printf("epoch %d: train loss %.4f, test HR@10 %.3f, NDCG@10 %.3f\n", r.epoch, r.train_loss,
                  r.test.at("hr_at_10"), r.test.at("ndcg_at_10"));
  };
  train::SequenceTask task(model, split);
  const train::TrainResult r = train::Trainer(task, config, hooks).fit();
  const double hr = r.final_test.at("hr_at_10");
  std::printf("test HR@10 %.3f (chance 0.1), %.0f sequences/s\n", hr, r.examples_per_sec);
  return hr > 0.8 ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "own_attention: %s\n", e.what());
  return 1;
}

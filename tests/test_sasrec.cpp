// SASRec: its configuration errors, the reference's model details (row 0 of the item table,
// scores as dot products with that table, causality), learning a planted next-item structure
// through the sequence task, and the recipe on MovieLens-1M's first 3k users.
#include <set>
#include <vector>

#include "app/recipes.h"
#include "core/autograd.h"
#include "data/sequence_split.h"
#include "data/synthetic_sequences.h"
#include "data/user_sequences.h"
#include "models/sasrec.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "tests/parameter_of.h"
#include "tests/testing.h"
#include "train/tasks/sequence_task.h"
#include "train/trainer.h"

using namespace curec;

using testing::parameter_of;

namespace {

models::SASRecConfig small(int64_t items = 12) {
  return {.num_items = items, .maxlen = 6, .hidden = 8, .blocks = 2, .heads = 2, .dropout = 0.2f};
}


}  // namespace

TEST_CASE("sasrec: bad configurations are errors that say what to change") {
  auto err = [](models::SASRecConfig c) { return testing::error_of([&] { models::SASRec m(c); }); };
  models::SASRecConfig c = small();
  c.maxlen = 0;
  CHECK(err(c).find("maxlen") != std::string::npos);
  c = small();
  c.heads = 3;
  CHECK(err(c).find("must divide hidden") != std::string::npos);
  c = small();
  c.num_items = 0;
  CHECK(err(c).find("at least one item") != std::string::npos);
  c = small();
  c.dropout = 1.0f;
  CHECK(err(c).find("dropout") != std::string::npos);
  models::SASRec m(small());
  CHECK(testing::error_of([&] { m.encode(Tensor::zeros({2, 5}, DType::i64)); }).find("maxlen = 6") != std::string::npos);
}

TEST_CASE("sasrec: the reference's initialisation and scores") {
  Generator gen(1);
  models::SASRec m(small(), gen);
  // Item row 0 (the padding) is zero; biases zero; LayerNorms 1 and 0; matrices Glorot-uniform.
  std::vector<float> items = parameter_of(m, "items.weight").to_vector<float>();
  for (int c = 0; c < 8; ++c) CHECK(items[c] == 0.0f);
  const float bound = std::sqrt(6.0f / (13 + 8));
  for (size_t i = 8; i < items.size(); ++i) CHECK(std::abs(items[i]) <= bound);
  for (float b : parameter_of(m, "blocks.0.ff1.bias").to_vector<float>()) CHECK(b == 0.0f);
  for (float b : parameter_of(m, "blocks.1.attn.q_proj.bias").to_vector<float>()) CHECK(b == 0.0f);
  for (float w : parameter_of(m, "norm.weight").to_vector<float>()) CHECK(w == 1.0f);
  for (float w : parameter_of(m, "blocks.0.attn_norm.weight").to_vector<float>()) CHECK(w == 1.0f);
  bool has_out_proj = false;
  for (auto& [n, t] : m.named_parameters()) has_out_proj |= n.find("out_proj") != std::string::npos;
  CHECK_FALSE(has_out_proj);

  m.eval();
  Tensor seqs = Tensor::from_vector<int64_t>({0, 0, 3, 5, 7, 2, 1, 2, 3, 4, 5, 6}, {2, 6});
  Tensor pos = Tensor::from_vector<int64_t>({0, 0, 5, 7, 2, 9, 2, 3, 4, 5, 6, 7}, {2, 6});
  Tensor neg = Tensor::from_vector<int64_t>({0, 0, 1, 1, 1, 1, 8, 8, 8, 8, 8, 8}, {2, 6});
  auto [pl, nl] = m.score_next(seqs, pos, neg);
  REQUIRE(pl.shape() == Shape{2, 6});
  REQUIRE(nl.shape() == Shape{2, 6});
  NoGradGuard ng;
  Tensor h = m.encode(seqs);
  testing::check_close(pl, sum(h * embedding(parameter_of(m, "items.weight"), pos), -1), 1e-6f, 1e-6f, "positive logits");
  // The last position's scores: candidates and the whole catalogue agree with score_next's.
  Tensor all = m.score_all_items(seqs);
  REQUIRE(all.shape() == Shape{2, 13});
  Tensor cands = Tensor::from_vector<int64_t>({9, 1, 12, 7, 8, 2}, {2, 3});
  std::vector<float> sc = m.score(seqs, cands).to_vector<float>(), av = all.to_vector<float>();
  std::vector<int64_t> cv = cands.to_vector<int64_t>();
  for (int b = 0; b < 2; ++b)
    for (int j = 0; j < 3; ++j) CHECK(sc[b * 3 + j] == doctest::Approx(av[b * 13 + cv[b * 3 + j]]).epsilon(1e-5));
  CHECK(pl.to_vector<float>()[5] == doctest::Approx(av[9]).epsilon(1e-5));  // row 0's last target is item 9

  // Causality: a later item never changes an earlier position's representation.
  Tensor later = Tensor::from_vector<int64_t>({0, 0, 3, 5, 11, 11, 1, 2, 3, 4, 5, 12}, {2, 6});
  std::vector<float> a = h.to_vector<float>(), b = m.encode(later).to_vector<float>();
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t t = 0; t < (r == 0 ? 4 : 5); ++t)
      for (int64_t c = 0; c < 8; ++c) CHECK(a[(r * 6 + t) * 8 + c] == b[(r * 6 + t) * 8 + c]);
  // The composed attention path computes the same model.
  models::SASRecConfig cc = small();
  cc.fused_attention = false;
  Generator gen2(1);
  models::SASRec composed(cc, gen2);
  composed.eval();
  testing::check_close(composed.encode(seqs), h, 1e-5f, 1e-4f, "composed attention path");
}

TEST_CASE("sasrec: learns a planted next-item structure through the sequence task") {
  // Four cycles of 40 items; each user walks its cycle's arc, so only the order tells the next item.
  data::SyntheticSequenceOptions o{.num_users = 300, .num_items = 160, .num_cycles = 4, .min_length = 8,
                                   .max_length = 16, .noise = 0.0f, .seed = 3};
  const data::SequenceSplit split = data::split_last_two(data::user_sequences(data::synthetic_sequences(o)));
  manual_seed(0);
  Generator gen(0);
  models::SASRec m({.num_items = split.num_items(), .maxlen = 12, .hidden = 32, .blocks = 1, .heads = 1, .dropout = 0.1f},
                   gen);
  train::SequenceTask task(m, split, {.seed = 0, .eval = {.full_ranking = true}});
  train::TrainerConfig tc;
  tc.epochs = 30;
  tc.batch_size = 32;
  tc.eval_every = 0;
  tc.optimizer = nn::AdamOptions{.lr = 0.005f, .beta2 = 0.98f};
  const train::TrainResult r = train::Trainer(task, tc).fit();
  INFO("test: hr ", r.final_test.at("hr_at_10"), ", ndcg ", r.final_test.at("ndcg_at_10"), ", full hr ",
       r.final_test.at("full_hr_at_10"));
  CHECK(r.final_test.at("hr_at_10") > 0.9);             // chance: 0.1
  CHECK(r.final_test.at("full_hr_at_10") > 0.5);        // chance: 10 of ~150 unseen items
  CHECK(r.final_test.at("ndcg_at_10") > 0.6);
}

TEST_CASE("sasrec recipe: a few small epochs on MovieLens-1M's first 3k users beat chance by far") {
  CUREC_REQUIRE_DATA(ratings, "ml-1m-3k/ratings.dat");
  app::SasrecRecipe recipe;
  recipe.model.maxlen = 50;
  recipe.model.hidden = 32;
  recipe.model.blocks = 1;
  recipe.train.epochs = 4;
  recipe.train.eval_every = 2;
  app::RunSettings s;
  s.data = testing::data_dir() + "/ml-1m-3k";
  s.verbose = false;
  const app::RunResult r = recipe.run(s);
  INFO("hr_at_10 ", r.metrics.at("hr_at_10"), ", ndcg_at_10 ", r.metrics.at("ndcg_at_10"));
  CHECK(r.metrics.at("hr_at_10") > 0.35);  // 100 sampled negatives: chance is 0.1
  for (const char* key : {"ndcg_at_10", "full_hr_at_10", "full_ndcg_at_10", "valid_ndcg_at_10"})
    CHECK(r.metrics.count(key) == 1);
  CHECK(r.metrics.at("full_hr_at_10") > 0.02);  // ~3,400 items: chance is ~0.003
}

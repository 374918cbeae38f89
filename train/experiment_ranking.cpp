#include "train/experiment_ranking.h"

#include <cstdio>

namespace curec::train {

void print_ranking_epoch(const RankingEpochReport& e) {
  if (!e.evaluated) return;
  std::printf("epoch %d, train loss %.3f, test hit rate %.3f, test AUC %.3f, NDCG@10 %.3f (%.2f s)\n", e.epoch,
              e.train_loss, e.hit, e.auc, e.ndcg, e.seconds);
}

RankingTrainConfig ranking_config(const RunOptions& o, int epochs, int64_t batch_size, float lr) {
  RankingTrainConfig tc;
  tc.epochs = o.epochs > 0 ? o.epochs : epochs;
  tc.batch_size = o.batch_size > 0 ? o.batch_size : batch_size;
  nn::learning_rate(tc.optimizer) = o.lr > 0 ? static_cast<float>(o.lr) : lr;
  if (o.wd >= 0) nn::weight_decay(tc.optimizer) = static_cast<float>(o.wd);
  tc.seed = o.seed;
  tc.device = o.device;
  return tc;
}

RunResult ranking_result(const std::string& model, const RankingTrainResult& r, const std::string& data,
                         const std::string& ranking) {
  RankingEpochReport last = r.last_evaluated();
  RunResult out;
  out.model = model;
  out.epochs = static_cast<int>(r.epochs.size());
  out.metrics["train_loss"] = r.epochs.back().train_loss;
  out.metrics["hit_at_50"] = last.hit;
  out.metrics["auc"] = last.auc;
  out.metrics["ndcg_at_10"] = last.ndcg;
  out.train_seconds = r.train_seconds;
  out.examples_per_sec = r.examples_per_sec;
  out.info["data"] = data;
  out.info["split"] = "sequence-aware (latest interaction per user held out)";
  out.info["ranking"] = ranking;
  return out;
}

}  // namespace curec::train

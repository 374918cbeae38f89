// The course notes' alternating least squares with biases on MovieLens-100K: random 90/10 split
// (seed 0), K = 30 factors, weighted λ = 0.12·n, 20 sweeps, closed-form solves (no gradients).
//   book_als [cpu|cuda[:N]] [data dir]   (data dir: the one holding ml-100k/; default: default_data_dir())
#include <cstdio>
#include <string>

#include "data/movielens.h"
#include "data/paths.h"
#include "data/split.h"
#include "models/als.h"

using namespace curec;

int main(int argc, char** argv) try {
  const Device device = Device::parse(argc > 1 ? argv[1] : "cpu");
  const std::string dir = (argc > 2 ? std::string(argv[2]) : data::default_data_dir()) + "/ml-100k";
  data::Split split = data::split_random(data::read_ml100k(dir), 0.1, 0);
  std::printf("ML-100K: %zu train / %zu test ratings, %d users x %d items, on %s\n", split.train.size(),
              split.test.size(), split.train.num_users, split.train.num_items, device.str().c_str());

  models::ALSConfig cfg;
  std::printf("K = %lld, lambda = %g%s, %d sweeps\n", static_cast<long long>(cfg.factors), cfg.lambda,
              cfg.scale_lambda_by_count ? " x n (weighted)" : "", cfg.sweeps);
  double total = 0;
  models::ALS model(1, 1, cfg);
  models::ALSResult r = models::train_als(
      split.train, split.test, cfg, device,
      [&](const models::ALSSweep& s, const models::ALS&) {
        total += s.seconds;
        std::printf("sweep %2d  train RMSE %.4f  test RMSE %.4f  %.3f s\n", s.sweep, s.train_rmse, s.test_rmse,
                    s.seconds);
      },
      &model);
  std::printf("best test RMSE %.4f at sweep %d; %.2f s in sweeps\n", r.best_test_rmse, r.best_sweep, total);

  Tensor u = Tensor::from_vector<int32_t>({20}, {1}, device), i = Tensor::from_vector<int32_t>({30}, {1}, device);
  std::printf("predicted rating of user 20 for item 30: %.3f\n", model.predict(u, i).item());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "book_als: %s\n", e.what());
  return 1;
}

// D2L §15.3 "Matrix Factorization", as a curec program: MovieLens-100K, random 90/10 split,
// 30 factors, Adam (lr 0.002, wd 1e-5), 20 epochs of batch 512, L2 loss.
//   book_mf [cpu|cuda[:N]] [data dir]
#include <cstdio>

#include "core/autograd.h"
#include "models/mf.h"
#include "app/recipes.h"

using namespace curec;

int main(int argc, char** argv) try {
  app::RunSettings opt;
  opt.device = Device::parse(argc > 1 ? argv[1] : "cpu");
  if (argc > 2) opt.data = argv[2];
  app::RunResult r = app::MfRecipe().run(opt);
  std::printf("train loss %.3f, test RMSE %.3f\n", r.metrics["train_loss"], r.metrics["test_rmse"]);
  std::printf("%.1f examples/sec on %s\n", r.examples_per_sec, opt.device.str().c_str());

  // The book's last line: the predicted rating of user 20 for item 30 (dense ids).
  auto& model = dynamic_cast<models::MatrixFactorization&>(*r.trained);
  NoGradGuard no_grad;
  Tensor u = Tensor::from_vector<int32_t>({20}, {1}, opt.device);
  Tensor i = Tensor::from_vector<int32_t>({30}, {1}, opt.device);
  std::printf("predicted rating of user 20 for item 30: %.3f\n", model.predict(u, i).item());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "book_mf: %s\n", e.what());
  return 1;
}

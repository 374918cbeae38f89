// NeuMF's all-item scores on the CPU (cache-sized blocks of pairs spread over the threads):
// forward()'s scores on the same pairs, and the same bits whatever the thread count (the blocks
// are fixed by the pair count). Not bitwise forward's: the BLAS rounds a few rows differently
// by their position in a product (7 of 5,155 pairs here, by 1 ulp).
#include <vector>

#include "core/autograd.h"
#include "core/parallel.h"
#include "models/neumf.h"
#include "tests/testing.h"

using namespace curec;

TEST_CASE("neumf: CPU score_all_items in blocks cut mid-user equals forward, bitwise the same on 1/2/3 threads") {
  models::NeuMFConfig c;
  c.num_users = 9;
  c.num_items = 1031;  // 5 users x 1031 items: several 2048-pair blocks, cut inside a user's row
  c.init_std = 0.5f;
  Generator gen(7);
  models::NeuMF m(c, gen);
  NoGradGuard ng;
  const std::vector<int32_t> us{8, 0, 3, 3, 5};
  std::vector<int32_t> pu, pi;
  for (int32_t u : us)
    for (int32_t i = 0; i < c.num_items; ++i) pu.push_back(u), pi.push_back(i);
  const Tensor want = m.forward(Tensor::from_vector(pu), Tensor::from_vector(pi));
  const int saved = cpu_threads();
  std::vector<std::vector<float>> runs;
  for (int threads : {1, 2, 3}) {
    CAPTURE(threads);
    set_cpu_threads(threads);
    Tensor all = m.score_all_items(Tensor::from_vector(us, {5}));
    REQUIRE(all.shape() == Shape{5, c.num_items});
    CHECK(!all.requires_grad());
    testing::check_close(all.view({5 * c.num_items}), want, 1e-6f, 1e-6f, "score_all_items");
    runs.push_back(all.to_vector<float>());
  }
  set_cpu_threads(saved);
  CHECK(runs[1] == runs[0]);
  CHECK(runs[2] == runs[0]);
}

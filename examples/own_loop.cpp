// Own the training loop: a model is a Module with a forward, and the loop is yours — shuffled
// batches, forward, loss, backward, an optimizer step — with evaluation in eval mode and without
// gradients. The model, matrix factorisation with biases around the training mean μ:
//   ŷ(u, i) = p_uᵀ q_i + b_u + b_i + μ,   loss = mean ½(ŷ − y)²
//   own_loop [cpu|cuda[:N]]   (planted low-rank ratings; exits 1 unless it learns them)
#include <cmath>
#include <cstdio>

#include <curec/curec.h>

using namespace curec;

struct Factorization : nn::Module {
  nn::Embedding p, q, b_user, b_item;
  float mu;
  Factorization(int64_t users, int64_t items, int64_t k, float mean)
      : p(users, k), q(items, k), b_user(users, 1), b_item(items, 1), mu(mean) {
    register_module("p", p);
    register_module("q", q);
    register_module("b_user", b_user);
    register_module("b_item", b_item);
    for (nn::Embedding* e : {&p, &q, &b_user, &b_item}) nn::normal_(e->weight, 0.0f, 0.1f);
  }
  // u, i: i32 [n] -> f32 [n].
  Tensor forward(const Tensor& u, const Tensor& i) {
    return sum(p(u) * q(i), 1) + squeeze(b_user(u), 1) + squeeze(b_item(i), 1) + mu;
  }
};

// One part of the ratings, on the device.
struct Rows {
  Tensor users, items, ratings;
  Rows(const data::Interactions& d, Device device)
      : users(d.users_tensor(device)), items(d.items_tensor(device)),
        ratings(Tensor::from_vector(d.rating, {static_cast<int64_t>(d.size())}, device)) {}
};

int main(int argc, char** argv) try {
  const Device device = Device::parse(argc > 1 ? argv[1] : "cpu");
  data::Split split = data::split_random(data::synthetic_ratings({.density = 0.3}), 0.1, 0);
  const Rows train(split.train, device), test(split.test, device);
  double mean = 0;
  for (float r : split.train.rating) mean += r / static_cast<double>(split.train.size());

  manual_seed(1);
  Factorization model(split.train.num_users, split.train.num_items, 8, static_cast<float>(mean));
  model.to(device);
  nn::Adam adam(model.parameters(), {.lr = 0.02f, .weight_decay = 1e-5f});
  auto rmse = [&](const Rows& rows) {
    nn::EvalGuard eval(model);
    return no_grad([&] { return std::sqrt(2 * squared_error(model.forward(rows.users, rows.items), rows.ratings).item()); });
  };

  const int64_t n = train.users.numel(), batch = 256;
  for (int epoch = 1; epoch <= 10; ++epoch) {
    Tensor order = randperm(n, default_generator(), device);
    for (int64_t start = 0; start < n; start += batch) {
      Tensor idx = order.rows(start, std::min(batch, n - start));
      Tensor pred = model.forward(data::take_rows(train.users, idx), data::take_rows(train.items, idx));
      Tensor loss = squared_error(pred, data::take_rows(train.ratings, idx));
      adam.zero_grad();
      loss.backward();
      adam.step();
    }
    std::printf("epoch %2d: train RMSE %.4f, test RMSE %.4f\n", epoch, rmse(train), rmse(test));
  }
  const double final_rmse = rmse(test);
  if (final_rmse < 0.3) return 0;  // the planted ratings have noise 0.1; predicting μ scores ~0.84
  std::fprintf(stderr, "own_loop: did not learn the planted ratings: test RMSE %.4f\n", final_rmse);
  return 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "own_loop: %s\n", e.what());
  return 1;
}

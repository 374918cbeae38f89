// A deep model of your own: click-through prediction by a stack of residual blocks held in a
// ModuleList. Each row has F categorical fields; their embeddings, laid side by side, go through
//   h₀ = relu(W₀ x),   h_{l+1} = h_l + dropout(relu(W_l h_l)),   logit = wᵀ h_L + b
// trained on binary cross-entropy by a loop of your own, and scored by the test log loss.
//   deep_ctr [cpu|cuda[:N]]   (clicks planted by a hidden FM; exits 1 unless it learns them)
#include <cmath>
#include <cstdio>

#include <curec/curec.h>

using namespace curec;

class DeepCtr : public nn::Module {
 public:
  DeepCtr(int64_t features, int64_t fields, int64_t k, int64_t width, int depth)
      : embed_(features, k), in_(fields * k, width), out_(width, 1), dropout_(0.1f) {
    nn::normal_(embed_.weight, 0.0f, 0.1f);
    for (int l = 0; l < depth; ++l) blocks_.emplace_back(width, width);
    register_module("embed", embed_);
    register_module("in", in_);
    register_module("blocks", blocks_);
    register_module("out", out_);
    register_module("dropout", dropout_);
  }
  // x: i32 [n, fields] feature ids -> logits f32 [n].
  Tensor forward(const Tensor& x) {
    Tensor h = relu(in_(flatten(embed_(x))));
    for (auto& block : blocks_) h = h + dropout_(relu((*block)(h)));
    return squeeze(out_(h), 1);
  }

 private:
  nn::Embedding embed_;
  nn::Linear in_, out_;
  nn::ModuleList<nn::Linear> blocks_;
  nn::Dropout dropout_;
};

int main(int argc, char** argv) try {
  const Device device = Device::parse(argc > 1 ? argv[1] : "cpu");
  data::SyntheticCtr planted = data::synthetic_ctr({.rows = 50000});
  const data::CtrData& d = planted.data;
  const int64_t n_train = d.rows() * 4 / 5, n_test = d.rows() - n_train;
  Tensor x = d.fields_tensor(device), y = d.labels_tensor(device);
  Tensor x_test = x.rows(n_train, n_test), y_test = y.rows(n_train, n_test);

  manual_seed(2);
  DeepCtr model(d.num_features(), d.num_fields(), 8, 64, 3);
  model.to(device);
  nn::Adam adam(model.parameters(), {.lr = 0.002f, .weight_decay = 1e-5f});
  auto test_log_loss = [&] {
    nn::EvalGuard eval(model);
    NoGradGuard no_grad;
    return bce_with_logits(model.forward(x_test), y_test).item();
  };

  const int64_t batch = 512;
  for (int epoch = 1; epoch <= 10; ++epoch) {
    Tensor order = randperm(n_train, default_generator(), device);
    for (int64_t start = 0; start < n_train; start += batch) {
      Tensor idx = order.rows(start, std::min(batch, n_train - start));
      Tensor loss = bce_with_logits(model.forward(data::take_rows(x, idx)), data::take_rows(y, idx));
      adam.zero_grad();
      loss.backward();
      adam.step();
    }
    std::printf("epoch %d: test log loss %.4f\n", epoch, test_log_loss());
  }

  // What is there to learn: the log loss of always predicting the click rate, and of the planted
  // probabilities themselves (the best any model can do).
  double rate = 0, planted_loss = 0, base_loss = 0;
  for (int64_t r = 0; r < n_train; ++r) rate += d.labels[r] / static_cast<double>(n_train);
  for (int64_t r = n_train; r < d.rows(); ++r) {
    const double p = planted.probability[r], label = d.labels[r];
    planted_loss -= (label * std::log(p) + (1 - label) * std::log(1 - p)) / static_cast<double>(n_test);
    base_loss -= (label * std::log(rate) + (1 - label) * std::log(1 - rate)) / static_cast<double>(n_test);
  }
  const double loss = test_log_loss(), learned = (base_loss - loss) / (base_loss - planted_loss);
  std::printf("test log loss %.4f: the click rate alone %.4f, the planted model %.4f (%.0f%% of the gap closed)\n", loss,
              base_loss, planted_loss, 100 * learned);
  return learned > 0.5 ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "deep_ctr: %s\n", e.what());
  return 1;
}

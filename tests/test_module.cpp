#include <algorithm>

#include "core/autograd.h"
#include "nn/activation.h"
#include "nn/eval_guard.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/module_list.h"
#include "nn/sequential.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "tests/testing.h"

using namespace curec;

namespace {

// A layer built only on core + elementwise ops: y = x * scale + shift (per column).
class Affine : public nn::Layer {
 public:
  explicit Affine(int64_t n) {
    scale = testing::randn({n}, 1);
    shift = testing::randn({n}, 2);
    register_parameter("scale", scale);
    register_parameter("shift", shift);
  }
  Tensor forward(const Tensor& x) override { return x * scale + shift; }
  Tensor scale, shift;
};

class Tower : public nn::Module {
 public:
  Tower() {
    register_module("head", head);
    mlp = register_module("mlp", std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Layer>>{
                                     std::make_shared<Affine>(3), std::make_shared<nn::ReLU>(),
                                     std::make_shared<Affine>(3)}));
  }
  Affine head{2};
  std::shared_ptr<nn::Sequential> mlp;
};

std::vector<std::string> names_of(const nn::Module& m) {
  std::vector<std::string> out;
  for (auto& [name, t] : m.named_parameters()) out.push_back(name);
  return out;
}

}  // namespace

TEST_CASE("module: parameters are named by dotted paths in registration order and counted") {
  Tower t;
  CHECK(names_of(t) == std::vector<std::string>{"head.scale", "head.shift", "mlp.0.scale", "mlp.0.shift",
                                                "mlp.2.scale", "mlp.2.shift"});
  CHECK(t.parameters().size() == 6);
  CHECK(t.num_parameters() == 2 + 2 + 3 + 3 + 3 + 3);
  for (const Tensor& p : t.parameters()) CHECK(p.requires_grad());
  // The registered tensor is the member itself.
  CHECK(t.parameters()[0].impl() == t.head.scale.impl());
}

TEST_CASE("module: registration rejects bad and duplicate names") {
  struct Bad : nn::Module {
    Tensor a = Tensor::zeros({2}), b = Tensor::zeros({2});
    void add(const std::string& name, Tensor& t) { register_parameter(name, t); }
  } m;
  m.add("a", m.a);
  CHECK_THROWS_WITH_AS(m.add("a", m.b), doctest::Contains("already registered"), Error);
  CHECK_THROWS_WITH_AS(m.add("x.y", m.b), doctest::Contains("no '.'"), Error);
  Tensor ints = Tensor::zeros({2}, DType::i64);
  CHECK_THROWS_WITH_AS(m.add("i", ints), doctest::Contains("f32"), Error);
}

TEST_CASE("module: tied parameters are listed once") {
  struct Tied : nn::Module {
    Tensor w = Tensor::ones({3});
    Tensor alias;
    Tied() {
      register_parameter("w", w);
      alias = w;
      register_parameter("alias", alias);
    }
  } m;
  CHECK(names_of(m) == std::vector<std::string>{"w"});
  CHECK(m.num_parameters() == 3);
}

TEST_CASE("module: train/eval propagate through the whole tree") {
  Tower t;
  CHECK(t.is_training());
  t.eval();
  CHECK(!t.is_training());
  CHECK(!t.head.is_training());
  CHECK(!(*t.mlp)[2].is_training());
  t.train();
  CHECK((*t.mlp)[1].is_training());
}

TEST_CASE("module: EvalGuard puts the tree in eval mode for a scope and restores the mode it found") {
  Tower t;
  {
    nn::EvalGuard eval(t);
    CHECK(!t.is_training());
    CHECK(!(*t.mlp)[1].is_training());
  }
  CHECK(t.is_training());
  CHECK((*t.mlp)[1].is_training());
  t.eval();
  { nn::EvalGuard eval(t); }
  CHECK(!t.is_training());  // it was in eval mode: it stays there
  t.train();
  try {
    nn::EvalGuard eval(t);
    CUREC_FAIL("evaluation failed");
  } catch (const Error&) {
  }
  CHECK(t.head.is_training());  // an exception leaving the scope restores the mode too
}

TEST_CASE("no_grad: ops inside record no history, grad mode comes back after") {
  Tensor w = testing::randn({3}, 7);
  w.set_requires_grad();
  Tensor inside = no_grad([&] { return w * w; });
  CHECK(!inside.requires_grad());
  CHECK(grad_enabled());
  CHECK((w * w).requires_grad());
  double total = no_grad([&] { return sum(w).item(); });
  CHECK(total == doctest::Approx(sum(w.detach()).item()));
  {
    NoGradGuard guard;
    CHECK(!grad_enabled());
    CHECK(!(w * w).requires_grad());
  }
  CHECK(grad_enabled());
}

TEST_CASE("ModuleList: children named by position, typed access, the tree sees them") {
  struct Deep : nn::Module {
    nn::ModuleList<nn::Linear> blocks;
    Deep() {
      Generator g(4);
      for (int i = 0; i < 3; ++i) blocks.emplace_back(2, 2, nn::LinearOptions{.bias = i == 0}, g);
      register_module("blocks", blocks);
    }
    Tensor forward(Tensor h) {
      for (auto& block : blocks) h = h + (*block)(h);
      return h;
    }
  } deep;
  CHECK(names_of(deep) == std::vector<std::string>{"blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.2.weight"});
  CHECK(deep.blocks.size() == 3);
  CHECK(deep.blocks[2].in_features() == 2);
  CHECK(deep.blocks[1].weight.impl() == deep.parameters()[2].impl());
  CHECK_THROWS_WITH_AS((void)deep.blocks[3], doctest::Contains("out of range"), Error);
  CHECK_THROWS_AS(deep.blocks.push_back(nullptr), Error);

  // forward goes through every block: each parameter receives a gradient.
  Tensor x = testing::randn({4, 2}, 8);
  sum(deep.forward(x)).backward();
  for (const Tensor& p : deep.parameters()) CHECK(p.grad().defined());
  deep.eval();
  for (auto& block : deep.blocks) CHECK(!block->is_training());

  // An untyped list holds any module.
  nn::ModuleList<> mixed({std::make_shared<nn::ReLU>(), std::make_shared<Affine>(2)});
  CHECK(names_of(mixed) == std::vector<std::string>{"1.scale", "1.shift"});
}

TEST_CASE("module: buffers move with to() and are saved, but are not parameters") {
  struct Masked : nn::Module {
    Tensor w = Tensor::ones({3});
    Tensor mask = Tensor::from_vector<float>({1, 0, 1}, {3});
    Masked() {
      register_parameter("w", w);
      register_buffer("mask", mask);
    }
  } m;
  CHECK(names_of(m) == std::vector<std::string>{"w"});
  REQUIRE(m.named_buffers().size() == 1);
  CHECK(m.named_buffers()[0].first == "mask");
  CHECK(!m.mask.requires_grad());
  nn::StateDict sd = m.state_dict();
  CHECK(sd.size() == 2);
  CHECK(sd.at("mask").to_vector<float>() == std::vector<float>{1, 0, 1});
  sd.at("mask").data<float>()[1] = 5.0f;
  m.load_state_dict(sd);
  CHECK(m.mask.to_vector<float>() == std::vector<float>{1, 5, 1});
  nn::StateDict without = m.state_dict();
  without.erase("mask");
  CHECK_THROWS_WITH_AS(m.load_state_dict(without), doctest::Contains("missing keys [mask]"), Error);
  CHECK(&m.to(Device::cpu()) == &m);  // to() returns the module, so it can start an expression

  struct Bad : nn::Module {
    Tensor t = Tensor::ones({2});
    void add() {
      t.set_requires_grad(true);
      register_buffer("t", t);
    }
  } bad;
  CHECK_THROWS_WITH_AS(bad.add(), doctest::Contains("register_parameter"), Error);
}

TEST_CASE("module: zero_grad clears every gradient") {
  Tower t;
  Tensor x = testing::randn({4, 3}, 5);
  sum(t.mlp->forward(x)).backward();
  CHECK(t.mlp->parameters()[0].grad().defined());
  t.zero_grad();
  for (const Tensor& p : t.parameters()) CHECK(!p.grad().defined());
}

TEST_CASE("module: state_dict round trip, CPU copies, strict and lenient loading") {
  Tower a, b;
  nn::StateDict sd = a.state_dict();
  CHECK(sd.size() == 6);
  CHECK(sd.at("mlp.2.shift").to_vector<float>() == a.mlp->parameters()[3].to_vector<float>());
  // The dict holds copies: changing it leaves the model alone.
  sd.at("head.scale").data<float>()[0] = 42.0f;
  CHECK(a.head.scale.to_vector<float>()[0] != 42.0f);

  b.load_state_dict(a.state_dict());
  for (auto& [name, t] : a.state_dict()) CHECK(b.state_dict().at(name).to_vector<float>() == t.to_vector<float>());
  // Members see the loaded values (loading copies into the registered tensors).
  CHECK(b.head.shift.to_vector<float>() == a.head.shift.to_vector<float>());

  nn::StateDict missing = a.state_dict();
  missing.erase("mlp.0.scale");
  missing["extra.weight"] = Tensor::zeros({1});
  CHECK_THROWS_WITH_AS(b.load_state_dict(missing), doctest::Contains("missing keys [mlp.0.scale]"), Error);
  CHECK_THROWS_WITH_AS(b.load_state_dict(missing), doctest::Contains("unexpected keys [extra.weight]"), Error);
  missing.at("head.scale").data<float>()[1] = 7.0f;
  b.load_state_dict(missing, /*strict=*/false);
  CHECK(b.head.scale.to_vector<float>()[1] == 7.0f);

  nn::StateDict wrong = a.state_dict();
  wrong["head.shift"] = Tensor::zeros({5});
  std::vector<float> before = b.head.scale.to_vector<float>();
  CHECK_THROWS_WITH_AS(b.load_state_dict(wrong), doctest::Contains("head.shift: checkpoint has f32[5]"), Error);
  // A rejected dict changes nothing.
  CHECK(b.head.scale.to_vector<float>() == before);
}

TEST_CASE("module: init functions follow their formulas") {
  nn::Fans f = nn::fans({8, 4, 3, 2});
  CHECK(f.in == 4 * 3 * 2);
  CHECK(f.out == 8 * 3 * 2);
  CHECK(nn::fans({5, 7}).in == 7);
  CHECK_THROWS_AS(nn::fans({5}), Error);

  Tensor w = Tensor::empty({64, 32});
  Generator g(3);
  nn::xavier_uniform_(w, 1.0f, g);
  float a = std::sqrt(6.0f / 96.0f);
  std::vector<float> v = w.to_vector<float>();
  CHECK(*std::max_element(v.begin(), v.end()) <= a);
  CHECK(*std::min_element(v.begin(), v.end()) >= -a);
  CHECK(*std::max_element(v.begin(), v.end()) > 0.9f * a);

  nn::kaiming_uniform_(w, std::sqrt(5.0f), g);
  v = w.to_vector<float>();
  CHECK(*std::max_element(v.begin(), v.end()) <= 1.0f / std::sqrt(32.0f));

  Tensor big = Tensor::empty({200, 200});
  nn::xavier_normal_(big, 2.0f, g);
  v = big.to_vector<float>();
  double ss = 0;
  for (float x : v) ss += double(x) * x;
  double expected_sd = 2.0 * std::sqrt(2.0 / 400.0);
  CHECK(std::sqrt(ss / v.size()) == doctest::Approx(expected_sd).epsilon(0.03));

  nn::zeros_(big);
  v = big.to_vector<float>();
  CHECK(std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f; }));

  // Same generator state, same numbers.
  Tensor x1 = Tensor::empty({10}), x2 = Tensor::empty({10});
  Generator g1(9), g2(9);
  nn::normal_(x1, 0.0f, 0.01f, g1);
  nn::normal_(x2, 0.0f, 0.01f, g2);
  CHECK(x1.to_vector<float>() == x2.to_vector<float>());
}

TEST_CASE("module: activation names parse both ways") {
  for (auto a : {nn::Activation::none, nn::Activation::relu, nn::Activation::sigmoid, nn::Activation::tanh,
                 nn::Activation::gelu})
    CHECK(nn::parse_activation(nn::activation_name(a)) == a);
  CHECK_THROWS_WITH_AS(nn::parse_activation("swish"), doctest::Contains("unknown activation"), Error);
  CHECK(nn::make_activation(nn::Activation::none) == nullptr);
  Tensor x = Tensor::from_vector<float>({-1.0f, 2.0f}, {2});
  CHECK(nn::ReLU()(x).to_vector<float>() == std::vector<float>{0.0f, 2.0f});
  CHECK(nn::Sigmoid()(x).to_vector<float>()[1] == doctest::Approx(1.0 / (1.0 + std::exp(-2.0))));
  CHECK(nn::GELU()(x).to_vector<float>()[0] == doctest::Approx(-1.0 * 0.5 * std::erfc(1.0 / std::sqrt(2.0))));
}

TEST_SUITE("cuda") {
  TEST_CASE("module: to(cuda) moves parameters in place, keeping requires_grad and identity") {
    Tower t;
    nn::StateDict before = t.state_dict();
    Tensor handle = t.head.scale;  // e.g. held by an optimizer
    sum(t.mlp->forward(testing::randn({2, 3}, 9))).backward();
    REQUIRE(t.mlp->parameters()[0].grad().defined());
    t.to(Device::cuda(0));
    for (const Tensor& p : t.parameters()) {
      CHECK(p.is_cuda());
      CHECK(p.requires_grad());
    }
    CHECK(handle.is_cuda());
    CHECK(t.head.scale.is_cuda());
    // A gradient on the old device is dropped, not left behind on it.
    for (const Tensor& p : t.parameters()) CHECK(!p.grad().defined());
    nn::StateDict after = t.state_dict();
    for (auto& [name, v] : before) {
      CHECK(!after.at(name).is_cuda());
      CHECK(after.at(name).to_vector<float>() == v.to_vector<float>());
    }
    t.to(Device::cpu());
    CHECK(!handle.is_cuda());

    // Buffers travel with the parameters; the module computes on its new device.
    struct Scaled : nn::Module {
      Tensor w = Tensor::from_vector<float>({1, 2, 3}, {3});
      Tensor scale = Tensor::from_vector<float>({2, 2, 0.5f}, {3});
      Scaled() {
        register_parameter("w", w);
        register_buffer("scale", scale);
      }
    } s;
    s.to(Device::cuda(0));
    CHECK(s.scale.is_cuda());
    Tensor y = s.w * s.scale;
    CHECK(y.is_cuda());
    sum(y).backward();
    CHECK(s.w.grad().to_vector<float>() == std::vector<float>{2, 2, 0.5f});
    CHECK(s.state_dict().at("scale").to_vector<float>() == std::vector<float>{2, 2, 0.5f});
    CHECK(t.state_dict().at("mlp.0.scale").to_vector<float>() == before.at("mlp.0.scale").to_vector<float>());
  }
}

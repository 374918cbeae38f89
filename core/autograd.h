#pragma once
// Define-by-run autograd. Each differentiable op records a Node holding what its backward
// needs; backward() walks the nodes in reverse topological order and accumulates gradients.
//
// Rule for op authors: a backward closure may capture inputs, but must capture its own output
// only through out.detach() (otherwise the output would own itself through its node).
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace curec {

// A gradient for one input: dense, or row-sparse (indices i64 [n] + rows [n, ...]) for a
// table of `dense_shape`, as embedding lookups produce.
struct Grad {
  Tensor dense;
  Tensor indices;
  Tensor rows;
  Grad() = default;
  Grad(Tensor d) : dense(std::move(d)) {}  // NOLINT: dense is the common case
  static Grad sparse(Tensor indices, Tensor rows) {
    Grad g;
    g.indices = std::move(indices);
    g.rows = std::move(rows);
    return g;
  }
  bool is_sparse() const { return indices.defined(); }
  bool defined() const { return dense.defined() || indices.defined(); }
};

struct Edge {
  std::shared_ptr<Node> node;         // the input was produced by an op
  std::shared_ptr<TensorImpl> leaf;   // or it is a leaf that requires grad
};

class Node {
 public:
  virtual ~Node() = default;
  // Gradients w.r.t. each input, in the order of `inputs`; an undefined Grad means none.
  virtual std::vector<Grad> backward(const Tensor& grad_output) = 0;
  virtual std::string name() const = 0;

  std::vector<Edge> inputs;
  std::vector<Shape> input_shapes;
};

using BackwardFn = std::function<std::vector<Grad>(const Tensor& grad_output)>;

// Whether ops record history (false inside a NoGradGuard or no_grad, and during backward).
bool grad_enabled();
// Ops record no history while it lives (evaluation, in-place updates of parameters); grad mode
// returns to what it was when it dies. Per thread, as libtorch's.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Runs f() with grad mode off and returns what it returns: the scope of no_grad is the lambda.
//   double rmse = no_grad([&] { return evaluate(model, test); });
template <class F>
decltype(auto) no_grad(F&& f) {
  NoGradGuard guard;
  return std::forward<F>(f)();
}

// True when grad mode is on and any input requires grad.
bool any_requires_grad(std::initializer_list<Tensor> inputs);

// Attaches a node computing `backward` to `out` when history is recorded; returns out.
Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, BackwardFn backward);
// Same, for a custom Node subclass.
Tensor record_node(Tensor out, std::shared_ptr<Node> node, const std::vector<Tensor>& inputs);

// Backpropagates grad_output (ones for a scalar root when undefined) into the leaves' gradients.
// The observer, when given, hears of every leaf the graph reaches (on_graph, first), then of each
// as soon as its gradient is complete (on_leaf_ready: every node with an edge to it has run, or
// was skipped for want of a gradient), while the rest of backward is still to run: data
// parallelism starts a bucket's all-reduce there. Leaves complete in the same order for the same
// graph.
void run_backward(const Tensor& root, const Tensor& grad_output, const BackwardObserver& observer = {});

}  // namespace curec

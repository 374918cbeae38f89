#include "core/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "core/tensor_kernels.h"

namespace curec {
namespace {

thread_local bool g_grad_enabled = true;

class LambdaNode final : public Node {
 public:
  LambdaNode(const char* name, BackwardFn fn) : name_(name), fn_(std::move(fn)) {}
  std::vector<Grad> backward(const Tensor& g) override { return fn_(g); }
  std::string name() const override { return name_; }

 private:
  const char* name_;
  BackwardFn fn_;
};

// Appends row-sparse gradients (concatenation; duplicates are summed by whoever applies them).
Tensor concat_rows(const Tensor& a, const Tensor& b) {
  Shape s = a.shape();
  s[0] += b.size(0);
  Tensor out = Tensor::empty(s, a.dtype(), a.device());
  copy_bytes(out.raw_data(), out.device(), a.raw_data(), a.device(), a.nbytes());
  copy_bytes(static_cast<char*>(out.raw_data()) + a.nbytes(), out.device(), b.raw_data(), b.device(), b.nbytes());
  return out;
}

void accumulate_leaf(TensorImpl& leaf, Grad g) {
  if (g.is_sparse()) {
    CUREC_CHECK(!leaf.grad.defined(), "a tensor of shape ", shape_str(leaf.shape),
                " received both dense and row-sparse gradients; give its embedding dense gradients");
    if (!leaf.sparse_indices.defined()) {
      leaf.sparse_indices = g.indices;
      leaf.sparse_rows = g.rows;
    } else {
      leaf.sparse_indices = concat_rows(leaf.sparse_indices, g.indices);
      leaf.sparse_rows = concat_rows(leaf.sparse_rows, g.rows);
    }
    return;
  }
  CUREC_CHECK(!leaf.sparse_indices.defined(), "a tensor of shape ", shape_str(leaf.shape),
              " received both row-sparse and dense gradients; give its embedding dense gradients");
  if (!leaf.grad.defined()) {
    // Own the buffer: later accumulation happens in place.
    leaf.grad = g.dense.storage().use_count() == 1 ? g.dense.view(leaf.shape) : g.dense.clone().view(leaf.shape);
  } else {
    accumulate_(leaf.grad, g.dense);
  }
}

}  // namespace

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

bool any_requires_grad(std::initializer_list<Tensor> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Tensor record_node(Tensor out, std::shared_ptr<Node> node, const std::vector<Tensor>& inputs) {
  bool needed = false;
  if (g_grad_enabled)
    for (const Tensor& t : inputs) needed |= t.defined() && t.requires_grad();
  if (!needed) return out;
  node->inputs.clear();
  node->input_shapes.clear();
  for (const Tensor& t : inputs) {
    Edge e;
    if (t.defined() && t.requires_grad()) {
      if (t.grad_fn()) e.node = t.grad_fn();
      else e.leaf = t.impl_ptr();
    }
    node->inputs.push_back(std::move(e));
    node->input_shapes.push_back(t.defined() ? t.shape() : Shape{});
  }
  // `out` may be a view sharing another tensor's impl history: give it its own impl.
  Tensor result = out.grad_fn() ? out.detach() : out;
  result.set_grad_fn(std::move(node));
  return result;
}

Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, BackwardFn backward) {
  if (!g_grad_enabled) return out;
  return record_node(std::move(out), std::make_shared<LambdaNode>(name, std::move(backward)), inputs);
}

void run_backward(const Tensor& root, const Tensor& grad_output, const BackwardObserver& observer) {
  CUREC_CHECK(root.requires_grad(), "backward() on a tensor that does not require grad (",
              root.str(), "): no parameter or input with requires_grad led to it");
  Tensor g0 = grad_output;
  if (!g0.defined()) {
    CUREC_CHECK(root.numel() == 1, "backward() on non-scalar ", root.str(), " needs the gradient of the output");
    g0 = Tensor::full(root.shape(), 1.0f, root.device());
  }
  CUREC_CHECK(g0.shape() == root.shape(), "backward(): gradient ", g0.str(), " does not match output ", root.str());
  NoGradGuard no_grad;
  if (!root.grad_fn()) {
    if (observer.on_graph) observer.on_graph(std::vector<const TensorImpl*>{root.impl()});
    accumulate_leaf(*root.impl(), Grad(g0));
    if (observer.on_leaf_ready) observer.on_leaf_ready(*root.impl());
    return;
  }
  // Reverse topological order by depth-first post-order.
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, size_t>> stack{{root.grad_fn().get(), 0}};
  seen.insert(root.grad_fn().get());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      Node* child = node->inputs[next++].node.get();
      if (child && seen.insert(child).second) stack.push_back({child, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  // For the observer: the graph's leaves, and how many edges into each are still to run.
  std::unordered_map<const TensorImpl*, int> pending_edges;
  if (!observer.empty()) {
    std::vector<const TensorImpl*> leaves;
    for (Node* node : order)
      for (const Edge& e : node->inputs)
        if (e.leaf && pending_edges[e.leaf.get()]++ == 0) leaves.push_back(e.leaf.get());
    if (observer.on_graph) observer.on_graph(leaves);
  }
  auto edges_done = [&](Node* node) {
    if (!observer.on_leaf_ready) return;
    for (const Edge& e : node->inputs)
      if (e.leaf && --pending_edges[e.leaf.get()] == 0) observer.on_leaf_ready(*e.leaf);
  };
  std::unordered_map<Node*, Tensor> grads;
  grads[root.grad_fn().get()] = g0;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    auto found = grads.find(node);
    if (found == grads.end()) {
      edges_done(node);
      continue;
    }
    Tensor g = std::move(found->second);
    grads.erase(found);
    std::vector<Grad> in_grads = node->backward(g);
    CUREC_CHECK(in_grads.size() == node->inputs.size(), "autograd: ", node->name(), " returned ", in_grads.size(),
                " gradients for ", node->inputs.size(), " inputs");
    for (size_t i = 0; i < in_grads.size(); ++i) {
      const Edge& e = node->inputs[i];
      Grad& gi = in_grads[i];
      if (!gi.defined() || (!e.node && !e.leaf)) continue;
      if (!gi.is_sparse())
        CUREC_CHECK(gi.dense.numel() == shape_numel(node->input_shapes[i]), "autograd: ", node->name(),
                    " gave gradient ", gi.dense.str(), " for input ", i, " of shape ", shape_str(node->input_shapes[i]));
      if (e.leaf) {
        accumulate_leaf(*e.leaf, std::move(gi));
        continue;
      }
      CUREC_CHECK(!gi.is_sparse(), "autograd: ", node->name(), " gave a row-sparse gradient to a non-leaf input");
      Tensor dense = gi.dense.view(node->input_shapes[i]);
      auto [slot, fresh] = grads.try_emplace(e.node.get(), dense);
      if (!fresh) {
        Tensor sum = slot->second.clone();  // never accumulate into a buffer another node may hold
        accumulate_(sum, dense);
        slot->second = sum;
      }
    }
    edges_done(node);
  }
}

}  // namespace curec

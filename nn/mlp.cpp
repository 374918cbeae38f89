#include "nn/mlp.h"

#include "nn/dropout.h"
#include "nn/linear.h"

namespace curec::nn {

std::shared_ptr<Sequential> mlp(const std::vector<int64_t>& sizes, MlpOptions options, Generator& gen) {
  CUREC_CHECK(sizes.size() >= 2, "mlp: needs at least input and output sizes, got ", sizes.size(), " sizes");
  auto seq = std::make_shared<Sequential>();
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    seq->push_back(std::make_shared<Linear>(sizes[i], sizes[i + 1], LinearOptions{}, gen));
    bool last = i + 2 == sizes.size();
    if (last && !options.activation_on_last) break;
    if (auto act = make_activation(options.activation)) seq->push_back(act);
    if (options.dropout > 0.0f) seq->push_back(std::make_shared<Dropout>(options.dropout, gen));
  }
  return seq;
}

}  // namespace curec::nn

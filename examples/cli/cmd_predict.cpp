#include <cstdio>
#include <memory>
#include <sstream>

#include "core/autograd.h"
#include "examples/cli/commands.h"
#include "models/mf.h"
#include "nn/serialize.h"

namespace curec::cli {
namespace {

// Dense id of a raw id from the comma-separated, sorted list saved with the model.
int32_t dense_id(const std::string& raw_list, int64_t raw, const char* what) {
  std::istringstream in(raw_list);
  std::string tok;
  for (int32_t i = 0; std::getline(in, tok, ','); ++i)
    if (std::stoll(tok) == raw) return i;
  CUREC_FAIL(what, " ", raw, " does not appear in the data the model was trained on");
}

const std::string& meta_at(const std::map<std::string, std::string>& meta, const std::string& key,
                           const std::string& file) {
  auto it = meta.find(key);
  CUREC_CHECK(it != meta.end(), file, ": model file lacks '", key, "'; was it written by `curec train --save`?");
  return it->second;
}

}  // namespace

void add_predict(CLI::App& app) {
  auto* cmd = app.add_subcommand("predict", "Predict a user's rating of an item with a saved model");
  auto file = std::make_shared<std::string>();
  auto user = std::make_shared<int64_t>(), item = std::make_shared<int64_t>();
  cmd->add_option("--model", *file, "Model file written by `curec train MODEL --save FILE`")->required();
  cmd->add_option("--user", *user, "User id as the data set spells it")->required();
  cmd->add_option("--item", *item, "Item id as the data set spells it")->required();
  cmd->callback([file, user, item] {
    nn::LoadedState st = nn::load_state(*file);
    const std::string& kind = meta_at(st.meta, "model", *file);
    CUREC_CHECK(kind == "mf", *file, ": predict does not support model '", kind, "' yet");
    models::MFConfig c;
    c.num_users = std::stoll(meta_at(st.meta, "num_users", *file));
    c.num_items = std::stoll(meta_at(st.meta, "num_items", *file));
    c.factors = std::stoll(meta_at(st.meta, "factors", *file));
    models::MatrixFactorization model(c);
    model.load_state_dict(st.tensors);
    model.eval();
    int32_t u = dense_id(meta_at(st.meta, "user_ids", *file), *user, "user");
    int32_t i = dense_id(meta_at(st.meta, "item_ids", *file), *item, "item");
    NoGradGuard ng;
    float r = model.predict(Tensor::from_vector<int32_t>({u}, {1}), Tensor::from_vector<int32_t>({i}, {1})).item();
    std::printf("%.4f\n", r);
  });
}

}  // namespace curec::cli

#include <cstdio>
#include <memory>

#include "core/autograd.h"
#include "examples/cli/commands.h"
#include "examples/cli/saved_mf.h"

namespace curec::cli {

void add_predict(CLI::App& app) {
  auto* cmd = app.add_subcommand("predict", "Predict a user's rating of an item with a saved model");
  auto file = std::make_shared<std::string>();
  auto user = std::make_shared<int64_t>(), item = std::make_shared<int64_t>();
  cmd->add_option("--model", *file, "Model file written by `curec train mf --save FILE`")->required();
  cmd->add_option("--user", *user, "User id as the data set spells it")->required();
  cmd->add_option("--item", *item, "Item id as the data set spells it")->required();
  cmd->callback([file, user, item] {
    SavedMF s = load_saved_mf(*file);
    Tensor u = Tensor::from_vector<int32_t>({s.dense_user(*user)}, {1});
    Tensor i = Tensor::from_vector<int32_t>({s.dense_item(*item)}, {1});
    NoGradGuard ng;
    std::printf("%.4f\n", s.model->predict(u, i).item());
  });
}

}  // namespace curec::cli

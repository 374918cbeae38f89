#include <cstdio>
#include <memory>

#include "app/commands.h"
#include "app/output_paths.h"
#include "app/saved_model.h"

namespace curec::app {

void add_predict(CLI::App& app) {
  auto* cmd = app.add_subcommand("predict", "A saved model's score of a user and an item: MF's predicted rating, NeuMF's ranking score");
  auto file = std::make_shared<std::string>();
  auto user = std::make_shared<int64_t>(), item = std::make_shared<int64_t>();
  cmd->add_option("--model", *file, "Model file written by `curec train MODEL --save FILE`")
      ->required()
      ->check(non_empty_path());
  cmd->add_option("--user", *user, "User id as the data set spells it")->required();
  cmd->add_option("--item", *item, "Item id as the data set spells it")->required();
  cmd->callback([file, user, item] {
    SavedModel s = load_saved_model(*file);
    Tensor u = Tensor::from_vector<int32_t>({s.dense_user(*user)}, {1});
    Tensor i = Tensor::from_vector<int32_t>({s.dense_item(*item)}, {1});
    std::printf("%.4f\n", s.score(u, i).item());  // a rating for MF, a ranking score for NeuMF
  });
}

}  // namespace curec::app

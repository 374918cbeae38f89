#include <memory>

#include "app/recipes.h"
#include "core/error.h"

namespace curec::app {

namespace {
template <class R, class... Args>
std::function<std::unique_ptr<Recipe>()> make(Args... args) {
  return [=] { return std::make_unique<R>(args...); };
}
}  // namespace

const std::vector<Experiment>& experiments() {
  static const std::vector<Experiment> all = {
      // The book's chapter in order, then the course notes' matrix-factorisation family.
      {"mf", "D2L §15.3", "test_rmse", 1.055, 0.914, 0.95, true, make<MfRecipe>()},
      {"autorec", "D2L §15.4", "test_rmse", 0.900, 0.901, 0.91, true, make<AutoRecRecipe>()},
      {"neumf", "D2L §15.5-15.6", "hit_at_50", kNoFigure, 0.324, 0.32, false, make<RankingRecipe>(false)},
      {"caser", "D2L §15.7", "hit_at_50", kNoFigure, 0.404, 0.38, false, make<RankingRecipe>(true)},
      {"sasrec", "Kang & McAuley 2018 (SASRec)", "hr_at_10", kNoFigure, 0.795, 0.785, false, make<SasrecRecipe>()},
      {"fm", "D2L §15.9", "auc", kNoFigure, kNoFigure, 0.66, false, make<CtrRecipe>(false)},
      {"deepfm", "D2L §15.10", "auc", kNoFigure, kNoFigure, 0.68, false, make<CtrRecipe>(true)},
      {"als", "course notes: ALS with biases", "test_rmse", kNoFigure, kNoFigure, 0.93, true, make<AlsRecipe>()},
      {"deep_rating", "course notes: deep rating net", "test_rmse", kNoFigure, kNoFigure, 0.96, true,
       make<RatingNetRecipe>(false)},
      {"residual_rating", "course notes: residual rating net", "test_rmse", kNoFigure, kNoFigure, 0.96, true,
       make<RatingNetRecipe>(true)},
      {"bpmf", "course notes §9: Bayesian PMF", "test_rmse", kNoFigure, kNoFigure, 0.92, true, make<BpmfRecipe>()},
  };
  return all;
}

const Experiment& find_experiment(const std::string& name) {
  std::string known;
  for (const Experiment& e : experiments()) {
    if (e.name == name) return e;
    known += (known.empty() ? "" : ", ") + e.name;
  }
  CUREC_FAIL("unknown model '", name, "': choose one of ", known);
}

}  // namespace curec::app

#include "train/experiment.h"

#include <algorithm>

#include "core/error.h"
#include "train/experiment_als.h"
#include "train/experiment_autorec.h"
#include "train/experiment_bpmf.h"
#include "train/experiment_caser.h"
#include "train/experiment_deep_rating.h"
#include "train/experiment_fm.h"
#include "train/experiment_mf.h"
#include "train/experiment_neumf.h"

namespace curec::train {

RunResult Experiment::run_checked(const RunOptions& o) const {
  if (!o.variant.empty() && std::find(variants.begin(), variants.end(), o.variant) == variants.end()) {
    std::string choices;
    for (const std::string& v : variants) choices += (choices.empty() ? "" : ", ") + v;
    CUREC_FAIL("--variant ", o.variant, ": ", name,
               variants.empty() ? std::string(" has no variants; drop --variant") : " has the variants " + choices);
  }
  return run(o);
}

void require_split(const RunOptions& o, const std::string& model, const std::string& only) {
  CUREC_CHECK(o.split.empty() || o.split == only, "--split ", o.split, ": ", model, " trains on the ",
              only.empty() ? std::string("data's own train/test files") : "'" + only + "' split", " only; drop --split",
              only.empty() ? "" : " or pass --split " + only);
}

const std::vector<Experiment>& experiments() {
  static const std::vector<Experiment> all = {
      // The book's chapter in order, then the course notes' matrix-factorisation family.
      {"mf", "15.3", "test_rmse", 1.055, 0.914, 0.95, true, run_mf},
      {"autorec", "15.4", "test_rmse", 0.900, 0.901, 0.91, true, run_autorec, "", false, {"item", "user"}},
      {"neumf", "15.5", "hit_at_50", kNoFigure, 0.324, 0.32, false, run_neumf},
      {"caser", "15.7", "hit_at_50", kNoFigure, 0.404, 0.38, false, run_caser},
      {"fm", "15.9", "auc", kNoFigure, kNoFigure, 0.66, false, run_fm, "criteo", true},
      {"deepfm", "15.10", "auc", kNoFigure, kNoFigure, 0.68, false, run_deepfm, "criteo", true},
      {"als", "course", "test_rmse", kNoFigure, kNoFigure, 0.93, true, run_als},
      {"deep_rating", "course", "test_rmse", kNoFigure, kNoFigure, 0.96, true, run_deep_rating},
      {"residual_rating", "course", "test_rmse", kNoFigure, kNoFigure, 0.96, true, run_residual_rating},
      {"bpmf", "course", "test_rmse", kNoFigure, kNoFigure, 0.92, true, run_bpmf},
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

}  // namespace curec::train

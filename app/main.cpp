// curec: runs the book's experiments, trains, evaluates and predicts.
//   curec train MODEL [options]     curec reproduce [options]   (Ctrl-C: exit 130 after the step)
//   curec predict --model FILE --user U --item I
//   curec recommend --model FILE --user U [--top N]
//   curec evaluate --model FILE [--data D] [--split S]
//   curec data stats --data DIR
// Usage errors exit with status 2; failures of a run (bad data, ...) with status 1.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <new>

#include "core/error.h"
#include "core/out_of_memory.h"
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/run_report.h"
#include "core/version.h"
#include "train/trainer.h"

namespace {
// The model `curec train MODEL` names: its recipe decides which flags the command takes.
std::string train_model(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "train") return argv[i + 1][0] == '-' ? "" : argv[i + 1];
  return "";
}

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"curec: fast recommender-system training on CPUs and NVIDIA GPUs"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  app.set_version_flag("--version", "curec " CUREC_VERSION);
  const std::string model = train_model(argc, argv);
  const std::vector<std::string> train_flags = curec::app::add_train(app, model);
  curec::app::add_reproduce(app);
  curec::app::add_predict(app);
  curec::app::add_recommend(app);
  curec::app::add_evaluate(app);
  curec::app::add_data(app);
  curec::app::install_interrupt_handlers();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    if (!train_flags.empty()) {
      std::fprintf(stderr, "curec train %s: a flag %s does not take (%s)\n%s takes only: %s\n", model.c_str(),
                   model.c_str(), e.what(), model.c_str(), join(train_flags).c_str());
      return 2;
    }
    std::fprintf(stderr, "curec: %s\nRun 'curec --help' for usage.\n", e.what());
    return 2;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "curec: %s\nRun 'curec --help' for usage.\n", e.what());
    return 2;
  } catch (const curec::train::Interrupted& e) {
    std::fprintf(stderr, "curec: %s\n", e.what());
    return 130;
  } catch (const curec::OutOfMemory& e) {
    std::fprintf(stderr, "curec: error: %s; reduce --batch-size/--factors (or the model's other sizes)\n", e.message().c_str());
    return 1;
  } catch (const curec::Error& e) {
    std::fprintf(stderr, "curec: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc& e) {
    std::fprintf(stderr, "curec: error: out of memory (%s); reduce --batch-size/--factors (or the model's other sizes)\n",
                 e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "curec: error: %s\n", e.what());
    return 1;
  }
  return curec::app::exit_code();
}

// curec: runs the book's experiments, trains, evaluates and predicts.
//   curec train MODEL [options]     curec reproduce [options]
//   curec predict --model FILE --user U --item I
//   curec recommend --model FILE --user U [--top N]
//   curec evaluate --model FILE [--data D] [--split S]
//   curec data stats --data DIR
// Usage errors exit with status 2; failures of a run (bad data, ...) with status 1.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "core/error.h"
#include "examples/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"curec: fast recommender-system training on CPUs and NVIDIA GPUs"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  curec::cli::add_train(app);
  curec::cli::add_reproduce(app);
  curec::cli::add_predict(app);
  curec::cli::add_recommend(app);
  curec::cli::add_evaluate(app);
  curec::cli::add_data(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "curec: %s\nRun 'curec --help' for usage.\n", e.what());
    return 2;
  } catch (const curec::Error& e) {
    std::fprintf(stderr, "curec: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "curec: error: %s\n", e.what());
    return 1;
  }
  return curec::cli::exit_code();
}

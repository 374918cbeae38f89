#pragma once
// The subcommands of the curec tool; each registers itself on the app and runs from its callback.
#include <CLI/CLI.hpp>

namespace curec::cli {

void add_train(CLI::App& app);
void add_reproduce(CLI::App& app);
void add_predict(CLI::App& app);
void add_recommend(CLI::App& app);
void add_evaluate(CLI::App& app);
void add_data(CLI::App& app);

// Status a command asks main() to return (0 unless set).
int exit_code();
void set_exit_code(int code);

}  // namespace curec::cli

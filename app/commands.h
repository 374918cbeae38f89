#pragma once
// The subcommands of the curec tool; each registers itself on the app and runs from its callback.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "app/recipe.h"

namespace curec::app {

// `model`: the model the command line names, whose recipe's flags are bound; returns their names.
std::vector<std::string> add_train(CLI::App& app, const std::string& model);
void add_reproduce(CLI::App& app);
void add_predict(CLI::App& app);
void add_recommend(CLI::App& app);
void add_evaluate(CLI::App& app);
void add_data(CLI::App& app);

// Status a command asks main() to return (0 unless set).
int exit_code();
void set_exit_code(int code);

}  // namespace curec::app

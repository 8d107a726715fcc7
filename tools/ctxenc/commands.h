// commands.h — the subcommands of `ctxenc`. Each file registers its flags with
// setup_x(app) and runs through the library in run_x(options).
#pragma once
#include <CLI/CLI.hpp>

namespace ctxenc::cli {

void setup_train(CLI::App& app);
void setup_inpaint(CLI::App& app);
void setup_info(CLI::App& app);
void setup_eval(CLI::App& app);
void setup_bench(CLI::App& app);
void setup_masks(CLI::App& app);
void setup_export(CLI::App& app);

}  // namespace ctxenc::cli

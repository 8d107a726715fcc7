// commands.h — the subcommands of `ctxenc`, one file each (cmd_x.cpp):
// setup_x(app) registers the subcommand and its flags, which fill an options
// struct (the library's config structs where there is one); its callback,
// run_x(options), hands them to the library. main.cpp calls the setups.
#pragma once
#include <string>

#include <CLI/CLI.hpp>

namespace ctxenc::cli {

void setup_train(CLI::App& app);
void setup_inpaint(CLI::App& app);
void setup_info(CLI::App& app);
void setup_eval(CLI::App& app);
void setup_bench(CLI::App& app);
void setup_masks(CLI::App& app);
void setup_export(CLI::App& app);
void setup_import(CLI::App& app);
// `ctxenc completion bash|zsh|man`: shell completions and the man page's extra
// sections, generated from the registered subcommands and the exit code table.
void setup_completion(CLI::App& app);
// "Exit codes: 0 ok, 1 ...": --help's footer, from ctxenc::kExitCodes.
std::string exit_codes_text();
void setup_serve(CLI::App& app);

}  // namespace ctxenc::cli

// main.cpp — `ctxenc` entry point: subcommand registration, the global flags
// (--version, --quiet), and the one place where library errors become a
// message on stderr and a distinct exit code.
#include <csignal>
#include <iostream>

#include "cli_output.h"
#include "commands.h"
#include "ctxenc/errors.h"
#include "ctxenc/version.h"

int main(int argc, char** argv) {
  CLI::App app{
      "ctxenc: Context Encoders (Pathak et al., CVPR 2016): train, inspect and apply\n"
      "image inpainting models on the CPU."};
  app.footer(ctxenc::cli::exit_codes_text());
  // Past a file-size limit (ulimit -f) a write fails with EFBIG and a clear
  // error, the previous file intact, instead of the process being killed.
  std::signal(SIGXFSZ, SIG_IGN);
  app.require_subcommand(1);
  app.fallthrough();  // global flags (--quiet) also after the subcommand
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  app.set_version_flag("-V,--version", std::string("ctxenc ") + ctxenc::version() + " (git " + ctxenc::git_commit() + ")",
                       "Print the version and git commit, then exit");
  bool quiet = false;
  app.add_flag("-q,--quiet", quiet, "No progress bars or notes on stderr (errors still print)")
      ->each([](const std::string&) { ctxenc::cli::set_quiet(true); });
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "ctxenc: usage error: " + std::string(e.what()) + " (see ctxenc --help)\n";
  });
  ctxenc::cli::setup_train(app);
  ctxenc::cli::setup_inpaint(app);
  ctxenc::cli::setup_info(app);
  ctxenc::cli::setup_eval(app);
  ctxenc::cli::setup_bench(app);
  ctxenc::cli::setup_masks(app);
  ctxenc::cli::setup_export(app);
  ctxenc::cli::setup_import(app);
  ctxenc::cli::setup_serve(app);
  ctxenc::cli::setup_completion(app);  // last: it describes the others
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? ctxenc::kExitOk : ctxenc::kExitUsage;
  } catch (const ctxenc::Error& e) {
    // The library names config fields; where a flag of ours sets the limit it names, say which.
    const char* hint = e.code() == ctxenc::kExitTooLarge ? "; raise the limit with --max-pixels" : "";
    std::cerr << "ctxenc: error: " << e.what() << hint << "\n";
    return e.code();
  } catch (const std::exception& e) {
    std::string msg = e.what();
    if (auto nl = msg.find('\n'); nl != std::string::npos) msg = msg.substr(0, nl);
    std::cerr << "ctxenc: internal error: " << msg << "\n";
    return ctxenc::kExitInternal;
  }
  return ctxenc::kExitOk;
}

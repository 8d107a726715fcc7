// cmd_export.cpp — `ctxenc export CHECKPOINT -o MODEL`: a training checkpoint
// to the generator-only model file that `inpaint` and `eval` load and models/ ships.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "ctxenc/errors.h"
#include "ctxenc/model_info.h"

namespace ctxenc::cli {

void setup_export(CLI::App& app) {
  struct ExportOptions {
    std::vector<std::string> inputs;
    std::string out;
    bool bf16 = false;
    std::string format = "ctxm";  // ctxm | torch
    BatchNormRecalibration recalibration;
  };
  auto opt = std::make_shared<ExportOptions>();
  CLI::App* sub = app.add_subcommand(
      "export",
      "Write a checkpoint's generator (its weight average if the run kept one) as a model file,\n"
      "with the training config and step: ctxenc export runs/x/checkpoint.ctx -o model.ctxm\n"
      "Given several files of one architecture, writes the mean of their weights (a model soup,\n"
      "for runs that share a start, e.g. a model and its fine-tuning): ctxenc export a.ctxm b.ctxm -o avg.ctxm\n"
      "--format torch writes a PyTorch state_dict (torch.load reads it; python/ctxenc_torch.py has the\n"
      "modules): ctxenc export --format torch model.ctxm -o model.pt");
  sub->add_option("inputs", opt->inputs, "Training checkpoint (.ctx) or model file; several: their weights averaged")
      ->required();
  sub->add_option("-o,--out", opt->out, "Model file to write (.ctxm)")->required();
  sub->add_flag("--bf16", opt->bf16, "Store weights as bfloat16 (half the size)");
  sub->add_option("--format", opt->format, "ctxm: a ctxenc model file | torch: a PyTorch state_dict (float32)")
      ->check(CLI::IsMember({"ctxm", "torch"}))
      ->capture_default_str();
  BatchNormRecalibration& r = opt->recalibration;
  sub->add_option("--recalibrate-bn", r.data,
                  "Dataset (its train split) on which to re-measure the BatchNorm statistics of the written\n"
                  "weights: a weight average carries statistics measured on other weights")
      ->check(CLI::ExistingPath);
  sub->add_option("--recalibrate-batches", r.batches, "Forward passes for --recalibrate-bn")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--recalibrate-batch-size", r.batch_size, "Crops per pass for --recalibrate-bn")
      ->check(CLI::Range(2, 4096))
      ->capture_default_str();
  sub->add_option("--recalibrate-frame", r.frame,
                  "Crop framing for --recalibrate-bn: short-side or whole (default: the model's training config)")
      ->check(CLI::IsMember({"short-side", "whole"}));
  sub->add_option("--recalibrate-seed", r.seed, "Seed of the recalibration crops")->capture_default_str();
  sub->add_option("--threads", r.threads, "Intra-op threads for --recalibrate-bn (0 = all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->callback([opt] {
    if (opt->format == "torch") {
      if (opt->inputs.size() != 1) throw UsageError("--format torch takes one model file");
      if (opt->bf16 || !opt->recalibration.data.empty())
        throw UsageError("--format torch writes the weights as they are (no --bf16, no --recalibrate-bn)");
      export_torch_state_dict(opt->inputs.front(), opt->out);
    } else if (opt->inputs.size() == 1) export_model(opt->inputs.front(), opt->out, opt->bf16, opt->recalibration);
    else export_average(opt->inputs, opt->out, opt->bf16, opt->recalibration);
    std::cout << "wrote " << opt->out << " (" << std::filesystem::file_size(opt->out) / 1024 << " KiB)\n";
  });
}

}  // namespace ctxenc::cli

// model_export.cpp — model files made from other model files: a checkpoint's
// generator exported, several averaged ("model soup"), BatchNorm statistics
// re-measured on training crops.
#include <nlohmann/json.hpp>

#include "ctxenc/errors.h"
#include "ctxenc/model_info.h"
#include "model/model_file.h"
#include "train/batchnorm_recalibration.h"

namespace ctxenc {

// With r.data set: re-measures g's BatchNorm statistics on crops framed as
// its training config says (or as r overrides) and records how in `extra`.
namespace {
void maybe_recalibrate(LoadedGenerator& g, const std::string& path, const BatchNormRecalibration& r,
                       nlohmann::json& extra) {
  if (r.data.empty()) return;
  const TrainConfig tc = g.header.contains("train") ? stored_train_config(g.header, path) : TrainConfig{};
  set_threads(r.threads);
  recalibrate_batch_norm(g.generator, tc.data, tc.mask, r);
  extra["batchnorm_recalibrated"] = {{"data", r.data},
                                     {"batches", r.batches},
                                     {"batch_size", r.batch_size},
                                     {"frame", r.frame.empty() ? to_string(tc.data.frame) : r.frame},
                                     {"seed", r.seed}};
}

}  // namespace

void export_model(const std::string& checkpoint, const std::string& out, bool bf16,
                  const BatchNormRecalibration& recalibration) {
  LoadedGenerator g = load_generator(checkpoint);
  nlohmann::json extra;
  if (g.header.contains("train")) extra["train"] = g.header["train"];
  extra["exported_from"] = checkpoint;
  maybe_recalibrate(g, checkpoint, recalibration, extra);
  save_model_file(out, g.generator, g.step, extra, bf16 ? torch::kBFloat16 : torch::kFloat32);
}

void export_average(const std::vector<std::string>& inputs, const std::string& out, bool bf16,
                    const BatchNormRecalibration& recalibration) {
  if (inputs.size() < 2) throw UsageError("averaging needs at least two model files");
  LoadedGenerator sum = load_generator(inputs.front());
  const nlohmann::json arch = sum.config;
  torch::NoGradGuard no_grad;
  auto params = sum.generator->parameters();
  auto buffers = sum.generator->buffers();
  LoadedGenerator last;
  for (size_t k = 1; k < inputs.size(); ++k) {
    last = load_generator(inputs[k]);
    if (nlohmann::json(last.config) != arch)
      throw ModelFileError("cannot average '" + inputs[k] + "' with '" + inputs.front() +
                           "': the architectures differ");
    auto p = last.generator->parameters();
    auto b = last.generator->buffers();
    for (size_t i = 0; i < params.size(); ++i) params[i].add_(p[i].to(params[i].dtype()));
    for (size_t i = 0; i < buffers.size(); ++i)
      if (buffers[i].is_floating_point()) buffers[i].add_(b[i].to(buffers[i].dtype()));
  }
  const double n = static_cast<double>(inputs.size());
  for (auto& p : params) p.div_(n);
  for (auto& b : buffers)
    if (b.is_floating_point()) b.div_(n);
  nlohmann::json extra;
  if (last.header.contains("train")) extra["train"] = last.header["train"];
  extra["averaged_from"] = inputs;
  sum.header = last.header;  // the recalibration frames crops as the last input was trained
  maybe_recalibrate(sum, inputs.back(), recalibration, extra);
  save_model_file(out, sum.generator, last.step, extra, bf16 ? torch::kBFloat16 : torch::kFloat32);
}


}  // namespace ctxenc

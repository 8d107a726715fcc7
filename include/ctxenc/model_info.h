// ctxenc/model_info.h — torch-free access to model files and checkpoints: a
// summary, the export of a checkpoint to a model file, and the average of
// several ("model soup"), optionally with re-measured BatchNorm statistics.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ctxenc {

// Optional last step of an export: re-measure the BatchNorm statistics of the
// written weights on training crops: a weight average carries statistics that
// were measured on other weights.
struct BatchNormRecalibration {
  std::string data;          // dataset whose train split is sampled; "" = no recalibration
  int64_t batches = 100;     // forward passes
  int batch_size = 64;       // crops per pass
  std::string frame;         // "short-side" or "whole"; "" = as in the model's training config
  uint64_t seed = 0;         // crops and masks derive from it
  int threads = 0;           // intra-op threads (0 = hardware concurrency)
};

// {file, kind, step, model, generator_parameters, [discriminator_parameters],
//  [dtype], [train]}. Loads and checks the whole file; throws ModelFileError.
nlohmann::json describe_model_file(const std::string& path);

// Checkpoint -> generator-only model file (its weight average if it has one),
// stored as float32 or, with bf16, bfloat16 (half the size).
void export_model(const std::string& checkpoint, const std::string& out, bool bf16,
                  const BatchNormRecalibration& recalibration = {});
// Several model files or checkpoints of one architecture -> one model file
// whose weights (and BatchNorm statistics) are their mean: a "model soup" of
// runs that share a starting point, such as a model and its fine-tuning.
// Header: the last input's step and train config, and "averaged_from".
void export_average(const std::vector<std::string>& inputs, const std::string& out, bool bf16,
                    const BatchNormRecalibration& recalibration = {});

// PyTorch: a model file's generator as a state_dict in torch.save's format
// (torch.load reads it), float32, named as python/ctxenc_torch.py's Generator
// for the model's config (`ctxenc info --json`'s "model").
void export_torch_state_dict(const std::string& model, const std::string& out);

struct TorchImportOptions {
  // "netG": the public PyTorch Context Encoder generator (_netG of
  //   context_encoder_pytorch: main_encode / main_decode), its config read from
  //   the shapes (dense bottleneck, transposed up-convolutions, center output);
  // "ctxenc": a state_dict with export_torch_state_dict's names (e.g. fine-tuned
  //   in PyTorch), architecture as config_from's.
  std::string layout = "netG";
  std::string config_from;  // layout ctxenc: the model file whose config the weights have, or
  std::string config_json;  // layout ctxenc: the model config as JSON (`ctxenc info --json`'s "model")
};
// A torch.save'd state_dict (or a dict holding one under "state_dict") -> a
// model file. Read through a restricted reader: tensors and plain containers
// only, never code (io/pickle.h); every shape checked. Throws ModelFileError.
void import_torch_state_dict(const std::string& pt, const std::string& out, const TorchImportOptions& opt = {});

}  // namespace ctxenc

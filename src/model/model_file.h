// model/model_file.h — internal: what the sections of a checkpoint or model
// file hold (see io/container.h for the container): modules and optimizers as
// checked bytes, and generator model files written and loaded.
// A file can be rebuilt into a model from itself alone. Loading checks every
// tensor's name and shape against the stored config, because torch::load alone
// silently accepts wrong shapes.
#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "ctxenc/config.h"
#include "model/networks.h"

namespace ctxenc {

// "[64, 3, 4, 4]": a tensor shape for error messages.
std::string shape_str(at::IntArrayRef s);

// Module parameters and buffers <-> bytes. `store` is the dtype of floating
// tensors on disk (kFloat32, or kBFloat16 for half-size model files).
std::string module_to_bytes(const torch::nn::Module& m, torch::Dtype store = torch::kFloat32);
// Fills m in place; throws ModelFileError naming the first missing,
// unexpected or wrongly shaped tensor. Parameters take over the loaded
// storage (converted to their dtype); their memory format may change.
void module_from_bytes(torch::nn::Module& m, std::string_view bytes, const std::string& what);

std::string optimizer_to_bytes(torch::optim::Optimizer& opt);
void optimizer_from_bytes(torch::optim::Optimizer& opt, std::string_view bytes, const std::string& what);

// The configs a file's header stores, checked: ModelFileError (exit code 4)
// for a missing or unreadable config, an unknown field or enum name, or (the
// model) an impossible architecture. `path` names the file in the message.
ModelConfig stored_model_config(const nlohmann::json& header, const std::string& path);
TrainConfig stored_train_config(const nlohmann::json& header, const std::string& path);
// Throws ModelFileError when cfg declares a generator with more weights than
// generator_bytes can hold (an allocation bomb), before anything is built.
void require_weights_fit(const ModelConfig& cfg, std::string_view generator_bytes, const std::string& path);

// A generator rebuilt from a checkpoint or model file, in eval mode (from a
// checkpoint: its weight average when it has one).
struct LoadedGenerator {
  ModelConfig config;
  Generator generator{nullptr};
  int64_t step = 0;
  nlohmann::json header;  // the file's full header (train config, kind, ...)
};
LoadedGenerator load_generator(const std::string& path);

// Writes a generator-only model file (what models/ ships and inpaint loads).
void save_model_file(const std::string& path, const Generator& g, int64_t step,
                     const nlohmann::json& extra_header, torch::Dtype store = torch::kFloat32);

}  // namespace ctxenc

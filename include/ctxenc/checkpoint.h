// ctxenc/checkpoint.h — the on-disk format of checkpoints and model files.
//
// Layout (little-endian):
//   8 bytes   magic "CTXENC\0\x1a"
//   u32       format version (kFormatVersion)
//   u64       header length, then the header: JSON with "kind" ("checkpoint" or
//             "model"), "model" (ModelConfig), "step", optional "train"
//             (TrainConfig) and "sections": [{name, size, crc32}]
//   sections  raw bytes in header order (each a torch archive or a blob)
// A file can be rebuilt into a model from itself alone. Loading checks magic,
// version, sizes and CRCs, and every tensor's name and shape against the
// config, because torch::load alone silently accepts wrong shapes.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "ctxenc/config.h"
#include "ctxenc/model.h"

namespace ctxenc {

constexpr uint32_t kFormatVersion = 1;

// What write_container writes.
struct ContainerFile {
  nlohmann::json header;                        // must not contain "sections"; filled on write
  std::map<std::string, std::string> sections;  // name -> bytes
};
// What read_container returns: sections are views into the one file buffer,
// so a 284 MB model is held once while it loads, not three times.
struct ContainerView {
  nlohmann::json header;
  std::shared_ptr<const std::string> data;           // the whole file
  std::map<std::string, std::string_view> sections;  // name -> bytes inside data
};

// Atomic write (temp file + rename). Throws OutputError.
void write_container(const std::string& path, const ContainerFile& file);
// Throws ModelFileError with one clear line for missing, foreign, truncated,
// corrupt or newer-version files.
ContainerView read_container(const std::string& path);

// Module parameters and buffers <-> bytes. `store` is the dtype of floating
// tensors on disk (kFloat32, or kBFloat16 for half-size model files).
std::string module_to_bytes(const torch::nn::Module& m, torch::Dtype store = torch::kFloat32);
// Fills m in place; throws ModelFileError naming the first missing,
// unexpected or wrongly shaped tensor. Parameters take over the loaded
// storage (converted to their dtype); their memory format may change.
void module_from_bytes(torch::nn::Module& m, std::string_view bytes, const std::string& what);

std::string optimizer_to_bytes(torch::optim::Optimizer& opt);
void optimizer_from_bytes(torch::optim::Optimizer& opt, std::string_view bytes, const std::string& what);

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

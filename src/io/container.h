// io/container.h — internal: the on-disk container of checkpoints and model files.
//
// Layout (little-endian):
//   8 bytes   magic "CTXENC\0\x1a"
//   u32       format version (kFormatVersion)
//   u64       header length, then the header: JSON with "kind" ("checkpoint" or
//             "model"), "model" (ModelConfig), "step", optional "train"
//             (TrainConfig) and "sections": [{name, size, crc32}]
//   sections  raw bytes in header order (each a torch archive or a blob)
// The container knows nothing of models: model/model_file.h gives the sections
// their meaning and checks every tensor against the stored config.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

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

}  // namespace ctxenc

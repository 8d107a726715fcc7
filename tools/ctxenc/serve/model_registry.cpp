// serve/model_registry.cpp — the models folder scanned once, each model file
// loaded once per precision and shared (see model_registry.h).
#include "serve/model_registry.h"

#include <algorithm>
#include <filesystem>

#include "ctxenc/errors.h"
#include "serve/request.h"

namespace ctxenc::serve {
namespace fs = std::filesystem;

ModelRegistry::ModelRegistry(const std::string& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) throw InputError("--models '" + folder + "' is not a directory");
  std::vector<fs::path> files;
  for (auto it = fs::directory_iterator(folder, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec) && it->path().extension() == ".ctxm") files.push_back(it->path());
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    const std::string name = f.stem().string();
    if (!is_safe_model_name(name)) continue;  // not addressable by a request
    InpaintOptions opt;
    auto inp = std::make_shared<const Inpainter>(f.string(), opt);
    ModelEntry e;
    e.name = name;
    e.path = f.string();
    e.kind = inp->model_config().output == OutputRegion::Center ? "center" : "region";
    e.input_size = inp->model_config().image_size;
    e.step = inp->model_header().value("step", int64_t{0});
    entries_.push_back(e);
    loaded_[{name, Precision::FP32}] = std::move(inp);
  }
}

nlohmann::json ModelRegistry::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const ModelEntry& e : entries_)
    list.push_back({{"name", e.name}, {"kind", e.kind}, {"input_size", e.input_size}, {"step", e.step},
                    {"file", fs::path(e.path).filename().string()}});
  return {{"models", list}};
}

const ModelEntry* ModelRegistry::find(const std::string& name) const {
  for (const ModelEntry& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

std::shared_ptr<const Inpainter> ModelRegistry::get(const std::string& name, Precision precision) {
  const ModelEntry* e = find(name);
  if (!e) {
    std::string known;
    for (const ModelEntry& m : entries_) known += (known.empty() ? "" : ", ") + m.name;
    throw ModelFileError("unknown model '" + name + "' (models: " + (known.empty() ? "none" : known) + ")");
  }
  // One lock around the load: a second request for the same model waits for
  // the first load instead of loading it again.
  std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = loaded_[{name, precision}];
  if (!slot) {
    InpaintOptions opt;
    opt.precision = precision;
    slot = std::make_shared<const Inpainter>(e->path, opt);
  }
  return slot;
}

}  // namespace ctxenc::serve

// serve/model_registry.h — the model files a server offers: every *.ctxm in
// its models folder, each loaded once (per precision) and shared by all
// requests and workers. Names are file stems; a name never becomes a path
// unless it is one of the files found at start.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ctxenc/config.h"
#include "ctxenc/inpaint.h"

namespace ctxenc::serve {

struct ModelEntry {
  std::string name;        // file stem: "center" for models/center.ctxm
  std::string path;        // the file
  std::string kind;        // "center" (fills its own central square) or "region" (any mask)
  int input_size = 0;      // the model's square input side S
  int64_t step = 0;        // training step it was saved at
};

class ModelRegistry {
 public:
  // Scans `folder` for *.ctxm files and loads each (fp32), so a broken file is
  // reported at start. Throws ModelFileError for a bad file, InputError for a
  // missing folder. An empty folder is allowed (every inpaint is then refused).
  explicit ModelRegistry(const std::string& folder);

  const std::vector<ModelEntry>& models() const { return entries_; }
  nlohmann::json to_json() const;  // GET /api/v1/models
  const ModelEntry* find(const std::string& name) const;  // nullptr when unknown

  // The shared Inpainter of a model at a precision, loaded on first use (once,
  // even when several requests ask at the same time). Throws ModelFileError
  // for an unknown name.
  std::shared_ptr<const Inpainter> get(const std::string& name, Precision precision);

 private:
  std::vector<ModelEntry> entries_;
  std::mutex mutex_;
  std::map<std::pair<std::string, Precision>, std::shared_ptr<const Inpainter>> loaded_;
};

}  // namespace ctxenc::serve

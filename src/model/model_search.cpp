// model/model_search.cpp — bare model names ("center") to model files: the
// search path of $CTXENC_MODEL_PATH, the library's own share/ folder and the
// install prefix's (see ctxenc/version.h).
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>

#include "ctxenc/errors.h"
#include "ctxenc/version.h"

namespace ctxenc {
namespace fs = std::filesystem;
namespace {

// The folder of the file (libctxenc.so, or the executable it is linked into) holding this code.
fs::path own_binary_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&model_search_dirs), &info) == 0 || info.dli_fname == nullptr) return {};
  std::error_code ec;
  fs::path p = fs::canonical(info.dli_fname, ec);
  return ec ? fs::path{} : p.parent_path();
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

}  // namespace

std::vector<std::string> model_search_dirs() {
  std::vector<std::string> dirs;
  auto add = [&](const fs::path& d) {
    if (d.empty()) return;
    const std::string s = d.lexically_normal().string();
    for (const auto& x : dirs)
      if (x == s) return;
    dirs.push_back(s);
  };
  if (const char* env = std::getenv("CTXENC_MODEL_PATH")) {
    std::string list = env;
    size_t start = 0;
    while (start <= list.size()) {
      const size_t end = std::min(list.find(':', start), list.size());
      if (end > start) add(fs::path(list.substr(start, end - start)));
      start = end + 1;
    }
  }
  // lib/ or lib/<multiarch>/ beside share/: try both parents.
  if (const fs::path bin = own_binary_dir(); !bin.empty()) {
    for (const fs::path& up : {bin.parent_path(), bin.parent_path().parent_path()}) {
      const fs::path d = up / "share" / "ctxenc" / "models";
      std::error_code ec;
      if (fs::is_directory(d, ec)) add(d);
    }
  }
  add(fs::path(CTXENC_INSTALL_MODEL_DIR));
  return dirs;
}

std::string resolve_model_path(const std::string& name) {
  if (name.empty() || is_file(name) || name.find('/') != std::string::npos) return name;
  const std::vector<std::string> dirs = model_search_dirs();
  for (const auto& d : dirs) {
    for (const std::string& candidate : {name, name + ".ctxm"}) {
      const fs::path p = fs::path(d) / candidate;
      if (is_file(p)) return p.string();
    }
  }
  std::string searched;
  for (const auto& d : dirs) searched += (searched.empty() ? "" : ", ") + d;
  throw ModelFileError("no model file '" + name + "' here or in the model folders (" + searched +
                       "; set CTXENC_MODEL_PATH to add one)");
}

}  // namespace ctxenc

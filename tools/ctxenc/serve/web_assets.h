// serve/web_assets.h — the web page's files (serve/web/), embedded in the
// binary at build time (cmake/embed_files.cmake writes web_assets.cpp), so the
// page works offline from the one executable.
#pragma once
#include <cstddef>
#include <string>

namespace ctxenc::serve {

struct WebAsset {
  const char* name;          // "index.html", "app.js", ...
  const char* content_type;  // from the extension
  const unsigned char* data;
  size_t size;
};

// The asset of this exact name, or nullptr.
const WebAsset* find_web_asset(const std::string& name);

}  // namespace ctxenc::serve

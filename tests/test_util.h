// test_util.h — shared helpers for tests: temp dirs, tiny model configs, paths.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>

#include "ctxenc/config.h"

namespace ctxenc::test {

// A fresh temporary directory, removed when the object goes away.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/ctxenc-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline std::string source_path(const std::string& rel) { return std::string(CTXENC_SOURCE_DIR) + "/" + rel; }
inline std::string photos_dir() { return source_path("tests/data/photos"); }

// A model small enough to train in seconds.
inline ModelConfig tiny_model(int size = 32, Bottleneck b = Bottleneck::Channelwise,
                              OutputRegion o = OutputRegion::Center) {
  ModelConfig c;
  c.image_size = size;
  c.bottleneck = b;
  c.output = o;
  c.nbottleneck = 32;
  c.nef = c.ngf = c.ndf = 8;
  c.overlap = 2;
  return c;
}

}  // namespace ctxenc::test

// test_util.h — shared helpers for tests: temp dirs, tiny models, paths, and
// running the `ctxenc` binary.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "ctxenc/checkpoint.h"
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

// A freshly initialised tiny model written as a model file in d.
inline std::string write_tiny_model(const TempDir& d, OutputRegion o = OutputRegion::Full) {
  Generator g(tiny_model(32, Bottleneck::Channelwise, o));
  init_weights(*g);
  const std::string path = d / (std::string("tiny_") + to_string(o) + ".ctxm");
  save_model_file(path, g, 0, {});
  return path;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
inline int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// Runs the built `ctxenc` with args; returns its exit code, stdout and stderr.
struct CliRun {
  int code;
  std::string out, err;
};
inline CliRun run_cli(const std::string& args) {
  TempDir d;
  const std::string cmd = std::string(CTXENC_CLI_PATH) + " " + args + " >" + (d / "out") + " 2>" + (d / "err");
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(d / "out"), slurp(d / "err")};
}

}  // namespace ctxenc::test

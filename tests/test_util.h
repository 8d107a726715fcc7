// test_util.h — shared helpers for tests: temp dirs, tiny models and training
// configs, seeded batches, the test photos, and running the `ctxenc` binary.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "ctxenc/config.h"
#include "ctxenc/image_io.h"
#include "io/dataset.h"
#include "model/model_file.h"

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

// Model sizes for shape tests: tiny_model with nbottleneck 64 and the default overlap.
inline ModelConfig small_model(int size, Bottleneck b, OutputRegion o) {
  ModelConfig c = tiny_model(size, b, o);
  c.nbottleneck = 64;
  c.overlap = ModelConfig{}.overlap;
  return c;
}
inline std::vector<int64_t> sz(const torch::Tensor& t) { return t.sizes().vec(); }

// A tiny center model's training config, batch 4.
inline TrainConfig tiny_train(Bottleneck b = Bottleneck::Channelwise) {
  TrainConfig t;
  t.model = tiny_model(32, b);
  t.batch_size = 4;
  return t;
}
// Four random 32x32 images in [-1, 1] and random holes, from a seed.
inline std::pair<torch::Tensor, torch::Tensor> seeded_batch(uint64_t seed) {
  torch::manual_seed(seed);
  return {torch::rand({4, 3, 32, 32}) * 2 - 1, (torch::rand({4, 1, 32, 32}) > 0.7).to(torch::kFloat32)};
}
// Every parameter and buffer of a equals b's, bit for bit.
inline void expect_same_weights(torch::nn::Module& a, torch::nn::Module& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  auto ba = a.named_buffers(), bb = b.named_buffers();
  for (const auto& p : ba) EXPECT_TRUE(torch::equal(p.value(), bb[p.key()])) << p.key();
}

// The test photos' files, and one of them resized to w x h.
inline std::vector<std::string> photos() { return list_dataset(photos_dir()).files; }
inline cv::Mat photo(int w, int h) {
  cv::Mat m = load_image_rgb(photos_dir() + "/photo5.jpg"), out;
  cv::resize(m, out, cv::Size(w, h), 0, 0, cv::INTER_CUBIC);
  return out;
}
inline MaskConfig free_form() {
  MaskConfig m;
  m.kind = MaskKind::FreeForm;
  return m;
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
// cwd: the folder it runs in ("" = the test's own); shell: commands run before
// it in the same shell (e.g. "ulimit -f 100").
inline CliRun run_cli(const std::string& args, const std::string& cwd = "", const std::string& shell = "") {
  TempDir d;
  const std::string cmd = (cwd.empty() ? "" : "cd '" + cwd + "' && ") + (shell.empty() ? "" : shell + " && ") +
                          std::string(CTXENC_CLI_PATH) + " " + args + " >" + (d / "out") + " 2>" + (d / "err");
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(d / "out"), slurp(d / "err")};
}

}  // namespace ctxenc::test

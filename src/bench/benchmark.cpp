// benchmark.cpp — timing of training steps, inference and machine peaks.
#include "ctxenc/benchmark.h"

#include <algorithm>
#include <chrono>

#include "io/dataset.h"
#include "model/hole_mapping.h"
#include "model/inference.h"
#include "model/networks.h"
#include "train/loader.h"
#include "train/trainer.h"

namespace ctxenc {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median seconds of `iters` calls of fn after `warmup` untimed calls.
template <typename F>
double time_median(F&& fn, int warmup, int iters) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> t;
  for (int i = 0; i < std::max(1, iters); ++i) {
    const double a = now_s();
    fn();
    t.push_back(now_s() - a);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

double conv_gflop(int64_t out_pixels, int64_t cin, int64_t cout, int64_t k) {
  return 2.0 * static_cast<double>(out_pixels) * cin * cout * k * k * 1e-9;
}

}  // namespace

double generator_gflop(const ModelConfig& m) {
  double g = 0;
  int side = m.image_size, in = m.channels + (m.mask_channel ? 1 : 0);
  for (int out : encoder_channels(m)) {
    side /= 2;
    g += conv_gflop(int64_t{side} * side, in, out, 4);
    in = out;
  }
  const int bo = m.ngf * 8;
  if (m.bottleneck == Bottleneck::Dense) g += 2 * conv_gflop(1, in, m.nbottleneck, 4);  // conv + up-conv
  else g += 2.0 * in * 16 * 16 * 1e-9 + conv_gflop(16, in, bo, 1);  // FC m*n^4 + 1x1 conv
  in = bo;
  for (int out : decoder_channels(m)) {
    if (m.upsampling == Upsampling::Transposed)
      g += conv_gflop(int64_t{side} * side, in, out, 4);  // transposed: input pixels x k^2
    else
      g += conv_gflop(int64_t{4} * side * side, in, out, 3);  // 3x3 at the doubled resolution
    side *= 2;
    in = out;
  }
  return g;
}

double discriminator_gflop(const ModelConfig& m) {
  double g = 0;
  int in = m.channels, i = 0;
  for (int side = m.discriminator_input(); side > 4; side /= 2, ++i) {
    const int out = m.ndf << std::min(i, 3);
    g += conv_gflop(int64_t{side / 2} * (side / 2), in, out, 4);
    in = out;
  }
  return g + conv_gflop(1, in, 1, 4);
}

double train_gflop(const ModelConfig& m) {
  return 3 * generator_gflop(m) + 9 * discriminator_gflop(m);
}

BenchResult run_bench_case(const BenchCase& c) {
  set_threads(c.threads);
  const ModelConfig& mc = c.model;
  const int S = mc.image_size;
  torch::manual_seed(0);
  auto images = (torch::rand({c.batch, mc.channels, S, S}) * 2 - 1).contiguous(torch::MemoryFormat::ChannelsLast);
  // The holes of a center-mask training sample: the center model's own square,
  // or a full-output model's central quarter.
  const HoleMapping mapping(mc);
  const cv::Mat hole = mapping.sample_hole(MaskConfig{}, /*seed=*/0);  // [S, S] 0 / 255
  auto holes = torch::from_blob(hole.data, {1, 1, S, S}, torch::kUInt8).gt(0).to(torch::kFloat32)
                   .expand({c.batch, 1, S, S}).contiguous();
  BenchResult r;
  if (c.train) {
    TrainConfig tc;
    tc.model = mc;
    tc.batch_size = c.batch;
    tc.precision = c.precision;
    Trainer trainer(tc);
    r.seconds_per_iter = time_median([&] { trainer.train_step(images, holes); }, c.warmup, c.iters);
    r.gflop_per_image = train_gflop(mc);
  } else {
    Generator g(mc);
    init_weights(*g);
    g->eval();
    InferenceGenerator net(*g, c.precision);
    auto x = mapping.input(images, holes);
    r.seconds_per_iter = time_median([&] { net.forward(x); }, c.warmup, c.iters);
    r.gflop_per_image = generator_gflop(mc);
  }
  r.images_per_s = c.batch / r.seconds_per_iter;
  r.gflops = r.gflop_per_image * r.images_per_s;
  return r;
}

LoaderBenchResult bench_loader(const DataConfig& data, const MaskConfig& mask, int image_size, int batch) {
  const auto files = list_dataset(data.path, Split::Train).files;
  LoaderBenchResult r;
  r.images = static_cast<int64_t>(files.size());
  ModelConfig model;  // batches as a full-output model of this size trains on
  model.image_size = image_size;
  model.output = OutputRegion::Full;
  TrainLoader loader(files, data, mask, HoleMapping(model), batch, /*seed=*/0, /*first_step=*/0);
  const int64_t cold_batches = (r.images + batch - 1) / batch;
  double t0 = now_s();
  for (int64_t i = 0; i < cold_batches; ++i) loader.next();
  r.cold_images_per_s = static_cast<double>(cold_batches * batch) / (now_s() - t0);
  const int64_t warm_batches = std::max<int64_t>(cold_batches, 8);
  t0 = now_s();
  for (int64_t i = 0; i < warm_batches; ++i) loader.next();
  r.warm_images_per_s = static_cast<double>(warm_batches * batch) / (now_s() - t0);
  r.skipped_files = loader.skipped_files();
  return r;
}

double measure_gemm_gflops(Precision p, int n) {
  const auto dt = p == Precision::BF16 ? torch::kBFloat16 : torch::kFloat32;
  auto a = torch::randn({n, n}).to(dt), b = torch::randn({n, n}).to(dt);
  c10::InferenceMode guard;
  const double s = time_median([&] { torch::mm(a, b); }, 1, 5);
  return 2.0 * n * n * n / s * 1e-9;
}

double measure_conv_gflops(Precision p) {
  const auto dt = p == Precision::BF16 ? torch::kBFloat16 : torch::kFloat32;
  c10::InferenceMode guard;
  // The best of two shapes: the 64->64 4x4/2 layer at 64x64 and a wide 3x3 conv
  // (256->256 at 32x32, like our sub-pixel decoder), batch 64, channels_last.
  auto x1 = torch::randn({64, 64, 64, 64}).to(dt).contiguous(torch::MemoryFormat::ChannelsLast);
  auto w1 = torch::randn({64, 64, 4, 4}).to(dt).contiguous(torch::MemoryFormat::ChannelsLast);
  const double s1 = time_median([&] { torch::conv2d(x1, w1, {}, 2, 1); }, 2, 7);
  auto x2 = torch::randn({64, 256, 32, 32}).to(dt).contiguous(torch::MemoryFormat::ChannelsLast);
  auto w2 = torch::randn({256, 256, 3, 3}).to(dt).contiguous(torch::MemoryFormat::ChannelsLast);
  const double s2 = time_median([&] { torch::conv2d(x2, w2, {}, 1, 1); }, 2, 5);
  return std::max(64 * conv_gflop(32 * 32, 64, 64, 4) / s1, 64 * conv_gflop(32 * 32, 256, 256, 3) / s2);
}

double measure_read_gbps() {
  c10::InferenceMode guard;
  auto x = torch::ones({int64_t{128} << 20});  // 512 MB of float32
  const double s = time_median([&] { x.sum(); }, 1, 5);
  return static_cast<double>(x.numel() * x.element_size()) / s * 1e-9;
}

}  // namespace ctxenc

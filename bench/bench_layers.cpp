// bench_layers.cpp — Google Benchmark microbenchmarks for every layer kind of
// the context encoder, each beside the baseline it replaces, measured in the
// same run. At the end a table prints each optimisation as a speed ratio.
//   build/ctxenc_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <map>

#include "ctxenc/config.h"
#include "model/inference.h"
#include "model/networks.h"
#include "core/runtime.h"

using namespace ctxenc;

namespace {

constexpr int kBatch = 64;
const auto CL = torch::MemoryFormat::ChannelsLast;

double conv_flop(int64_t out_px, int64_t cin, int64_t cout, int64_t k) { return 2.0 * out_px * cin * cout * k * k; }

void report(benchmark::State& st, double flop_per_iter) {
  st.counters["GFLOP/s"] = benchmark::Counter(flop_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// Encoder conv 64->64, 4x4, stride 2, 64x64 input, forward + backward.
void conv_down(benchmark::State& st, bool channels_last, bool bf16) {
  DownBlock b(64, 64, true);
  auto x = torch::randn({kBatch, 64, 64, 64});
  if (channels_last) {
    to_channels_last(*b);
    x = x.contiguous(CL);
  }
  PrecisionGuard g(bf16 ? Precision::BF16 : Precision::FP32);
  for (auto _ : st) b(x).sum().backward();
  report(st, 3 * kBatch * conv_flop(32 * 32, 64, 64, 4));
}
BENCHMARK_CAPTURE(conv_down, nchw_fp32, false, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(conv_down, channels_last_fp32, true, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(conv_down, channels_last_bf16, true, true)->Unit(benchmark::kMillisecond);

// Decoder up-conv 256->128 at 8x8: torch's transposed conv vs our sub-pixel conv, fwd + bwd.
void conv_up(benchmark::State& st, bool subpixel, bool bf16) {
  auto x = torch::randn({kBatch, 256, 8, 8}).contiguous(CL).requires_grad_(true);
  auto w = (torch::randn({256, 128, 4, 4}) * 0.02).requires_grad_(true);
  PrecisionGuard g(bf16 ? Precision::BF16 : Precision::FP32);
  for (auto _ : st) {
    auto y = subpixel ? subpixel_conv_transpose(x, w) : torch::conv_transpose2d(x, w, {}, 2, 1);
    y.sum().backward();
  }
  report(st, 3 * kBatch * conv_flop(8 * 8, 256, 128, 4));
}
BENCHMARK_CAPTURE(conv_up, conv_transpose2d_fp32, false, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(conv_up, subpixel_fp32, true, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(conv_up, conv_transpose2d_bf16, false, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(conv_up, subpixel_bf16, true, true)->Unit(benchmark::kMillisecond);

// Dense 512x4x4 -> 4000 bottleneck conv: as a 4x4 convolution vs as one GEMM (forward).
void dense_encode(benchmark::State& st, bool gemm) {
  auto x = torch::randn({kBatch, 512, 4, 4});
  auto w = torch::randn({4000, 512, 4, 4}) * 0.02;
  auto wm = w.view({4000, -1}).t().contiguous();
  c10::InferenceMode im;
  for (auto _ : st) benchmark::DoNotOptimize(gemm ? torch::mm(x.view({kBatch, -1}), wm) : torch::conv2d(x, w));
  report(st, kBatch * conv_flop(1, 512, 4000, 4));
}
BENCHMARK_CAPTURE(dense_encode, conv4x4, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(dense_encode, gemm, true)->Unit(benchmark::kMillisecond);

// Channel-wise FC (512 channels of 4x4), forward + backward.
void channelwise_fc(benchmark::State& st) {
  ChannelwiseFC fc(512, 4);
  auto x = torch::randn({kBatch, 512, 4, 4}).requires_grad_(true);
  for (auto _ : st) fc(x).sum().backward();
  report(st, 3 * kBatch * 2.0 * 512 * 256);
}
BENCHMARK(channelwise_fc)->Unit(benchmark::kMillisecond);

// Whole generator inference, batch 1: module in eval mode vs BN-folded InferenceGenerator.
void generator_infer(benchmark::State& st, Bottleneck b, int mode) {
  ModelConfig c;
  c.bottleneck = b;
  Generator g(c);
  init_weights(*g);
  g->eval();
  auto x = torch::rand({1, 3, 128, 128}) * 2 - 1;
  if (mode == 0) {
    torch::NoGradGuard ng;
    for (auto _ : st) benchmark::DoNotOptimize(g(x));
  } else {
    InferenceGenerator net(*g, mode == 2 ? Precision::BF16 : Precision::FP32);
    for (auto _ : st) benchmark::DoNotOptimize(net.forward(x));
  }
}
BENCHMARK_CAPTURE(generator_infer, dense_module_fp32, Bottleneck::Dense, 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(generator_infer, dense_folded_fp32, Bottleneck::Dense, 1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(generator_infer, dense_folded_bf16, Bottleneck::Dense, 2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(generator_infer, channelwise_module_fp32, Bottleneck::Channelwise, 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(generator_infer, channelwise_folded_fp32, Bottleneck::Channelwise, 1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(generator_infer, channelwise_folded_bf16, Bottleneck::Channelwise, 2)->Unit(benchmark::kMillisecond);

// Console output plus, at the end, each optimisation as baseline_time / our_time.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) times_[r.benchmark_name()] = r.GetAdjustedRealTime();
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    const std::pair<const char*, const char*> pairs[] = {
        {"conv_down/nchw_fp32", "conv_down/channels_last_fp32"},
        {"conv_down/channels_last_fp32", "conv_down/channels_last_bf16"},
        {"conv_up/conv_transpose2d_fp32", "conv_up/subpixel_fp32"},
        {"conv_up/conv_transpose2d_bf16", "conv_up/subpixel_bf16"},
        {"dense_encode/conv4x4", "dense_encode/gemm"},
        {"generator_infer/dense_module_fp32", "generator_infer/dense_folded_fp32"},
        {"generator_infer/dense_folded_fp32", "generator_infer/dense_folded_bf16"},
        {"generator_infer/channelwise_module_fp32", "generator_infer/channelwise_folded_fp32"},
        {"generator_infer/channelwise_folded_fp32", "generator_infer/channelwise_folded_bf16"},
    };
    std::printf("\nspeed-up of each lever (baseline time / our time, same run):\n");
    for (const auto& [base, ours] : pairs) {
      auto b = times_.find(std::string(base) + "/real_time"), o = times_.find(std::string(ours) + "/real_time");
      if (b == times_.end()) b = times_.find(base);
      if (o == times_.end()) o = times_.find(ours);
      if (b != times_.end() && o != times_.end())
        std::printf("  %-42s -> %-42s %6.2fx\n", base, ours, b->second / o->second);
    }
  }

 private:
  std::map<std::string, double> times_;
};

}  // namespace

int main(int argc, char** argv) {
  set_threads(0);
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
}

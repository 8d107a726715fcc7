// ctxenc/benchmark.h — throughput measurement of our training step and
// inference, nominal FLOP counts of the model, and the machine's measured
// GEMM/conv peaks, so `ctxenc bench` can report images/s and % of peak.
#pragma once
#include <string>

#include "ctxenc/config.h"

namespace ctxenc {

struct BenchCase {
  bool train = true;            // true: one G+D training step; false: generator inference
  ModelConfig model;            // architecture (default: the released 128x128 dense center model)
  int batch = 64;               // images per step / forward
  Precision precision = Precision::FP32;
  int iters = 5;                // timed iterations (after warm-up)
  int warmup = 2;               // untimed iterations
  int threads = 0;              // 0 = hardware concurrency
};

struct BenchResult {
  double seconds_per_iter = 0;  // median over timed iterations
  double images_per_s = 0;
  double gflop_per_image = 0;   // nominal model arithmetic (see model_gflop)
  double gflops = 0;            // achieved nominal GFLOP/s
};

BenchResult run_bench_case(const BenchCase& c);

// Nominal GFLOP per image: generator forward, with transposed convs counted at
// their own (input-side) cost, 2 FLOP per multiply-add.
double generator_gflop(const ModelConfig& m);
double discriminator_gflop(const ModelConfig& m);
// One training iteration per image: G forward+backward (3x forward), D on real
// and fake in its step and on fake again in G's step (each 3x forward).
double train_gflop(const ModelConfig& m);

// Loader throughput: images/s of finished [B, 3, S, S] batches (decode, crop,
// resize, flip, mask, convert) with nothing consuming time in between.
struct LoaderBenchResult {
  double cold_images_per_s = 0;  // first pass: every file decoded from disk
  double warm_images_per_s = 0;  // later passes: decoded images come from the cache
  int64_t images = 0;            // dataset size
  int64_t skipped_files = 0;
};
LoaderBenchResult bench_loader(const DataConfig& data, const MaskConfig& mask, int image_size, int batch);

// Measured peaks on this machine (median of a few runs).
double measure_gemm_gflops(Precision p, int n = 2048);
// Best of a 64->64 4x4/2 conv at 64x64 and a 256->256 3x3 conv at 32x32, batch 64, channels_last.
double measure_conv_gflops(Precision p);
// Memory read bandwidth in GB/s: a reduction over a 512 MB tensor, far larger
// than the caches, the way a batch-1 dense layer streams its weights.
double measure_read_gbps();

}  // namespace ctxenc

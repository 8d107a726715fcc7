// train/loader.h — internal: training batches from a list of image files:
// random crops (scale, aspect and flip augmentation) and the holes a model
// trains on, decoded by a pool of threads ahead of the consumer, in bounded
// memory.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "ctxenc/config.h"
#include "model/hole_mapping.h"

namespace ctxenc {

// One training batch; a pure function of (files, configs, seed, step).
struct Batch {
  int64_t step = 0;
  torch::Tensor images;     // [B, C, S, S] float32 in [-1, 1], channels_last
  torch::Tensor holes;      // [B, 1, S, S] float32, 1 = hole (HoleMapping::sample_hole)
  torch::Tensor prefilled;  // [B, C, S, S] images with holes pre-filled (HoleFill::Telea only)
};

// Random crop (scale and aspect jitter) + resize to size x size + flip, on an
// RGB image. Deterministic in rng_seed. cfg must be valid (DataConfig::validate).
cv::Mat augment_crop(const cv::Mat& rgb, const DataConfig& cfg, int size, uint64_t rng_seed);

// Multi-threaded, prefetching, bounded-memory loader. Batch `s` is the same
// whatever the thread count or timing, so a resumed run sees the same data.
// Unreadable files are skipped (warned once each, counted) and replaced by
// the next file of the epoch's permutation. The batches are S x S as the
// model's HoleMapping says, with its holes (drawn from `mask`) and, for a
// pre-filled model, its pre-fill.
class TrainLoader {
 public:
  using WarnFn = std::function<void(const std::string&)>;
  TrainLoader(std::vector<std::string> files, const DataConfig& data, const MaskConfig& mask,
              const HoleMapping& holes, int batch_size, uint64_t seed, int64_t first_step, WarnFn warn = {});
  ~TrainLoader();
  TrainLoader(const TrainLoader&) = delete;
  TrainLoader& operator=(const TrainLoader&) = delete;

  Batch next();  // blocks until the next batch is ready; rethrows worker errors
  int64_t skipped_files() const;  // unreadable files skipped so far

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctxenc

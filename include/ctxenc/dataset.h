// ctxenc/dataset.h — training/validation image sets and the prefetching loader.
//
// Layouts (resolved by list_dataset):
//   * a text file (.txt/.lst/.list): one image path per line, relative to the
//     file's folder; blank lines and '#' comments ignored;
//   * Paris StreetView: DIR/paris_train_original/ (train), DIR/paris_eval_gt/ (val);
//   * split folders: DIR/train/ and DIR/val/ (ImageNet-style class trees inside
//     work too, as does the Debian photo set);
//   * any other folder: every .jpg/.jpeg/.png/.webp/.bmp below it, recursively.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "ctxenc/config.h"

namespace ctxenc {

enum class Split { Train, Val };

struct DatasetFiles {
  std::vector<std::string> files;  // sorted, absolute or as given
  std::string layout;              // "list", "paris", "split", "folder"
};

// Throws DataError if the path is missing or holds no images.
DatasetFiles list_dataset(const std::string& path, Split split = Split::Train);

// One training batch; a pure function of (files, configs, seed, step).
struct Batch {
  int64_t step = 0;
  torch::Tensor images;     // [B, C, S, S] float32 in [-1, 1], channels_last
  torch::Tensor holes;      // [B, 1, S, S] float32, 1 = hole
  torch::Tensor prefilled;  // [B, C, S, S] images with holes pre-filled (HoleFill::Telea only)
};

struct LoaderStats {
  int64_t samples = 0;           // samples produced
  int64_t decoded = 0;           // files decoded (cache misses)
  int64_t skipped_files = 0;     // unreadable/corrupt files, skipped
  double busy_seconds = 0;       // summed worker time spent producing samples
};

// Random crop (scale and aspect jitter) + resize to size x size + flip, on an
// RGB image. Deterministic in rng_seed.
cv::Mat augment_crop(const cv::Mat& rgb, const DataConfig& cfg, int size, uint64_t rng_seed);
// Throws UsageError for crop settings augment_crop cannot honour.
void validate_crop(const DataConfig& cfg);

// Multi-threaded, prefetching, bounded-memory loader. Batch `s` is the same
// whatever the thread count or timing, so a resumed run sees the same data.
// Unreadable files are skipped (warned once each, counted) and replaced by
// the next file of the epoch's permutation.
class TrainLoader {
 public:
  using WarnFn = std::function<void(const std::string&)>;
  TrainLoader(std::vector<std::string> files, const DataConfig& data, const MaskConfig& mask,
              int image_size, int batch_size, uint64_t seed, int64_t first_step, WarnFn warn = {},
              HoleFill prefill = HoleFill::Mean, cv::Mat fixed_hole = {});
  ~TrainLoader();
  TrainLoader(const TrainLoader&) = delete;
  TrainLoader& operator=(const TrainLoader&) = delete;

  Batch next();  // blocks until the next batch is ready; rethrows worker errors
  LoaderStats stats() const;

 private:
  struct Slot;
  void worker();
  void produce_sample(Slot& slot, int64_t step, int k);
  cv::Mat image_for(int64_t sample_index);
  cv::Mat decode_cached(size_t file_index);
  size_t file_at(int64_t epoch, size_t pos);

  std::vector<std::string> files_;
  DataConfig data_;
  MaskConfig mask_;
  int size_, batch_;
  uint64_t seed_;
  WarnFn warn_;
  HoleFill prefill_;
  cv::Mat fixed_hole_;  // when set (a center model's own square, CV_8U), every sample's hole

  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<int64_t> next_sample_;  // global sample counter handed to workers
  int64_t next_step_;                 // next batch the consumer takes
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::exception_ptr error_;

  std::mutex cache_mu_;
  std::map<size_t, cv::Mat> cache_;
  int64_t cache_bytes_ = 0;
  std::map<size_t, bool> bad_;
  std::map<int64_t, std::vector<size_t>> perms_;  // epoch -> permutation (a few kept)

  std::atomic<int64_t> samples_{0}, decoded_{0}, skipped_{0}, busy_ns_{0};
  std::vector<std::thread> threads_;
};

}  // namespace ctxenc

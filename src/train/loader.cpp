// loader.cpp — crop augmentation and the prefetching TrainLoader: workers
// claim samples in order, decode (through a cache) and write them into a ring
// of batch slots that the consumer takes in step order.
#include "train/loader.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/random.h"
#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"
#include "ctxenc/masks.h"
#include "inpaint/prefill.h"
#include "io/crop.h"

namespace ctxenc {

cv::Mat augment_crop(const cv::Mat& rgb, const DataConfig& cfg, int size, uint64_t rng_seed) {
  Rng rng(rng_seed);
  const int w = rgb.cols, h = rgb.rows;
  const bool whole = cfg.frame == CropFrame::Whole;
  // The window's size as a fraction f of the short side (short-side frame) or of each side (whole frame).
  const double f_max = whole ? cfg.max_crop : 1.0;
  const double f = cfg.min_crop + (f_max - cfg.min_crop) * uniform01(rng);
  const double log_a = std::log(std::max(1.0, cfg.max_aspect)) * (2.0 * uniform01(rng) - 1.0);
  const double a = std::exp(log_a);
  cv::Rect window;
  if (whole) {
    // [f*W, f*H] at a uniform place: inside the photo when f < 1, around it (reflected) when f > 1.
    window.width = std::max(1, static_cast<int>(std::lround(f * w * std::sqrt(a))));
    window.height = std::max(1, static_cast<int>(std::lround(f * h / std::sqrt(a))));
    window.x = static_cast<int>(std::lround(uniform01(rng) * (w - window.width)));
    window.y = static_cast<int>(std::lround(uniform01(rng) * (h - window.height)));
  } else {
    const double short_side = std::min(w, h);
    window.width = std::clamp(static_cast<int>(std::lround(f * short_side * std::sqrt(a))), 1, w);
    window.height = std::clamp(static_cast<int>(std::lround(f * short_side / std::sqrt(a))), 1, h);
    window.x = static_cast<int>(uniform01(rng) * (w - window.width + 1)) % (w - window.width + 1);
    window.y = static_cast<int>(uniform01(rng) * (h - window.height + 1)) % (h - window.height + 1);
  }
  const bool flip = cfg.hflip && uniform01(rng) < 0.5;
  cv::Mat out;
  const bool shrink = window.width >= size && window.height >= size;
  // A view when the window lies inside the photo; a reflected copy only when it reaches past it.
  const bool inside = (window & cv::Rect(0, 0, w, h)) == window;
  cv::resize(inside ? rgb(window) : crop_padded(rgb, window), out, cv::Size(size, size), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  if (flip) cv::flip(out, out, 1);
  return out;
}

// ---- TrainLoader -------------------------------------------------------------

struct TrainLoader::Impl {
  // One batch being produced. Slot tensors are written at disjoint offsets by different workers.
  struct Slot {
    int64_t step = -1;        // batch this slot produces
    torch::Tensor images;     // [B, S, S, C] float32 (NHWC == channels_last of [B, C, S, S])
    torch::Tensor holes;      // [B, 1, S, S] float32
    torch::Tensor prefilled;  // [B, S, S, C] float32, HoleFill::Telea only
    int done = 0;             // samples written

    void allocate(int batch, int size, bool with_prefill) {
      images = torch::empty({batch, size, size, 3});
      holes = torch::empty({batch, 1, size, size});
      prefilled = with_prefill ? torch::empty({batch, size, size, 3}) : torch::Tensor();
    }
  };

  Impl(std::vector<std::string> files, const DataConfig& data, const MaskConfig& mask, const HoleMapping& holes,
       int batch_size, uint64_t seed, int64_t first_step, WarnFn warn);
  ~Impl();
  Batch next();
  void worker();
  void produce_sample(Slot& slot, int64_t step, int k);
  cv::Mat image_for(int64_t sample_index);
  cv::Mat decode_cached(size_t file_index);
  size_t file_at(int64_t epoch, size_t pos);
  bool prefills() const { return holes_.prefills(); }

  std::vector<std::string> files_;
  DataConfig data_;
  MaskConfig mask_;
  HoleMapping holes_;
  int size_, batch_;
  uint64_t seed_;
  WarnFn warn_;

  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<int64_t> next_sample_;  // global sample counter handed to workers
  int64_t next_step_;                 // next batch the consumer takes
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::exception_ptr error_;

  std::mutex cache_mu_;
  std::map<size_t, cv::Mat> cache_;
  int64_t cache_bytes_ = 0;
  std::map<size_t, bool> bad_;
  std::map<int64_t, std::vector<size_t>> perms_;  // epoch -> permutation (a few kept)

  std::atomic<int64_t> skipped_{0};
  std::vector<std::thread> threads_;
};

TrainLoader::TrainLoader(std::vector<std::string> files, const DataConfig& data, const MaskConfig& mask,
                         const HoleMapping& holes, int batch_size, uint64_t seed, int64_t first_step, WarnFn warn)
    : impl_(std::make_unique<Impl>(std::move(files), data, mask, holes, batch_size, seed, first_step,
                                   std::move(warn))) {}
TrainLoader::~TrainLoader() = default;
Batch TrainLoader::next() { return impl_->next(); }
int64_t TrainLoader::skipped_files() const { return impl_->skipped_.load(); }

TrainLoader::Impl::Impl(std::vector<std::string> files, const DataConfig& data, const MaskConfig& mask,
                        const HoleMapping& holes, int batch_size, uint64_t seed, int64_t first_step, WarnFn warn)
    : files_(std::move(files)), data_(data), mask_(mask), holes_(holes), size_(holes.side()), batch_(batch_size),
      seed_(seed), warn_(std::move(warn)), next_sample_(first_step * batch_size), next_step_(first_step) {
  if (files_.empty()) throw DataError("the dataset holds no images");
  if (batch_ < 1) throw UsageError("batch size must be positive");
  // Step s lives in slot s % prefetch; the first `prefetch` steps start there.
  const int prefetch = std::max(1, data_.prefetch_batches);
  slots_.resize(static_cast<size_t>(prefetch));
  for (int i = 0; i < prefetch; ++i) {
    auto s = std::make_unique<Slot>();
    s->step = first_step + i;
    s->allocate(batch_, size_, prefills());
    slots_[static_cast<size_t>(first_step + i) % slots_.size()] = std::move(s);
  }
  int n = data_.loader_threads > 0 ? data_.loader_threads
                                   : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { worker(); });
}

TrainLoader::Impl::~Impl() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

Batch TrainLoader::Impl::next() {
  std::unique_lock<std::mutex> lock(mu_);
  Slot& slot = *slots_[static_cast<size_t>(next_step_) % slots_.size()];
  // The ring invariant: a slot holds the step we want or an earlier one still
  // being consumed, never a later one (that would wait forever).
  if (slot.step > next_step_)
    throw Error(kExitInternal, "loader ring out of order: slot holds step " + std::to_string(slot.step) +
                                   ", expected " + std::to_string(next_step_));
  cv_.wait(lock, [&] { return error_ || (slot.step == next_step_ && slot.done == batch_); });
  if (error_) std::rethrow_exception(error_);
  Batch b;
  b.step = next_step_;
  b.images = slot.images.permute({0, 3, 1, 2});  // [B, C, S, S], channels_last memory
  b.holes = slot.holes;
  if (slot.prefilled.defined()) b.prefilled = slot.prefilled.permute({0, 3, 1, 2});
  slot.allocate(batch_, size_, prefills());
  slot.done = 0;
  slot.step += static_cast<int64_t>(slots_.size());
  ++next_step_;
  lock.unlock();
  cv_.notify_all();
  return b;
}

void TrainLoader::Impl::worker() {
  try {
    for (;;) {
      const int64_t g = next_sample_.fetch_add(1);
      const int64_t step = g / batch_;
      const int k = static_cast<int>(g % batch_);
      Slot& slot = *slots_[static_cast<size_t>(step) % slots_.size()];
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || slot.step == step; });
        if (stop_) return;
      }
      produce_sample(slot, step, k);
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (++slot.done == batch_) cv_.notify_all();
      }
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_) error_ = std::current_exception();
    cv_.notify_all();
  }
}

void TrainLoader::Impl::produce_sample(Slot& slot, int64_t step, int k) {
  const int64_t g = step * batch_ + k;  // absolute sample index
  cv::Mat img = image_for(g);
  cv::Mat crop = augment_crop(img, data_, size_, mix_seed(seed_, static_cast<uint64_t>(g), 1));
  cv::Mat mask = holes_.sample_hole(mask_, mix_seed(seed_, static_cast<uint64_t>(g), 2));
  // Slot tensors are written at disjoint offsets by different workers.
  cv::Mat dst_img(size_, size_, CV_32FC3, slot.images[k].data_ptr<float>());
  crop.convertTo(dst_img, CV_32FC3, 1.0, -127.5);  // exact: 255 -> 1.0, 0 -> -1.0
  dst_img /= 127.5;
  cv::Mat dst_hole(size_, size_, CV_32FC1, slot.holes[k].data_ptr<float>());
  mask.convertTo(dst_hole, CV_32FC1, 1.0 / 255.0);
  if (prefills()) {
    cv::Mat dst_fill(size_, size_, CV_32FC3, slot.prefilled[k].data_ptr<float>());
    prefill_holes(crop, mask, holes_.config().fill).convertTo(dst_fill, CV_32FC3, 1.0, -127.5);
    dst_fill /= 127.5;
  }
}

size_t TrainLoader::Impl::file_at(int64_t epoch, size_t pos) {
  std::lock_guard<std::mutex> lock(cache_mu_);
  auto it = perms_.find(epoch);
  if (it == perms_.end()) {
    std::vector<size_t> perm(files_.size());
    for (size_t i = 0; i < perm.size(); ++i) perm[i] = i;
    std::mt19937_64 rng(mix_seed(seed_, static_cast<uint64_t>(epoch), 3));
    for (size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng() % i]);  // Fisher-Yates
    it = perms_.emplace(epoch, std::move(perm)).first;
  }
  const size_t file = it->second[pos];
  // Keep the four latest epochs. Read first: a late worker's old epoch is the
  // smallest key, and trimming would erase the entry `it` points at.
  while (perms_.size() > 4) perms_.erase(perms_.begin());
  return file;
}

cv::Mat TrainLoader::Impl::image_for(int64_t g) {
  const int64_t n = static_cast<int64_t>(files_.size());
  const int64_t epoch = g / n;
  for (int64_t tries = 0; tries < n; ++tries) {
    const size_t idx = file_at(epoch, static_cast<size_t>((g + tries) % n));
    cv::Mat img = decode_cached(idx);
    if (!img.empty()) return img;
  }
  throw DataError("no image of the dataset could be decoded");
}

cv::Mat TrainLoader::Impl::decode_cached(size_t i) {
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (bad_.count(i)) return {};
    auto it = cache_.find(i);
    if (it != cache_.end()) return it->second;
  }
  cv::Mat img;
  std::string why;
  try {
    const ImageInfo info = probe_image(files_[i]);
    if (int64_t{info.width} * info.height > kDefaultMaxPixels)  // refused before decoding, as everywhere
      throw TooLargeError(std::to_string(info.width) + "x" + std::to_string(info.height) + " is above " +
                          std::to_string(kDefaultMaxPixels) + " pixels");
    int flags = cv::IMREAD_COLOR;
    const int short_side = std::min(info.width, info.height);
    // JPEG can decode at 1/2, 1/4, 1/8 scale for almost free.
    if (info.format == "jpeg" && data_.max_short_side > 0) {
      if (short_side >= 8 * data_.max_short_side) flags = cv::IMREAD_REDUCED_COLOR_8;
      else if (short_side >= 4 * data_.max_short_side) flags = cv::IMREAD_REDUCED_COLOR_4;
      else if (short_side >= 2 * data_.max_short_side) flags = cv::IMREAD_REDUCED_COLOR_2;
    }
    cv::Mat bgr = cv::imread(files_[i], flags);
    if (bgr.empty()) throw InputError("cannot decode");
    const int s = std::min(bgr.cols, bgr.rows);
    if (data_.max_short_side > 0 && s > data_.max_short_side) {
      const double r = static_cast<double>(data_.max_short_side) / s;
      cv::resize(bgr, bgr, cv::Size(std::max(1, static_cast<int>(std::lround(bgr.cols * r))),
                                    std::max(1, static_cast<int>(std::lround(bgr.rows * r)))),
                 0, 0, cv::INTER_AREA);
    }
    cv::cvtColor(bgr, img, cv::COLOR_BGR2RGB);
  } catch (const std::exception& e) {
    why = e.what();
  }
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (img.empty()) {
    if (!bad_.count(i)) {
      bad_[i] = true;
      ++skipped_;
      if (warn_) warn_("skipping unreadable image '" + files_[i] + "': " + why);
    }
    return {};
  }
  const int64_t bytes = static_cast<int64_t>(img.total() * img.elemSize());
  if (cache_bytes_ + bytes <= data_.cache_mb * (int64_t{1} << 20) && !cache_.count(i)) {
    cache_.emplace(i, img);
    cache_bytes_ += bytes;
  }
  return img;
}

}  // namespace ctxenc

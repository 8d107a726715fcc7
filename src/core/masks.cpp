// masks.cpp — the four hole-mask generators and the seed mixer.
#include "ctxenc/masks.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "core/random.h"
#include "ctxenc/errors.h"

namespace ctxenc {
namespace {

// Draws one primitive with `draw(mask, scale)`. If it would push the hole ratio
// past target, its scale is bisected so the ratio lands just at the target
// instead of jumping past it: mean ratios then sit on target, not above.
void draw_clamped(cv::Mat& mask, double target, const std::function<void(cv::Mat&, double)>& draw) {
  cv::Mat trial = mask.clone();
  draw(trial, 1.0);
  if (hole_ratio(trial) > target) {
    double lo = 0.0, hi = 1.0;
    for (int it = 0; it < 12; ++it) {
      const double mid = 0.5 * (lo + hi);
      trial = mask.clone();
      draw(trial, mid);
      (hole_ratio(trial) <= target ? lo : hi) = mid;
    }
    trial = mask.clone();
    draw(trial, hi);
  }
  mask = trial;
}

// The central rectangle covering hole_ratio of the image (64x64 of 128x128 at 0.25).
cv::Mat mask_central_area(const MaskConfig& cfg, int w, int h) {
  cv::Mat m = cv::Mat::zeros(h, w, CV_8UC1);
  const double s = std::sqrt(cfg.hole_ratio);
  const int mw = static_cast<int>(std::lround(w * s)), mh = static_cast<int>(std::lround(h * s));
  m(cv::Rect((w - mw) / 2, (h - mh) / 2, mw, mh)).setTo(255);
  return m;
}

cv::Mat mask_random_block(const MaskConfig& cfg, int w, int h, Rng& rng) {
  cv::Mat m = cv::Mat::zeros(h, w, CV_8UC1);
  // Block sides ~ U[0.15, 0.45] of the image side: 3-9 blocks reach 1/4 coverage.
  for (int guard = 0; guard < 1000 && hole_ratio(m) < cfg.hole_ratio; ++guard) {
    const double bw = uniform(rng, 0.15, 0.45) * w, bh = uniform(rng, 0.15, 0.45) * h;
    const double cx = uniform(rng, 0, w), cy = uniform(rng, 0, h);
    draw_clamped(m, cfg.hole_ratio,
               [&](cv::Mat& t, double scale) {
                 const double hw = 0.5 * bw * scale, hh = 0.5 * bh * scale;
                 cv::Rect r(cv::Point(static_cast<int>(std::lround(cx - hw)), static_cast<int>(std::lround(cy - hh))),
                            cv::Point(static_cast<int>(std::lround(cx + hw)), static_cast<int>(std::lround(cy + hh))));
                 r &= cv::Rect(0, 0, w, h);
                 if (r.area() > 0) t(r).setTo(255);
               });
  }
  return m;
}

cv::Mat mask_random_region(const MaskConfig& cfg, int w, int h, Rng& rng) {
  // Coarse uniform noise, upscaled bicubically: smooth blobs of random shape.
  const int grid = uniform_int(rng, 5, 10);
  cv::Mat noise(grid, grid, CV_32FC1);
  for (int y = 0; y < grid; ++y)
    for (int x = 0; x < grid; ++x) noise.at<float>(y, x) = static_cast<float>(uniform(rng, 0, 1));
  cv::Mat smooth;
  cv::resize(noise, smooth, cv::Size(w, h), 0, 0, cv::INTER_CUBIC);
  const double ratio = std::clamp(uniform(rng, cfg.hole_ratio - cfg.ratio_spread,
                                          cfg.hole_ratio + cfg.ratio_spread), 0.0, 1.0);
  // Threshold at the ratio-quantile: the hole covers exactly `ratio` (up to ties).
  std::vector<float> v(smooth.begin<float>(), smooth.end<float>());
  const size_t k = static_cast<size_t>(std::lround(ratio * static_cast<double>(v.size())));
  cv::Mat m = cv::Mat::zeros(h, w, CV_8UC1);
  if (k == 0) return m;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k - 1), v.end());
  const float thr = v[k - 1];
  m.setTo(255, smooth <= thr);
  return m;
}

cv::Mat mask_free_form(const MaskConfig& cfg, int w, int h, Rng& rng) {
  // DeepFill v2's generator, with lengths and widths scaled to the image side.
  cv::Mat m = cv::Mat::zeros(h, w, CV_8UC1);
  const double side = std::min(w, h);
  const double max_len = 0.2 * side, min_len = 0.04 * side;
  const double max_width = 0.09 * side, min_width = 0.04 * side;
  for (int stroke = 0; stroke < 1000 && hole_ratio(m) < cfg.hole_ratio; ++stroke) {
    double x = uniform(rng, 0, w), y = uniform(rng, 0, h);
    const int vertices = uniform_int(rng, 4, 12);
    const int width = std::max(1, static_cast<int>(std::lround(uniform(rng, min_width, max_width))));
    for (int v = 0; v < vertices && hole_ratio(m) < cfg.hole_ratio; ++v) {
      double angle = uniform(rng, 0.01, 4.0);
      if (stroke % 2 == 0) angle = 2 * M_PI - angle;
      const double len = uniform(rng, min_len, max_len);
      const double x0 = x, y0 = y;
      draw_clamped(m, cfg.hole_ratio,
                 [&](cv::Mat& t, double scale) {
                   const double x1 = x0 + scale * len * std::cos(angle), y1 = y0 + scale * len * std::sin(angle);
                   cv::line(t, cv::Point(static_cast<int>(std::lround(x0)), static_cast<int>(std::lround(y0))),
                            cv::Point(static_cast<int>(std::lround(x1)), static_cast<int>(std::lround(y1))),
                            cv::Scalar(255), std::max(1, static_cast<int>(std::lround(width * std::sqrt(scale)))),
                            cv::LINE_8);
                 });
      x = std::clamp(x0 + len * std::cos(angle), 0.0, w - 1.0);
      y = std::clamp(y0 + len * std::sin(angle), 0.0, h - 1.0);
    }
  }
  return m;
}

}  // namespace

MaskSpec parse_mask_spec(const std::string& spec) {
  MaskSpec m;
  if (spec == "center") {
    m.kind = MaskSpec::Kind::Center;
    return m;
  }
  if (spec.rfind("rect:", 0) != 0) {
    m.path = spec;
    return m;
  }
  // Exactly four decimal integers, each within int, separated by commas.
  int v[4];
  const char *p = spec.data() + 5, *end = spec.data() + spec.size();
  bool ok = true;
  for (int i = 0; i < 4 && ok; ++i) {
    const auto [next, ec] = std::from_chars(p, end, v[i]);
    ok = ec == std::errc() && (i == 3 ? next == end : next < end && *next == ',');
    p = next + 1;
  }
  if (!ok || v[2] <= 0 || v[3] <= 0)
    throw UsageError("mask rect:x,y,w,h expects four integers with w, h > 0, got '" + spec + "'");
  m.kind = MaskSpec::Kind::Rect;
  m.rect = cv::Rect(v[0], v[1], v[2], v[3]);
  return m;
}

cv::Mat rect_mask(const cv::Rect& r, int width, int height) {
  // In 64 bits: x + w may pass INT_MAX.
  const int64_t x0 = std::max<int64_t>(r.x, 0), y0 = std::max<int64_t>(r.y, 0);
  const int64_t x1 = std::min<int64_t>(int64_t{r.x} + r.width, width), y1 = std::min<int64_t>(int64_t{r.y} + r.height, height);
  if (x1 <= x0 || y1 <= y0)
    throw UsageError("mask rect:" + std::to_string(r.x) + "," + std::to_string(r.y) + "," + std::to_string(r.width) +
                     "," + std::to_string(r.height) + " lies outside the " + std::to_string(width) + "x" +
                     std::to_string(height) + " image");
  cv::Mat m = cv::Mat::zeros(height, width, CV_8UC1);
  m(cv::Rect(static_cast<int>(x0), static_cast<int>(y0), static_cast<int>(x1 - x0), static_cast<int>(y1 - y0)))
      .setTo(255);
  return m;
}

cv::Mat fit_mask(const cv::Mat& mask, cv::Size image, const std::string& name, bool* resized) {
  if (resized) *resized = false;
  if (mask.size() == image) return mask;
  const double aspect_m = static_cast<double>(mask.cols) / mask.rows;
  const double aspect_i = static_cast<double>(image.width) / image.height;
  if (std::abs(aspect_m / aspect_i - 1.0) > 0.02)
    throw InputError("mask '" + name + "' is " + std::to_string(mask.cols) + "x" + std::to_string(mask.rows) +
                     " but the image is " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                     " (a different shape: is it the right mask?)");
  cv::Mat out;
  cv::resize(mask, out, image, 0, 0, cv::INTER_NEAREST);
  if (resized) *resized = true;
  return out;
}

uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
  auto splitmix = [](uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  return splitmix(splitmix(splitmix(splitmix(seed) ^ a) ^ b) ^ c);
}

double hole_ratio(const cv::Mat& mask) {
  if (mask.empty()) return 0.0;
  return static_cast<double>(cv::countNonZero(mask)) / static_cast<double>(mask.total());
}

cv::Mat generate_mask(const MaskConfig& cfg, int width, int height, uint64_t seed) {
  if (width < 1 || height < 1) throw UsageError("mask size must be positive");
  cfg.validate();
  Rng rng(seed);
  switch (cfg.kind) {
    case MaskKind::Center: return mask_central_area(cfg, width, height);
    case MaskKind::RandomBlock: return mask_random_block(cfg, width, height, rng);
    case MaskKind::RandomRegion: return mask_random_region(cfg, width, height, rng);
    case MaskKind::FreeForm: return mask_free_form(cfg, width, height, rng);
    case MaskKind::Mixed: {
      static const MaskKind kinds[] = {MaskKind::RandomBlock, MaskKind::RandomRegion, MaskKind::FreeForm};
      MaskConfig one = cfg;
      one.kind = kinds[rng() % 3];
      return generate_mask(one, width, height, rng());
    }
  }
  throw UsageError("unknown mask kind");
}

}  // namespace ctxenc

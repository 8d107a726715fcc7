// hole_mapping.cpp — how a model meets holes: the network's holes, input,
// output region and compositing, its losses' weights, and how holes of a photo
// are framed into model windows. The only file that asks a model's output kind.
#include "model/hole_mapping.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "ctxenc/masks.h"

namespace ctxenc {
using torch::indexing::Slice;

HoleMapping::HoleMapping(const ModelConfig& cfg)
    : cfg_(cfg),
      fixed_square_(cfg.output == OutputRegion::Center),
      fill_side_(fixed_square_ ? cfg.output_size() - 2 * cfg.overlap : cfg.image_size) {
  if (!fixed_square_) return;
  const int S = cfg.image_size, lo = cfg.output_offset() + cfg.overlap, hi = lo + fill_side_;
  square_ = torch::zeros({1, 1, S, S});
  square_.index_put_({Slice(), Slice(), Slice(lo, hi), Slice(lo, hi)}, 1.0);
  square_mask_ = cv::Mat::zeros(S, S, CV_8UC1);
  square_mask_(cv::Rect(lo, lo, fill_side_, fill_side_)).setTo(255);
}

// ---- which pixels the network fills ---------------------------------------------

MaskConfig HoleMapping::training_masks(const MaskConfig& requested) const {
  MaskConfig m = requested;
  if (fixed_square_) m.kind = MaskKind::Center;
  return m;
}

cv::Mat HoleMapping::sample_hole(const MaskConfig& masks, uint64_t seed) const {
  if (fixed_square_) return square_mask_;
  return generate_mask(masks, side(), side(), seed);
}

cv::Mat HoleMapping::window_hole(const cv::Mat& hole) const {
  if (fixed_square_) return square_mask_;
  const int S = side();
  cv::Mat small = hole;
  if (hole.cols != S || hole.rows != S)
    // A model pixel is hole if any window pixel under it is (area > 0).
    cv::resize(hole, small, cv::Size(S, S), 0, 0, hole.cols > S ? cv::INTER_AREA : cv::INTER_NEAREST);
  return small > 0;
}

torch::Tensor HoleMapping::network_holes(const torch::Tensor& holes) const {
  if (fixed_square_) return square_.expand({holes.size(0), 1, -1, -1});
  return holes;
}

// ---- what the network sees, and what goes back ------------------------------------

torch::Tensor crop_output_region(const ModelConfig& cfg, const torch::Tensor& x) {
  if (cfg.output == OutputRegion::Full) return x;
  const int o = cfg.output_offset(), n = cfg.output_size();
  return x.index({Slice(), Slice(), Slice(o, o + n), Slice(o, o + n)});
}

static torch::Tensor fill_colour(const ModelConfig& cfg, const torch::Tensor& like) {
  std::vector<float> v;
  for (int c = 0; c < cfg.channels; ++c) v.push_back(cfg.fill_mean[std::min(c, 2)] * 2.f - 1.f);
  return torch::tensor(v, like.options()).view({1, cfg.channels, 1, 1});
}

torch::Tensor HoleMapping::input(const torch::Tensor& images, const torch::Tensor& holes_in,
                                 const torch::Tensor& prefilled) const {
  auto h = network_holes(holes_in).to(images.dtype());
  torch::Tensor fill;
  if (cfg_.fill == HoleFill::Mean) {
    fill = fill_colour(cfg_, images);
  } else {
    TORCH_CHECK(prefilled.defined(), "this model needs its holes pre-filled (fill = telea)");
    fill = prefilled.to(images.dtype());
  }
  auto x = images * (1 - h) + fill * h;  // [B, C, S, S]
  if (cfg_.mask_channel) x = torch::cat({x, h.expand({images.size(0), 1, -1, -1}) * 2 - 1}, 1);
  return x.contiguous(torch::MemoryFormat::ChannelsLast);
}

torch::Tensor HoleMapping::target(const torch::Tensor& images) const { return crop_output_region(cfg_, images); }

torch::Tensor HoleMapping::composite(const torch::Tensor& images, const torch::Tensor& holes_in,
                                     const torch::Tensor& prediction) const {
  auto full = prediction;
  if (fixed_square_) {
    const int o = cfg_.output_offset(), n = cfg_.output_size();
    full = images.clone();
    full.index_put_({Slice(), Slice(), Slice(o, o + n), Slice(o, o + n)}, prediction);
  }
  auto h = network_holes(holes_in).to(images.dtype()).expand_as(images);
  return torch::where(h > 0.5, full.to(images.dtype()), images);
}

torch::Tensor HoleMapping::predict(const GeneratorFn& g, const torch::Tensor& images, const torch::Tensor& holes,
                                   const torch::Tensor& prefilled) const {
  return g(input(images, holes, prefilled));
}

torch::Tensor HoleMapping::inpaint(const GeneratorFn& g, const torch::Tensor& images, const torch::Tensor& holes,
                                   const torch::Tensor& prefilled) const {
  return composite(images, holes, predict(g, images, holes, prefilled));
}

// ---- losses ----------------------------------------------------------------------

torch::Tensor HoleMapping::holes_in_output(const torch::Tensor& holes) const {
  return crop_output_region(cfg_, network_holes(holes));
}

torch::Tensor HoleMapping::reconstruction_weights(const torch::Tensor& holes, double overlap_weight) const {
  auto hole_out = holes_in_output(holes).to(torch::kFloat32);  // [B, 1, out, out]
  if (!fixed_square_) return hole_out;
  // Center model: everything in the output region that is not hole is the ring.
  return hole_out + (1 - hole_out) * overlap_weight;
}

torch::Tensor HoleMapping::discriminator_fake(const torch::Tensor& images, const torch::Tensor& holes,
                                              const torch::Tensor& prediction) const {
  if (cfg_.global_discriminator || !fixed_square_) return composite(images, holes, prediction);
  return prediction;
}

torch::Tensor HoleMapping::discriminator_real(const torch::Tensor& images) const {
  return cfg_.global_discriminator ? images : target(images);
}

// ---- photos ------------------------------------------------------------------------

cv::Mat HoleMapping::photo_center_hole(int width, int height) const {
  const int S = side();
  cv::Mat m = cv::Mat::zeros(height, width, CV_8UC1);
  const double f = static_cast<double>(fixed_square_ ? fill_side_ : S / 2) / S;
  const int w = std::max(1, static_cast<int>(std::lround(width * f)));
  const int h = std::max(1, static_cast<int>(std::lround(height * f)));
  m(cv::Rect((width - w) / 2, (height - h) / 2, w, h)).setTo(255);
  return m;
}

// Square window of side `side` centred on rect r's centre.
static cv::Rect window_around(const cv::Rect& r, int side) {
  const int cx = r.x + r.width / 2, cy = r.y + r.height / 2;
  return cv::Rect(cx - side / 2, cy - side / 2, side, side);
}

cv::Rect HoleMapping::window_for_hole(const cv::Rect& box, cv::Size image, const InpaintOptions& opt) const {
  const int S = side();
  const int extent = std::max(box.width, box.height);
  // Center model: window / hole box = S / its square x center_fit.
  const double scale = fixed_square_ ? static_cast<double>(S) / fill_side_ * opt.center_fit : opt.context;
  int side_px = std::max(S, static_cast<int>(std::ceil(extent * scale)));
  if (fixed_square_) return window_around(box, side_px);
  // A full-image model gains nothing from reflected context: never use a
  // window larger than the image, and slide it inside the image.
  side_px = std::min(side_px, std::max(S, std::max(image.width, image.height)));
  cv::Rect win = window_around(box, side_px);
  auto slide = [](int pos, int len, int limit) {
    return len <= limit ? std::clamp(pos, 0, limit - len) : (limit - len) / 2;
  };
  win.x = slide(win.x, side_px, image.width);
  win.y = slide(win.y, side_px, image.height);
  return win;
}

int HoleMapping::fringe_band(int extent, const InpaintOptions& opt) const {
  if (!fixed_square_ || opt.strategy != InpaintStrategy::Crop) return 0;
  // The window shows the model the hole's outer fringe as context (center_fit
  // < 1: the box overhangs its square) and, through resampling, ~2 model
  // pixels more; Telea fills that band better than push-pull. The band reaches
  // 7 px deeper than that fringe (the setting chosen on the training photos,
  // docs/training.md); see inpaint/prefill.h for how near Telea's fill of the
  // whole hole that leaves the fringe.
  const double center_scale = static_cast<double>(side()) / fill_side_ * opt.center_fit;  // window / hole box
  const double overhang = std::max(0.0, 1.0 / opt.center_fit - 1.0) / 2.0 + 2.0 / (side() / center_scale);
  return 5 + 2 + static_cast<int>(std::ceil(extent * overhang));
}

bool HoleMapping::refines_in_tiles(const cv::Rect& window) const {
  // A mean-filled model would see nothing of the coarse fill in its cell and
  // paint a texture over it, and a center model re-fills its whole square, so
  // their one window is final.
  return window.width > 2 * side() && cfg_.fill != HoleFill::Mean && !fixed_square_;
}

int HoleMapping::tile_cell(const InpaintOptions& opt) const {
  return std::max(2, fixed_square_ ? fill_side_ : static_cast<int>(side() / opt.context));
}

// ---- pixel ranges ------------------------------------------------------------------

torch::Tensor to_model_range(const torch::Tensor& uint8_nhwc) {
  return uint8_nhwc.permute({0, 3, 1, 2}).to(torch::kFloat32).div(127.5).sub(1.0);
}

torch::Tensor to_uint8_nhwc(const torch::Tensor& images) {
  return images.to(torch::kFloat32).add(1.0).mul(127.5).round().clamp(0, 255)
      .to(torch::kUInt8).permute({0, 2, 3, 1}).contiguous();
}

}  // namespace ctxenc

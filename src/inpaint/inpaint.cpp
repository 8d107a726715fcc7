// inpaint.cpp — filling arbitrary holes in photos of any size with a trained
// generator: hole regions -> model-size windows (crop / resize / full-tile
// strategies, coarse-to-fine for large holes; framed as the model's
// HoleMapping says), then seam blending (blend.h).
#include "ctxenc/inpaint.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "core/enum_names.h"
#include "ctxenc/errors.h"
#include "inpaint/blend.h"
#include "inpaint/prefill.h"
#include "io/crop.h"
#include "model/hole_mapping.h"
#include "model/inference.h"
#include "model/model_file.h"

namespace ctxenc {
namespace {

constexpr EnumNames<InpaintStrategy, 3> kStrategies = {
    {InpaintStrategy::Crop, "crop"}, {InpaintStrategy::Resize, "resize"}, {InpaintStrategy::Full, "full"}};
constexpr EnumNames<Blend, 3> kBlends = {{Blend::None, "none"}, {Blend::Feather, "feather"}, {Blend::Poisson, "poisson"}};

}  // namespace

const char* to_string(InpaintStrategy s) { return enum_name(kStrategies, s); }
const char* to_string(Blend b) { return enum_name(kBlends, b); }
InpaintStrategy parse_strategy(const std::string& s) { return parse_enum(kStrategies, s, "strategy"); }
Blend parse_blend(const std::string& s) { return parse_enum(kBlends, s, "blend"); }

void InpaintOptions::validate() const {
  if (!(context >= 1.2)) throw UsageError("context must be >= 1.2");
  if (!(center_fit >= 0.8 && center_fit <= 1.5)) throw UsageError("center_fit must be in [0.8, 1.5]");
  if (threads < 0) throw UsageError("threads must be >= 0 (0 = all cores)");
}

struct Inpainter::Impl {
  Impl(const std::string& model_path, const InpaintOptions& o)
      : defaults(o), model(load_generator(model_path)), net(*model.generator, o.precision), holes(model.config) {}

  InpaintOptions defaults;  // the constructor's options (precision and threads are fixed there)
  LoadedGenerator model;
  InferenceGenerator net;  // BN folded, pre-cast weights
  HoleMapping holes;       // how the model's windows meet the photo's holes

  // The generator on one square patch of any side (scaled to S and back):
  // patch CV_8UC3, hole_patch CV_8UC1 (non-zero = hole; the network fills
  // HoleMapping::window_hole of it). Returns the composited prediction,
  // CV_32FC3 in [0, 255], at the patch's size. For pre-filled models,
  // keep_fill uses the patch's own hole content (e.g. a coarse fill) as the pre-fill.
  cv::Mat predict(const InpaintOptions& opt, const cv::Mat& patch, const cv::Mat& hole_patch, bool keep_fill = false) const;

  // One window `rect` (image coordinates, may pass the border) around a hole;
  // pastes the prediction into the still-unfilled pixels of `cell`.
  void fill_window(const InpaintOptions& opt, cv::Mat& work, cv::Mat& remaining, const cv::Rect& rect,
                   const cv::Rect& cell) const;

  // Native-resolution, half-overlapping tiles over bb. Every tile sees the
  // same context (`work` as it is, whose hole already holds a smooth or coarse
  // fill that pre-filled models refine) and predicts its cell; predictions are
  // blended with a Hann window, so no tile seams show. Returns tiles run.
  int fill_tiles(const InpaintOptions& opt, cv::Mat& work, cv::Mat& remaining, const cv::Rect& bb) const;

  // The photo with its holes provisionally filled: push-pull, and Telea in the
  // fringe band that the model's windows show as context (fringe_band).
  cv::Mat provisional_fill(const InpaintOptions& opt, const cv::Mat& image, const cv::Mat& hole,
                           const HoleRegions& regions) const;
  // The resize strategy: the whole photo squeezed to the model size once; what
  // that fills is taken, the crop path fills the rest. Returns windows run (1).
  int fill_resized(const InpaintOptions& opt, cv::Mat& work, cv::Mat& remaining) const;
  // One hole region with bounding box bb: one window, or coarse-to-fine, or
  // tiles (full strategy). Returns windows run.
  int fill_region(const InpaintOptions& opt, cv::Mat& work, cv::Mat& remaining, const cv::Rect& bb) const;
};

Inpainter::Inpainter(const std::string& model_path, const InpaintOptions& opt) {
  opt.validate();
  set_threads(opt.threads);
  impl_ = std::make_unique<Impl>(model_path, opt);
}
Inpainter::~Inpainter() = default;
Inpainter::Inpainter(Inpainter&&) noexcept = default;

const ModelConfig& Inpainter::model_config() const { return impl_->model.config; }
const nlohmann::json& Inpainter::model_header() const { return impl_->model.header; }
cv::Mat Inpainter::photo_center_hole(int width, int height) const {
  return impl_->holes.photo_center_hole(width, height);
}

cv::Mat Inpainter::Impl::predict(const InpaintOptions& opt, const cv::Mat& patch, const cv::Mat& hole_patch, bool keep_fill) const {
  const int S = holes.side();
  torch::NoGradGuard no_grad;
  cv::Mat small = patch;
  const bool shrink = patch.cols > S;
  if (patch.cols != S) cv::resize(patch, small, cv::Size(S, S), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_CUBIC);
  const cv::Mat small_hole = holes.window_hole(hole_patch);  // [S, S] 0 / 255
  auto images = to_model_range(torch::from_blob(small.data, {1, S, S, 3}, torch::kUInt8).clone());
  auto hole_t = torch::from_blob(small_hole.data, {1, 1, S, S}, torch::kUInt8).gt(0).to(torch::kFloat32);
  torch::Tensor prefilled;
  if (holes.prefills()) {
    cv::Mat filled = keep_fill ? small : prefill_holes(small, small_hole, model.config.fill);
    prefilled = to_model_range(torch::from_blob(filled.data, {1, S, S, 3}, torch::kUInt8).clone());
  }
  auto generator = [&](const torch::Tensor& x) {
    auto pred = net.forward(x);  // [1, C, out, out]
    if (opt.flip_average) pred = 0.5 * (pred + net.forward(x.flip({3})).flip({3}));
    return pred;
  };
  auto out = holes.inpaint(generator, images, hole_t, prefilled);         // [1, C, S, S]
  auto rgb = out.add(1.0).mul(127.5).permute({0, 2, 3, 1}).contiguous();  // [1, S, S, C] in [0, 255]
  cv::Mat pred_small(S, S, CV_32FC3, rgb.data_ptr<float>()), pred_full;
  if (patch.cols == S) return pred_small.clone();
  cv::resize(pred_small, pred_full, patch.size(), 0, 0, shrink ? cv::INTER_CUBIC : cv::INTER_AREA);
  return pred_full;
}

void Inpainter::Impl::fill_window(const InpaintOptions& opt, cv::Mat& work, cv::Mat& remaining, const cv::Rect& rect,
                                  const cv::Rect& cell_in) const {
  const cv::Mat pred = predict(opt, crop_padded(work, rect), crop_padded(remaining, rect));
  const cv::Rect cell = cell_in & rect & cv::Rect(0, 0, work.cols, work.rows);
  for (int y = cell.y; y < cell.y + cell.height; ++y) {
    uchar* m = remaining.ptr<uchar>(y);
    cv::Vec3b* w = work.ptr<cv::Vec3b>(y);
    const cv::Vec3f* p = pred.ptr<cv::Vec3f>(y - rect.y);
    for (int x = cell.x; x < cell.x + cell.width; ++x) {
      if (!m[x]) continue;
      const cv::Vec3f& v = p[x - rect.x];
      for (int c = 0; c < 3; ++c) w[x][c] = cv::saturate_cast<uchar>(v[c]);
      m[x] = 0;
    }
  }
}

int Inpainter::Impl::fill_tiles(const InpaintOptions& opt, cv::Mat& work, cv::Mat& remaining, const cv::Rect& bb) const {
  const int S = holes.side(), c = holes.tile_cell(opt);
  const int stride = std::max(1, c / 2);
  // Hann weights over a cell: largest in its middle, small but non-zero at its edges.
  cv::Mat hann(c, c, CV_32FC1);
  for (int y = 0; y < c; ++y)
    for (int x = 0; x < c; ++x)
      hann.at<float>(y, x) = static_cast<float>(std::pow(std::sin(M_PI * (y + 0.5) / c), 2) *
                                                std::pow(std::sin(M_PI * (x + 0.5) / c), 2));
  const cv::Mat context = work.clone();
  cv::Mat acc = cv::Mat::zeros(bb.size(), CV_32FC3), wsum = cv::Mat::zeros(bb.size(), CV_32FC1);
  int tiles = 0;
  for (int y0 = bb.y - stride; y0 < bb.y + bb.height; y0 += stride)
    for (int x0 = bb.x - stride; x0 < bb.x + bb.width; x0 += stride) {
      const cv::Rect cell(x0, y0, c, c);
      const cv::Rect on_bb = cell & bb;
      if (on_bb.area() == 0 || cv::countNonZero(remaining(on_bb)) == 0) continue;
      const cv::Rect rect(x0 + c / 2 - S / 2, y0 + c / 2 - S / 2, S, S);
      cv::Mat hole_patch = crop_padded(remaining, rect), in_cell = cv::Mat::zeros(hole_patch.size(), CV_8UC1);
      in_cell(cv::Rect(cell.tl() - rect.tl(), cell.size())).setTo(255);
      const cv::Mat pred = predict(opt, crop_padded(context, rect), hole_patch & in_cell, /*keep_fill=*/true);
      ++tiles;
      for (int y = on_bb.y; y < on_bb.y + on_bb.height; ++y)
        for (int x = on_bb.x; x < on_bb.x + on_bb.width; ++x) {
          const float wt = hann.at<float>(y - cell.y, x - cell.x);
          acc.at<cv::Vec3f>(y - bb.y, x - bb.x) += wt * pred.at<cv::Vec3f>(y - rect.y, x - rect.x);
          wsum.at<float>(y - bb.y, x - bb.x) += wt;
        }
    }
  for (int y = bb.y; y < bb.y + bb.height; ++y)
    for (int x = bb.x; x < bb.x + bb.width; ++x) {
      const float wt = wsum.at<float>(y - bb.y, x - bb.x);
      if (!remaining.at<uchar>(y, x) || wt <= 0) continue;
      const cv::Vec3f v = acc.at<cv::Vec3f>(y - bb.y, x - bb.x) / wt;
      for (int k = 0; k < 3; ++k) work.at<cv::Vec3b>(y, x)[k] = cv::saturate_cast<uchar>(v[k]);
      remaining.at<uchar>(y, x) = 0;
    }
  return tiles;
}

cv::Mat Inpainter::Impl::provisional_fill(const InpaintOptions& opt, const cv::Mat& image, const cv::Mat& hole,
                                          const HoleRegions& regions) const {
  cv::Mat work = push_pull_fill(image, hole);
  int extent = 0;
  for (const cv::Rect& bb : regions.boxes) extent = std::max({extent, bb.width, bb.height});
  if (const int band = holes.fringe_band(extent, opt); band > 0) work = prefill_fringe(work, hole, band);
  return work;
}

int Inpainter::Impl::fill_resized(const InpaintOptions& opt, cv::Mat& work, cv::Mat& remaining) const {
  const int S = holes.side();
  cv::Mat small, small_hole;
  cv::resize(work, small, cv::Size(S, S), 0, 0, cv::INTER_AREA);
  cv::resize(remaining, small_hole, cv::Size(S, S), 0, 0, cv::INTER_AREA);
  cv::Mat small_remaining = small_hole > 0;
  fill_window(opt, small, small_remaining, cv::Rect(0, 0, S, S), cv::Rect(0, 0, S, S));
  cv::Mat big;
  cv::resize(small, big, work.size(), 0, 0, cv::INTER_CUBIC);
  cv::Mat filled_small = (small_hole > 0) & (small_remaining == 0), filled_big;
  cv::resize(filled_small, filled_big, work.size(), 0, 0, cv::INTER_NEAREST);
  cv::Mat take = filled_big & remaining;
  big.copyTo(work, take);
  remaining.setTo(0, take);
  return 1;
}

int Inpainter::Impl::fill_region(const InpaintOptions& opt, cv::Mat& work, cv::Mat& remaining, const cv::Rect& bb) const {
  if (cv::countNonZero(remaining(bb)) == 0) return 0;
  if (opt.strategy == InpaintStrategy::Full) return fill_tiles(opt, work, remaining, bb);  // native resolution
  const cv::Rect win = holes.window_for_hole(bb, work.size(), opt);
  if (!holes.refines_in_tiles(win)) {
    fill_window(opt, work, remaining, win, bb);
    return 1;
  }
  // Coarse-to-fine: a window shrunk by more than 2x loses detail. Fill the
  // hole at that reduced resolution first, then redo it at native resolution
  // in overlapping tiles that refine the coarse fill.
  cv::Mat coarse_remaining = remaining.clone();  // the tiles still see the coarse fill as hole
  fill_window(opt, work, coarse_remaining, win, bb);
  return 1 + fill_tiles(opt, work, remaining, bb);
}

std::vector<float> Inpainter::generator_forward(const std::vector<float>& input, int batch) const {
  const ModelConfig& c = impl_->model.config;
  const int64_t in_ch = c.channels + (c.mask_channel ? 1 : 0), s = c.image_size;
  if (batch < 1 || input.size() != static_cast<size_t>(batch * in_ch * s * s))
    throw InputError("generator_forward: expected " + std::to_string(batch) + " x " + std::to_string(in_ch) + " x " +
                     std::to_string(s) + " x " + std::to_string(s) + " values, got " + std::to_string(input.size()));
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::from_blob(const_cast<float*>(input.data()), {batch, in_ch, s, s}, torch::kFloat32).clone();
  torch::Tensor y = impl_->net.forward(x).to(torch::kFloat32).contiguous();
  return std::vector<float>(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
}

cv::Mat Inpainter::inpaint(const cv::Mat& image, const cv::Mat& mask, InpaintReport* report) const {
  return inpaint(image, mask, impl_->defaults, report);
}

cv::Mat Inpainter::inpaint(const cv::Mat& image, const cv::Mat& mask, const InpaintOptions& opt,
                           InpaintReport* report) const {
  opt.validate();
  if (opt.precision != impl_->defaults.precision)
    throw UsageError(std::string("this model was loaded for precision ") + to_string(impl_->defaults.precision) +
                     ", not " + to_string(opt.precision));
  if (image.empty() || image.type() != CV_8UC3) throw InputError("inpaint expects an 8-bit RGB image");
  if (image.cols < 8 || image.rows < 8)
    throw InputError("image is " + std::to_string(image.cols) + "x" + std::to_string(image.rows) +
                     "; at least 8x8 pixels are needed for context");
  if (mask.size() != image.size()) throw InputError("mask and image sizes differ");
  const cv::Mat hole = mask > 0;
  InpaintReport rep;
  rep.hole_ratio = static_cast<double>(cv::countNonZero(hole)) / static_cast<double>(hole.total());
  if (rep.hole_ratio == 1.0) throw InputError("the mask covers the whole image; there is no context to inpaint from");
  cv::Mat out = image.clone();
  if (rep.hole_ratio > 0.0) {
    const HoleRegions regions = find_hole_regions(hole);
    rep.holes = static_cast<int>(regions.boxes.size());
    cv::Mat work = impl_->provisional_fill(opt, image, hole, regions), remaining = hole.clone();
    if (opt.strategy == InpaintStrategy::Resize) rep.windows += impl_->fill_resized(opt, work, remaining);
    for (const cv::Rect& bb : regions.boxes) rep.windows += impl_->fill_region(opt, work, remaining, bb);
    blend_holes(opt.blend, image, work, hole, regions).copyTo(out, hole);  // known pixels stay the input's
  }
  if (report) *report = rep;
  return out;
}

}  // namespace ctxenc

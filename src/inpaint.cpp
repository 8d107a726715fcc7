// inpaint.cpp — filling arbitrary holes in photos of any size with a trained
// generator: hole regions -> model-size windows (crop / resize / full-tile
// strategies, coarse-to-fine for large holes), then seam blending.
#include "ctxenc/inpaint.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

#include "ctxenc/checkpoint.h"
#include "ctxenc/errors.h"
#include "ctxenc/holes.h"
#include "ctxenc/image_io.h"
#include "ctxenc/inference.h"
#include "ctxenc/prefill.h"

namespace ctxenc {
namespace {

cv::Mat merge3(const cv::Mat& c) {
  cv::Mat out;
  cv::merge(std::vector<cv::Mat>{c, c, c}, out);
  return out;
}

// Smooth provisional fill of hole pixels (push-pull over an image pyramid), so
// hole content never leaks into a window's context before the model fills it.
// The fill is smooth, so big photos are filled at <= 1024 px and scaled back:
// a 4000x3000 photo then needs ~20 MB here instead of ~600 MB.
cv::Mat push_pull_fill(const cv::Mat& rgb, const cv::Mat& hole) {
  // Level 0: colours premultiplied by a known-weight (1 known, 0 hole).
  cv::Mat w, v0;
  cv::Mat(hole == 0).convertTo(w, CV_32FC1, 1.0 / 255.0);
  rgb.convertTo(v0, CV_32FC3);
  v0 = v0.mul(merge3(w));
  const double scale = std::min(1.0, 1024.0 / std::max(rgb.cols, rgb.rows));
  if (scale < 1.0) {
    const cv::Size small(std::max(1, static_cast<int>(rgb.cols * scale)),
                         std::max(1, static_cast<int>(rgb.rows * scale)));
    cv::resize(v0, v0, small, 0, 0, cv::INTER_AREA);
    cv::resize(w, w, small, 0, 0, cv::INTER_AREA);
  }
  std::vector<cv::Mat> vals{v0}, weights{w};
  // Push: halve until 1x1, averaging premultiplied colours and weights.
  while (vals.back().cols > 1 || vals.back().rows > 1) {
    cv::Mat v, ww;
    const cv::Size half((vals.back().cols + 1) / 2, (vals.back().rows + 1) / 2);
    cv::resize(vals.back(), v, half, 0, 0, cv::INTER_AREA);
    cv::resize(weights.back(), ww, half, 0, 0, cv::INTER_AREA);
    vals.push_back(v);
    weights.push_back(ww);
  }
  // Pull: coarse to fine, top up each level's missing weight from the level above.
  cv::Mat up_v = vals.back(), up_w = weights.back();
  for (int l = static_cast<int>(vals.size()) - 2; l >= 0; --l) {
    cv::Mat coarse_v, coarse_w;
    cv::resize(up_v, coarse_v, vals[l].size(), 0, 0, cv::INTER_LINEAR);
    cv::resize(up_w, coarse_w, vals[l].size(), 0, 0, cv::INTER_LINEAR);
    const cv::Mat missing = 1.0 - cv::min(weights[l], 1.0);
    up_v = vals[l] + coarse_v.mul(merge3(missing));
    up_w = weights[l] + coarse_w.mul(missing);
  }
  cv::Mat filled = up_v / merge3(cv::max(up_w, 1e-6)), filled8;
  if (filled.size() != rgb.size()) cv::resize(filled, filled, rgb.size(), 0, 0, cv::INTER_LINEAR);
  filled.convertTo(filled8, CV_8UC3);
  cv::Mat out = rgb.clone();
  filled8.copyTo(out, hole);
  return out;
}

// Feather on one hole's neighbourhood: the colour step between each border
// hole pixel and the mean of its known neighbours is spread smoothly into the
// hole (normalised Gaussian) and fades out linearly over `band` px from the
// known pixels. `known` (255 = a real pixel of the image) excludes every hole
// and whatever lies past the image border, so a reflected hole never counts.
cv::Mat feather_patch(const cv::Mat& original, const cv::Mat& filled, const cv::Mat& hole, const cv::Mat& known) {
  cv::Mat dil, dist, of, ff, kf;
  cv::dilate(known, dil, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
  const cv::Mat inner_border = dil & hole;
  cv::distanceTransform(known == 0, dist, cv::DIST_L2, 3);  // distance to the nearest known pixel
  original.convertTo(of, CV_32FC3);
  filled.convertTo(ff, CV_32FC3);
  known.convertTo(kf, CV_32FC1, 1.0 / 255.0);
  cv::Mat nb_sum, nb_cnt;
  cv::blur(of.mul(merge3(kf)), nb_sum, cv::Size(3, 3));
  cv::blur(kf, nb_cnt, cv::Size(3, 3));
  const cv::Mat neighbour_mean = nb_sum / cv::max(merge3(nb_cnt), 1e-6);
  cv::Mat step = cv::Mat::zeros(of.size(), CV_32FC3), bf;
  cv::Mat(neighbour_mean - ff).copyTo(step, inner_border);
  inner_border.convertTo(bf, CV_32FC1, 1.0 / 255.0);
  double max_d = 0;
  cv::minMaxLoc(dist, nullptr, &max_d, nullptr, nullptr, hole);
  const double band = std::clamp(max_d * 0.5, 2.0, 24.0);
  const int k = 2 * static_cast<int>(std::ceil(band)) + 1;
  cv::Mat step_s, w_s;
  cv::GaussianBlur(step, step_s, cv::Size(k, k), band / 2);
  cv::GaussianBlur(bf, w_s, cv::Size(k, k), band / 2);
  const cv::Mat offset = step_s / cv::max(merge3(w_s), 1e-6);
  const cv::Mat alpha = cv::max(1.0 - dist / band, 0.0);
  cv::Mat res = ff + offset.mul(merge3(alpha)), res8;
  res.convertTo(res8, CV_8UC3);
  return res8;
}

// Poisson (OpenCV seamlessClone, as GLCIC post-processes) on one hole's
// neighbourhood. The source is the fill with its hole content carried
// kPoissonRing px out over the known pixels (each ring pixel: the mean of its
// neighbours already in the region), so that the guidance field holds the
// fill's own gradients and no step at the seam; seamlessClone erodes its mask
// by 3 px before taking the source's gradients, hence a ring of 4. The known
// pixels around the ring are the boundary, and the solve spreads the colour
// step at the seam smoothly over the hole. The caller copies back only hole
// pixels; the hole must stay clear of the patch border (the caller's margin).
constexpr int kPoissonRing = 4;
cv::Mat poisson_patch(const cv::Mat& filled, const cv::Mat& hole) {
  cv::Mat src, region = hole.clone();
  filled.convertTo(src, CV_32FC3);
  for (int ring = 0; ring < kPoissonRing; ++ring) {
    cv::Mat rf, sum, cnt, grown;
    region.convertTo(rf, CV_32FC1, 1.0 / 255.0);
    cv::blur(src.mul(merge3(rf)), sum, cv::Size(3, 3));
    cv::blur(rf, cnt, cv::Size(3, 3));
    cv::dilate(region, grown, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
    const cv::Mat extended = sum / cv::max(merge3(cnt), 1e-6);
    extended.copyTo(src, grown & ~region);
    region = grown;
  }
  cv::Mat src8;
  src.convertTo(src8, CV_8UC3);
  const cv::Rect bb = cv::boundingRect(region);
  // OpenCV centres the mask's bounding box at p, computing the centre as
  // min + (max - min) / 2 on inclusive bounds; this p keeps it in place.
  const cv::Point p(bb.x + (bb.width - 1) / 2, bb.y + (bb.height - 1) / 2);
  cv::Mat out;
  cv::seamlessClone(src8, filled, region, p, out, cv::NORMAL_CLONE);
  return out;
}

}  // namespace

const char* to_string(InpaintStrategy s) {
  return s == InpaintStrategy::Crop ? "crop" : s == InpaintStrategy::Resize ? "resize" : "full";
}
const char* to_string(Blend b) { return b == Blend::None ? "none" : b == Blend::Feather ? "feather" : "poisson"; }
InpaintStrategy parse_strategy(const std::string& s) {
  if (s == "crop") return InpaintStrategy::Crop;
  if (s == "resize") return InpaintStrategy::Resize;
  if (s == "full") return InpaintStrategy::Full;
  throw UsageError("unknown strategy '" + s + "' (expected crop|resize|full)");
}
Blend parse_blend(const std::string& s) {
  if (s == "none") return Blend::None;
  if (s == "feather") return Blend::Feather;
  if (s == "poisson") return Blend::Poisson;
  throw UsageError("unknown blend '" + s + "' (expected none|feather|poisson)");
}

struct Inpainter::Impl {
  InpaintOptions opt;
  LoadedGenerator model;
  std::unique_ptr<InferenceGenerator> net;  // BN folded, pre-cast weights
  int S = 0;          // model input side
  int hole_side = 0;  // side of the square the model can fill (center model: S/2 - 2*overlap)
  cv::Mat center_square;  // center model: its hole as an S x S mask, what its pre-fill fills

  // The generator on one square patch of any side (scaled to S and back):
  // patch CV_8UC3, hole_patch CV_8UC1 (non-zero = hole; ignored by the center
  // model, whose hole is fixed). Returns the composited prediction, CV_32FC3
  // in [0, 255], at the patch's size. For pre-filled models, keep_fill uses the
  // patch's own hole content (e.g. a coarse fill) as the pre-fill.
  cv::Mat predict(const cv::Mat& patch, const cv::Mat& hole_patch, bool keep_fill = false) const;

  // One window `rect` (image coordinates, may pass the border) around a hole;
  // pastes the prediction into the still-unfilled pixels of `cell`.
  void fill_window(cv::Mat& work, cv::Mat& remaining, const cv::Rect& rect, const cv::Rect& cell) const;

  // Native-resolution, half-overlapping tiles over bb. Every tile sees the
  // same context (`work` as it is, whose hole already holds a smooth or coarse
  // fill that pre-filled models refine) and predicts its cell; predictions are
  // blended with a Hann window, so no tile seams show. Returns tiles run.
  int fill_tiles(cv::Mat& work, cv::Mat& remaining, const cv::Rect& bb) const;

  cv::Mat blend(const cv::Mat& original, const cv::Mat& filled, const cv::Mat& hole) const;
};

Inpainter::Inpainter(const std::string& model_path, const InpaintOptions& opt) : impl_(std::make_unique<Impl>()) {
  if (opt.context < 1.2) throw UsageError("--context must be >= 1.2");
  if (!(opt.center_fit >= 0.8 && opt.center_fit <= 1.5)) throw UsageError("--center-fit must be in [0.8, 1.5]");
  set_threads(opt.threads);
  impl_->opt = opt;
  impl_->model = load_generator(model_path);
  impl_->net = std::make_unique<InferenceGenerator>(*impl_->model.generator, opt.precision);
  const ModelConfig& mc = impl_->model.config;
  impl_->S = mc.image_size;
  impl_->hole_side = mc.output == OutputRegion::Center ? mc.output_size() - 2 * mc.overlap : mc.image_size;
  if (mc.output == OutputRegion::Center) impl_->center_square = center_hole_mask(mc);
}
Inpainter::~Inpainter() = default;
Inpainter::Inpainter(Inpainter&&) noexcept = default;

const ModelConfig& Inpainter::model_config() const { return impl_->model.config; }
const nlohmann::json& Inpainter::model_header() const { return impl_->model.header; }

cv::Mat Inpainter::center_mask(int width, int height) const {
  // The model's own hole scaled to the image: central square of side hole_side/S.
  cv::Mat m = cv::Mat::zeros(height, width, CV_8UC1);
  const double f = static_cast<double>(impl_->model.config.output == OutputRegion::Center ? impl_->hole_side
                                                                                          : impl_->S / 2) /
                   impl_->S;
  const int w = std::max(1, static_cast<int>(std::lround(width * f)));
  const int h = std::max(1, static_cast<int>(std::lround(height * f)));
  m(cv::Rect((width - w) / 2, (height - h) / 2, w, h)).setTo(255);
  return m;
}

cv::Mat Inpainter::Impl::predict(const cv::Mat& patch, const cv::Mat& hole_patch, bool keep_fill) const {
  const ModelConfig& mc = model.config;
  torch::NoGradGuard no_grad;
  cv::Mat small = patch, small_hole = hole_patch;
  const bool shrink = patch.cols > S;
  if (patch.cols != S) {
    cv::resize(patch, small, cv::Size(S, S), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_CUBIC);
    // A model pixel is hole if any image pixel under it is (area > 0).
    cv::resize(hole_patch, small_hole, cv::Size(S, S), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_NEAREST);
  }
  small_hole = small_hole > 0;
  auto images = to_model_range(torch::from_blob(small.data, {1, S, S, 3}, torch::kUInt8).clone());
  auto holes = torch::from_blob(small_hole.data, {1, 1, S, S}, torch::kUInt8).gt(0).to(torch::kFloat32);
  if (mc.output == OutputRegion::Center) holes = center_hole(mc);
  torch::Tensor prefilled;
  if (mc.fill != HoleFill::Mean) {
    // A center model was trained on the pre-fill of its whole square.
    const cv::Mat& fill_hole = mc.output == OutputRegion::Center ? center_square : small_hole;
    cv::Mat filled = keep_fill ? small : prefill_holes(small, fill_hole, mc.fill);
    prefilled = to_model_range(torch::from_blob(filled.data, {1, S, S, 3}, torch::kUInt8).clone());
  }
  auto x = generator_input(mc, images, holes, prefilled);
  auto pred = net->forward(x);  // [1, C, out, out]
  if (opt.flip_average) pred = 0.5 * (pred + net->forward(x.flip({3})).flip({3}));
  auto out = composite(mc, images, holes, pred);                          // [1, C, S, S]
  auto rgb = out.add(1.0).mul(127.5).permute({0, 2, 3, 1}).contiguous();  // [1, S, S, C] in [0, 255]
  cv::Mat pred_small(S, S, CV_32FC3, rgb.data_ptr<float>()), pred_full;
  if (patch.cols == S) return pred_small.clone();
  cv::resize(pred_small, pred_full, patch.size(), 0, 0, shrink ? cv::INTER_CUBIC : cv::INTER_AREA);
  return pred_full;
}

void Inpainter::Impl::fill_window(cv::Mat& work, cv::Mat& remaining, const cv::Rect& rect,
                                  const cv::Rect& cell_in) const {
  const cv::Mat pred = predict(crop_padded(work, rect), crop_padded(remaining, rect));
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

int Inpainter::Impl::fill_tiles(cv::Mat& work, cv::Mat& remaining, const cv::Rect& bb) const {
  const int c = std::max(2, model.config.output == OutputRegion::Center ? hole_side
                                                                        : static_cast<int>(S / opt.context));
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
      const cv::Mat pred = predict(crop_padded(context, rect), hole_patch & in_cell, /*keep_fill=*/true);
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

cv::Mat Inpainter::Impl::blend(const cv::Mat& original, const cv::Mat& filled, const cv::Mat& hole) const {
  if (opt.blend == Blend::None) return filled;
  // Each hole is blended in its own neighbourhood, so the cost follows the
  // holes, not the image (a 4000x3000 photo with three holes stays cheap).
  cv::Mat out = filled.clone(), labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(hole, labels, stats, centroids, 8, CV_32S);
  const cv::Mat known_all = hole == 0;
  for (int i = 1; i < n; ++i) {
    const cv::Rect bb(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                      stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
    const int margin = opt.blend == Blend::Feather ? 28 : 2 * kPoissonRing;  // > feather band / Poisson ring
    const cv::Rect roi(bb.x - margin, bb.y - margin, bb.width + 2 * margin, bb.height + 2 * margin);
    const cv::Mat this_hole = crop_padded(labels, roi, /*reflect=*/false) == i;
    const cv::Mat known = crop_padded(known_all, roi, /*reflect=*/false);  // 0 past the border
    const cv::Mat f = crop_padded(filled, roi);
    // Poisson's boundary comes from its destination: the filled image, whose
    // reflection past the border holds fill, never a mirrored hole.
    const cv::Mat res = opt.blend == Blend::Feather ? feather_patch(crop_padded(original, roi), f, this_hole, known)
                                                    : poisson_patch(f, this_hole);
    const cv::Rect in = roi & cv::Rect(0, 0, out.cols, out.rows);
    const cv::Rect local(in.tl() - roi.tl(), in.size());
    res(local).copyTo(out(in), this_hole(local));
  }
  return out;
}

cv::Mat Inpainter::inpaint(const cv::Mat& image, const cv::Mat& mask_in, InpaintReport* report) const {
  const Impl& I = *impl_;
  if (image.empty() || image.type() != CV_8UC3) throw InputError("inpaint expects an 8-bit RGB image");
  if (image.cols < 8 || image.rows < 8)
    throw InputError("image is " + std::to_string(image.cols) + "x" + std::to_string(image.rows) +
                     "; at least 8x8 pixels are needed for context");
  if (mask_in.size() != image.size()) throw InputError("mask and image sizes differ");
  cv::Mat hole = mask_in > 0;
  const double ratio = static_cast<double>(cv::countNonZero(hole)) / static_cast<double>(hole.total());
  InpaintReport rep;
  rep.hole_ratio = ratio;
  if (ratio == 0.0) {
    if (report) *report = rep;
    return image.clone();
  }
  if (ratio == 1.0) throw InputError("the mask covers the whole image; there is no context to inpaint from");

  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(hole, labels, stats, centroids, 8, CV_32S);
  rep.holes = n - 1;
  const int S = I.S;
  const bool center = I.model.config.output == OutputRegion::Center;
  const double center_scale = static_cast<double>(S) / I.hole_side * I.opt.center_fit;  // window / hole box

  cv::Mat work = push_pull_fill(image, hole);
  if (center && I.opt.strategy == InpaintStrategy::Crop) {
    // The center model's window shows it the hole's outer fringe as context
    // (center_fit < 1: the box overhangs its square) and, through resampling,
    // ~2 model pixels more; Telea fills that band better than push-pull. The
    // band reaches 7 px deeper than that fringe (the setting chosen on the
    // training photos, docs/training.md); see prefill.h for how near Telea's
    // fill of the whole hole that leaves the fringe.
    int extent = 0;
    for (int i = 1; i < n; ++i)
      extent = std::max({extent, stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT)});
    const double overhang = std::max(0.0, 1.0 / I.opt.center_fit - 1.0) / 2.0 + 2.0 / (S / center_scale);
    work = prefill_fringe(work, hole, /*band=*/5 + 2 + static_cast<int>(std::ceil(extent * overhang)));
  }
  cv::Mat remaining = hole.clone();

  // Square window of side `side` centred on rect r's centre.
  auto window_around = [](const cv::Rect& r, int side) {
    const int cx = r.x + r.width / 2, cy = r.y + r.height / 2;
    return cv::Rect(cx - side / 2, cy - side / 2, side, side);
  };

  if (I.opt.strategy == InpaintStrategy::Resize) {
    // Whole image squeezed to the model size once; then the crop path for any
    // hole the center model cannot reach from there.
    cv::Mat small, small_hole;
    cv::resize(work, small, cv::Size(S, S), 0, 0, cv::INTER_AREA);
    cv::resize(remaining, small_hole, cv::Size(S, S), 0, 0, cv::INTER_AREA);
    cv::Mat small_remaining = small_hole > 0;
    I.fill_window(small, small_remaining, cv::Rect(0, 0, S, S), cv::Rect(0, 0, S, S));
    ++rep.windows;
    cv::Mat big;
    cv::resize(small, big, image.size(), 0, 0, cv::INTER_CUBIC);
    cv::Mat filled_small = (small_hole > 0) & (small_remaining == 0), filled_big;
    cv::resize(filled_small, filled_big, image.size(), 0, 0, cv::INTER_NEAREST);
    cv::Mat take = filled_big & remaining;
    big.copyTo(work, take);
    remaining.setTo(0, take);
  }
  for (int i = 1; i < n; ++i) {
    cv::Rect bb(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
    if (cv::countNonZero(remaining(bb)) == 0) continue;
    if (I.opt.strategy == InpaintStrategy::Full) {  // native resolution, push-pull context
      rep.windows += I.fill_tiles(work, remaining, bb);
      continue;
    }
    // One window in which the hole's box fills 1/context of the side (full
    // model) or fits the center model's hole square; never below model size.
    const int extent = std::max(bb.width, bb.height);
    const double scale = center ? center_scale : I.opt.context;
    int side = std::max(S, static_cast<int>(std::ceil(extent * scale)));
    cv::Rect win = window_around(bb, side);
    if (I.model.config.output == OutputRegion::Full) {
      // A full-image model gains nothing from reflected context: never use a
      // window larger than the image, and slide it inside the image.
      side = std::min(side, std::max(S, std::max(image.cols, image.rows)));
      win = window_around(bb, side);
      auto slide = [](int pos, int len, int limit) {
        return len <= limit ? std::clamp(pos, 0, limit - len) : (limit - len) / 2;
      };
      win.x = slide(win.x, side, image.cols);
      win.y = slide(win.y, side, image.rows);
    }
    // Coarse-to-fine: a window shrunk by more than 2x loses detail. Fill the
    // hole at that reduced resolution first, then redo it at native resolution
    // in overlapping tiles that refine the coarse fill. Only a pre-filled
    // full-image model refines what its hole holds; a mean-filled one would
    // see nothing of the coarse fill in its cell and paint a texture over it,
    // and a center model re-fills its whole square, so their one window is final.
    if (side <= 2 * S || I.model.config.fill == HoleFill::Mean || I.model.config.output == OutputRegion::Center) {
      I.fill_window(work, remaining, win, bb);
      ++rep.windows;
      continue;
    }
    cv::Mat coarse_remaining = remaining.clone();  // the tiles still see the coarse fill as hole
    I.fill_window(work, coarse_remaining, win, bb);
    rep.windows += 1 + I.fill_tiles(work, remaining, bb);
  }
  cv::Mat blended = I.blend(image, work, hole);
  cv::Mat out = image.clone();
  blended.copyTo(out, hole);  // known pixels stay the input's, bit for bit
  if (report) *report = rep;
  return out;
}

}  // namespace ctxenc

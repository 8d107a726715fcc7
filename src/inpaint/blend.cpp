// blend.cpp — hole regions, the push-pull provisional fill, and feather and
// Poisson seam blending per hole.
#include "inpaint/blend.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

#include "io/crop.h"

namespace ctxenc {
namespace {

cv::Mat merge3(const cv::Mat& c) {
  cv::Mat out;
  cv::merge(std::vector<cv::Mat>{c, c, c}, out);
  return out;
}

}  // namespace

// The fill is smooth, so it is computed at <= 1024 px.
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

namespace {

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

HoleRegions find_hole_regions(const cv::Mat& hole) {
  HoleRegions r;
  cv::Mat stats, centroids;
  const int n = cv::connectedComponentsWithStats(hole, r.labels, stats, centroids, 8, CV_32S);
  for (int i = 1; i < n; ++i)
    r.boxes.emplace_back(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                         stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
  return r;
}

cv::Mat blend_holes(Blend blend, const cv::Mat& original, const cv::Mat& filled, const cv::Mat& hole,
                    const HoleRegions& regions) {
  if (blend == Blend::None) return filled;
  cv::Mat out = filled.clone();
  const cv::Mat known_all = hole == 0;
  const int margin = blend == Blend::Feather ? 28 : 2 * kPoissonRing;  // > feather band / Poisson ring
  for (size_t k = 0; k < regions.boxes.size(); ++k) {
    const int label = static_cast<int>(k) + 1;
    const cv::Rect& bb = regions.boxes[k];
    const cv::Rect roi(bb.x - margin, bb.y - margin, bb.width + 2 * margin, bb.height + 2 * margin);
    const cv::Mat this_hole = crop_padded(regions.labels, roi, /*reflect=*/false) == label;
    const cv::Mat known = crop_padded(known_all, roi, /*reflect=*/false);  // 0 past the border
    const cv::Mat f = crop_padded(filled, roi);
    // Poisson's boundary comes from its destination: the filled image, whose
    // reflection past the border holds fill, never a mirrored hole.
    const cv::Mat res = blend == Blend::Feather ? feather_patch(crop_padded(original, roi), f, this_hole, known)
                                                : poisson_patch(f, this_hole);
    const cv::Rect in = roi & cv::Rect(0, 0, out.cols, out.rows);
    const cv::Rect local(in.tl() - roi.tl(), in.size());
    res(local).copyTo(out(in), this_hole(local));
  }
  return out;
}

}  // namespace ctxenc

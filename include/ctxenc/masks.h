// ctxenc/masks.h — hole-mask strategies: the paper's central region, random
// blocks and random regions, plus DeepFill-v2-style free-form strokes.
// Every generator is a pure function of (config, size, seed), so masks are
// reproducible per sample. Masks are CV_8UC1, 255 = hole, 0 = known.
#pragma once
#include <cstdint>
#include <string>

#include <opencv2/core.hpp>

#include "ctxenc/config.h"

namespace ctxenc {

// center:        the central rectangle covering hole_ratio (64x64 of 128x128 at 0.25).
// random-block:  overlapping rectangles at random positions until hole_ratio is
//                reached; the last one is shrunk so the ratio lands on target.
// random-region: smooth noise (uniform noise on a coarse grid, bicubic upscale)
//                thresholded at its own quantile, so each mask covers exactly a
//                ratio drawn from U[hole_ratio - spread, hole_ratio + spread].
// free-form:     brush strokes (random angles, lengths, widths) until hole_ratio
//                is reached; the last segment is shortened to land on target.
// mixed:         each mask is random-block, random-region or free-form, chosen
//                by its seed (for models that must handle any user mask).
cv::Mat generate_mask(const MaskConfig& cfg, int width, int height, uint64_t seed);

// Fraction of non-zero pixels.
double hole_ratio(const cv::Mat& mask);

// A mask as a user names it: "center" (the model's own hole, see
// Inpainter::photo_center_hole), "rect:x,y,w,h" (image pixels), or a mask file.
struct MaskSpec {
  enum class Kind { Center, Rect, File };
  Kind kind = Kind::File;
  cv::Rect rect;     // Kind::Rect, as given: it may reach past the image
  std::string path;  // Kind::File
};
// Throws UsageError for a rect that is not four integers with w, h > 0.
MaskSpec parse_mask_spec(const std::string& spec);
// The part of r inside a width x height image as a mask; throws UsageError
// when nothing of r is inside.
cv::Mat rect_mask(const cv::Rect& r, int width, int height);
// A mask file's mask fitted to an image: as it is at the image's size; resized
// nearest-neighbour when only its resolution differs (within 2 % in aspect),
// with *resized set; InputError when its shape differs (probably another
// image's mask). `name` names it in the message.
cv::Mat fit_mask(const cv::Mat& mask, cv::Size image, const std::string& name, bool* resized = nullptr);

// Deterministic 64-bit mixing of a seed with up to three indices (SplitMix64).
uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0);

}  // namespace ctxenc

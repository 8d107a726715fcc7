// model/hole_mapping.h — internal: the one owner of how a model meets holes.
//
// A model's config decides which pixels its network fills, what it sees there,
// which part of the image it predicts and how that goes back into the image:
//   * a center model (OutputRegion::Center, the paper's main setting) always
//     fills its own central square of S/2 - 2*overlap px (56 of 128), whatever
//     holes it is given, and predicts the central S/2 patch around it;
//   * a full-output model fills exactly the holes it is given and predicts the
//     whole S x S image.
// The trainer, the loader, the inpainter, BatchNorm recalibration and the bench
// ask this class; none of them asks which kind of model it runs. A new encoder
// or output layout changes this file and ModelConfig, not its callers.
//
// Conventions: images [B, C, S, S] float in [-1, 1]; holes [B, 1, S, S] float,
// 1 = hole; predictions [B, C, out, out]; cv masks CV_8UC1, 255 = hole.
#pragma once
#include <functional>

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "ctxenc/config.h"
#include "ctxenc/inpaint.h"

namespace ctxenc {

// A generator as HoleMapping runs it: input [B, C(+1), S, S] -> prediction [B, C, out, out].
using GeneratorFn = std::function<torch::Tensor(const torch::Tensor&)>;

class HoleMapping {
 public:
  explicit HoleMapping(const ModelConfig& cfg);

  const ModelConfig& config() const { return cfg_; }
  int side() const { return cfg_.image_size; }  // S, the network's input side
  // Whether the network sees a pre-fill in its holes (HoleFill::Telea) that
  // input() takes as `prefilled`, rather than the mean colour.
  bool prefills() const { return cfg_.fill != HoleFill::Mean; }

  // ---- which pixels the network fills ---------------------------------------
  // The masks a training run of this model draws, as its config records them:
  // a center model trains on its own square alone (recorded as kind center).
  MaskConfig training_masks(const MaskConfig& requested) const;
  // The hole of one S x S training sample: the center model's square, or a
  // mask drawn from `masks` with `seed`.
  cv::Mat sample_hole(const MaskConfig& masks, uint64_t seed) const;
  // The S x S hole the network fills in a window whose holes are `hole` (any
  // side, non-zero = hole): the center model's square, or `hole` resized, a
  // model pixel being hole if any window pixel under it is.
  cv::Mat window_hole(const cv::Mat& hole) const;
  // The same for tensors: [B, 1, S, S] -> the holes the network fills.
  torch::Tensor network_holes(const torch::Tensor& holes) const;

  // ---- what the network sees, and what goes back --------------------------------
  // Every function below first maps `holes` through network_holes.
  // Hole pixels replaced by the fill (the mean colour, or with HoleFill::Telea
  // the matching pixels of `prefilled`, [B, C, S, S]); known pixels (the
  // overlap ring included) stay real; the hole appended as a channel when the
  // config asks. -> [B, C(+1), S, S], channels_last
  torch::Tensor input(const torch::Tensor& images, const torch::Tensor& holes,
                      const torch::Tensor& prefilled = {}) const;
  // What a prediction is compared with: the output region of images.
  torch::Tensor target(const torch::Tensor& images) const;  // [B, C, out, out]
  // The prediction pasted into the hole pixels; every known pixel comes from
  // images unchanged. -> [B, C, S, S]
  torch::Tensor composite(const torch::Tensor& images, const torch::Tensor& holes,
                          const torch::Tensor& prediction) const;
  // g on input(...): the raw prediction [B, C, out, out].
  torch::Tensor predict(const GeneratorFn& g, const torch::Tensor& images, const torch::Tensor& holes,
                        const torch::Tensor& prefilled = {}) const;
  // g on a batch, composited: [B, C, S, S].
  torch::Tensor inpaint(const GeneratorFn& g, const torch::Tensor& images, const torch::Tensor& holes,
                        const torch::Tensor& prefilled = {}) const;

  // ---- losses ------------------------------------------------------------------
  // The holes in output-region coordinates, [B or 1, 1, out, out].
  torch::Tensor holes_in_output(const torch::Tensor& holes) const;
  // Per-pixel reconstruction weights in output-region coordinates, [B, 1, out, out]:
  //   1 on hole pixels;
  //   overlap_weight on the overlap ring (center model: output region minus hole);
  //   0 on every other known pixel (full-output model).
  torch::Tensor reconstruction_weights(const torch::Tensor& holes, double overlap_weight) const;
  // What the discriminator judges: the predicted region (center model: the raw
  // prediction, as the released code does; full output: composited), or with
  // global_discriminator the whole composited image; and the real counterpart.
  torch::Tensor discriminator_fake(const torch::Tensor& images, const torch::Tensor& holes,
                                   const torch::Tensor& prediction) const;
  torch::Tensor discriminator_real(const torch::Tensor& images) const;

  // ---- photos: holes of any size onto model windows (image pixels) --------------
  // The model's own hole scaled to a width x height photo (`--mask center`):
  // the central rectangle whose sides are the fraction of the photo's sides
  // that the model's fillable square is of S (a full-output model: S/2 of S).
  cv::Mat photo_center_hole(int width, int height) const;
  // The square window (it may pass the photo's border) that frames one hole
  // whose bounding box is `box` in an `image`-sized photo: the box fills
  // 1/context of it (full-output model; never larger than the photo, and slid
  // inside it), or fits the center model's square (scaled by center_fit).
  // Never below S.
  cv::Rect window_for_hole(const cv::Rect& box, cv::Size image, const InpaintOptions& opt) const;
  // Width in px of the band of hole pixels next to the known ones that Telea
  // pre-fills before the windows run, for holes whose largest box side is
  // `extent`: what a center model's window shows as context (center_fit < 1)
  // plus ~2 model pixels of resampling and 7 px more. 0 = no such band.
  int fringe_band(int extent, const InpaintOptions& opt) const;
  // Whether a window this large is filled coarse-to-fine: at its reduced
  // resolution first, then refined at native resolution in tiles. Only a
  // pre-filled full-output model refines what its hole holds, and only a window
  // shrunk by more than 2x loses enough detail to need it.
  bool refines_in_tiles(const cv::Rect& window) const;
  // The side of the cell that each native-resolution tile fills.
  int tile_cell(const InpaintOptions& opt) const;

 private:
  ModelConfig cfg_;
  bool fixed_square_;        // the network fills its own central square (center model)
  int fill_side_;            // side of the square it fills: S/2 - 2*overlap, or S
  torch::Tensor square_;     // [1, 1, S, S], 1 = the fixed square (center model)
  cv::Mat square_mask_;      // the same as S x S CV_8U, 255 = hole
};

// The part of x in the model's output region: [B, *, S, S] -> [B, *, out, out].
torch::Tensor crop_output_region(const ModelConfig& cfg, const torch::Tensor& x);

// Images between [0, 255] uint8 HWC and [-1, 1] float.
torch::Tensor to_model_range(const torch::Tensor& uint8_nhwc);  // [B,H,W,C] u8 -> [B,C,H,W] f32
torch::Tensor to_uint8_nhwc(const torch::Tensor& images);       // [B,C,H,W] -> [B,H,W,C] u8

}  // namespace ctxenc

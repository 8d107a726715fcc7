// ctxenc/holes.h — the glue between images, hole masks and the generator:
// building the generator's input, cropping its output region, compositing.
// Conventions: images [B, C, S, S] in [-1, 1]; holes [B, 1, S, S] with 1 = hole.
#pragma once
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "ctxenc/config.h"

namespace ctxenc {

// The center model's fixed hole: the central (S/2 - 2*overlap)^2 square
// (56x56 of 128x128). Returns [1, 1, S, S] float, 1 = hole.
torch::Tensor center_hole(const ModelConfig& cfg);
cv::Mat center_hole_mask(const ModelConfig& cfg);  // the same as an S x S CV_8U mask, 255 = hole

// Hole pixels replaced by the fill (the mean colour, or with HoleFill::Telea
// the matching pixels of `prefilled`, [B, C, S, S]); known pixels (the overlap
// ring included) stay real. Appends the hole as a channel if cfg.mask_channel.
// -> [B, C(+1), S, S]
torch::Tensor generator_input(const ModelConfig& cfg, const torch::Tensor& images, const torch::Tensor& holes,
                              const torch::Tensor& prefilled = {});

// The part of x the generator predicts: [B, *, S, S] -> [B, *, out, out].
torch::Tensor crop_output_region(const ModelConfig& cfg, const torch::Tensor& x);

// Pastes prediction ([B, C, out, out]) into the hole pixels of images; every
// known pixel comes from images unchanged. -> [B, C, S, S]
torch::Tensor composite(const ModelConfig& cfg, const torch::Tensor& images,
                        const torch::Tensor& holes, const torch::Tensor& prediction);

// Images between [0, 255] uint8 HWC and [-1, 1] float.
torch::Tensor to_model_range(const torch::Tensor& uint8_nhwc);  // [B,H,W,C] u8 -> [B,C,H,W] f32
torch::Tensor to_uint8_nhwc(const torch::Tensor& images);       // [B,C,H,W] -> [B,H,W,C] u8

}  // namespace ctxenc

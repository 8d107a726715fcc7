// holes.cpp — generator input construction, output cropping and compositing.
#include "ctxenc/holes.h"

namespace ctxenc {
using torch::indexing::Slice;

torch::Tensor center_hole(const ModelConfig& cfg) {
  const int S = cfg.image_size;
  const int lo = S / 4 + cfg.overlap, hi = S / 4 + S / 2 - cfg.overlap;
  auto hole = torch::zeros({1, 1, S, S});
  hole.index_put_({Slice(), Slice(), Slice(lo, hi), Slice(lo, hi)}, 1.0);
  return hole;
}

cv::Mat center_hole_mask(const ModelConfig& cfg) {
  auto hole = center_hole(cfg).squeeze().mul(255).to(torch::kUInt8).contiguous();  // [S, S]
  return cv::Mat(cfg.image_size, cfg.image_size, CV_8UC1, hole.data_ptr<uint8_t>()).clone();
}

static torch::Tensor fill_tensor(const ModelConfig& cfg, const torch::Tensor& like) {
  std::vector<float> v;
  for (int c = 0; c < cfg.channels; ++c) v.push_back(cfg.fill_mean[std::min(c, 2)] * 2.f - 1.f);
  return torch::tensor(v, like.options()).view({1, cfg.channels, 1, 1});
}

torch::Tensor generator_input(const ModelConfig& cfg, const torch::Tensor& images, const torch::Tensor& holes,
                              const torch::Tensor& prefilled) {
  auto h = holes.to(images.dtype());
  torch::Tensor fill;
  if (cfg.fill == HoleFill::Mean) {
    fill = fill_tensor(cfg, images);
  } else {
    TORCH_CHECK(prefilled.defined(), "this model needs its holes pre-filled (fill = telea)");
    fill = prefilled.to(images.dtype());
  }
  auto x = images * (1 - h) + fill * h;  // [B, C, S, S]
  if (cfg.mask_channel) x = torch::cat({x, h.expand({images.size(0), 1, -1, -1}) * 2 - 1}, 1);
  return x.contiguous(torch::MemoryFormat::ChannelsLast);
}

torch::Tensor crop_output_region(const ModelConfig& cfg, const torch::Tensor& x) {
  if (cfg.output == OutputRegion::Full) return x;
  const int o = cfg.output_offset(), n = cfg.output_size();
  return x.index({Slice(), Slice(), Slice(o, o + n), Slice(o, o + n)});
}

torch::Tensor composite(const ModelConfig& cfg, const torch::Tensor& images,
                        const torch::Tensor& holes, const torch::Tensor& prediction) {
  auto full = prediction;
  if (cfg.output == OutputRegion::Center) {
    const int o = cfg.output_offset(), n = cfg.output_size();
    full = images.clone();
    full.index_put_({Slice(), Slice(), Slice(o, o + n), Slice(o, o + n)}, prediction);
  }
  auto h = holes.to(images.dtype()).expand_as(images);
  return torch::where(h > 0.5, full.to(images.dtype()), images);
}

torch::Tensor to_model_range(const torch::Tensor& uint8_nhwc) {
  return uint8_nhwc.permute({0, 3, 1, 2}).to(torch::kFloat32).div(127.5).sub(1.0);
}

torch::Tensor to_uint8_nhwc(const torch::Tensor& images) {
  return images.to(torch::kFloat32).add(1.0).mul(127.5).round().clamp(0, 255)
      .to(torch::kUInt8).permute({0, 2, 3, 1}).contiguous();
}

}  // namespace ctxenc

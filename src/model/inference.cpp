// inference.cpp — BatchNorm folding and the no-autograd inference forward.
#include "model/inference.h"

#include <ATen/Parallel.h>

#include "model/hole_mapping.h"
#include "model/gemv_bf16.h"

namespace ctxenc {
namespace {

// BN(y) = y * s + t with s = gamma / sqrt(var + eps), t = beta - mean * s.
std::pair<torch::Tensor, torch::Tensor> bn_affine(torch::nn::BatchNorm2dImpl& bn) {
  auto s = bn.weight / torch::sqrt(bn.running_var + bn.options.eps());
  return {s, bn.bias - bn.running_mean * s};
}
std::pair<torch::Tensor, torch::Tensor> bn_affine(torch::nn::BatchNorm1dImpl& bn) {
  auto s = bn.weight / torch::sqrt(bn.running_var + bn.options.eps());
  return {s, bn.bias - bn.running_mean * s};
}

// One bf16 image through a dense layer: [1, in] x w [out, in] + bias (fp32)
// -> [1, out] bf16, with the AVX512-BF16 kernel, rows split over the threads.
torch::Tensor dense_gemv_bf16(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& bias_f32) {
  const int64_t rows = w.size(0), in = w.size(1);
  const torch::Tensor xc = x.contiguous();
  torch::Tensor y = torch::empty({1, rows}, torch::kFloat32);
  const auto* wp = reinterpret_cast<const uint16_t*>(w.data_ptr<at::BFloat16>());
  const auto* xp = reinterpret_cast<const uint16_t*>(xc.data_ptr<at::BFloat16>());
  const float* bp = bias_f32.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  at::parallel_for(0, rows, /*grain_size=*/64,
                   [&](int64_t begin, int64_t end) { gemv_bf16_rows(wp, xp, bp, yp, in, begin, end); });
  return y.to(torch::kBFloat16);
}

}  // namespace

InferenceGenerator::InferenceGenerator(GeneratorImpl& g, Precision precision)
    : cfg_(g.cfg), precision_(precision),
      dtype_(precision == Precision::BF16 ? torch::kBFloat16 : torch::kFloat32) {
  torch::NoGradGuard no_grad;
  auto cast4 = [&](const torch::Tensor& w) { return w.to(dtype_).contiguous(torch::MemoryFormat::ChannelsLast); };
  for (const auto& m : g.encoder->children()) {
    auto& blk = *m->as<DownBlockImpl>();
    auto w = blk.conv->weight.detach().to(torch::kFloat32);
    torch::Tensor b = torch::zeros({w.size(0)});
    if (blk.bn) {
      auto [s, t] = bn_affine(*blk.bn);
      w = w * s.view({-1, 1, 1, 1});
      b = t;
    }
    Conv conv{cast4(w), b.to(dtype_), 0, false, {}, {}};
    // oneDNN's bf16 kernel for a 4x4/2 conv from >= 256 channels on an 8x8 map
    // at batch 1 runs 3x slower than fp32 (1.5 vs 0.5 ms for 256 -> 512);
    // keep an fp32 copy for that case.
    if (dtype_ == torch::kBFloat16 && w.size(1) >= 256) {
      conv.weight_f32 = w.contiguous(torch::MemoryFormat::ChannelsLast);
      conv.bias_f32 = b;
    }
    encoder_.push_back(conv);
  }
  if (g.dense) {
    auto& d = *g.dense;
    auto [s1, t1] = bn_affine(*d.bn_code);
    // Stored [out, in]: the layout OpenBLAS runs fastest for inference GEMM/GEMV.
    enc_w_ = (d.encode_weight.detach() * s1.view({1, -1})).t().contiguous().to(dtype_);  // [nb, C*16]
    enc_b_ = t1.to(dtype_);
    auto [s2, t2] = bn_affine(*d.bn_out);
    // decode_weight [nb, out*16] in (out, 4, 4) order: scale per out channel.
    dec_w_ = (d.decode_weight.detach().view({d.nbottleneck, d.out_channels, 16}) * s2.view({1, -1, 1}))
                 .view({d.nbottleneck, -1}).t().contiguous().to(dtype_);  // [out*16, nb]
    dec_b_ = t2.view({-1, 1}).expand({d.out_channels, 16}).reshape({-1}).to(dtype_);
    if (dtype_ == torch::kBFloat16 && gemv_bf16_supported()) {
      enc_b_f32_ = enc_b_.to(torch::kFloat32);
      dec_b_f32_ = dec_b_.to(torch::kFloat32);
    }
  } else {
    auto& c = *g.channelwise;
    fc_w_ = c.fc->weight.detach().to(dtype_);
    auto [s, t] = bn_affine(*c.bn);
    mix_w_ = cast4(c.mix->weight.detach() * s.view({-1, 1, 1, 1}));
    mix_b_ = t.to(dtype_);
  }
  for (const auto& m : g.decoder->children()) {
    auto& blk = *m->as<UpBlockImpl>();
    const bool bilinear = !blk.conv;
    // [Cin, Cout, 4, 4] transposed, or [Cout, Cin, 3, 3]
    auto w = blk.weight().detach().to(torch::kFloat32);
    const int64_t cout = w.size(bilinear ? 0 : 1);
    torch::Tensor b = torch::zeros({cout});
    int kind = 2;
    if (blk.bn) {
      auto [s, t] = bn_affine(*blk.bn);
      w = w * (bilinear ? s.view({-1, 1, 1, 1}) : s.view({1, -1, 1, 1}));
      b = t;
      kind = 1;
    }
    if (bilinear) {
      decoder_.push_back({cast4(w), b.to(dtype_), kind, true, {}, {}});
    } else {
      // Bias per output channel, repeated for the 4 phases (channel = phase * Cout + c).
      decoder_.push_back({cast4(subpixel_weight(w)), b.repeat({4}).to(dtype_), kind, false, {}, {}});
    }
  }
}

torch::Tensor InferenceGenerator::forward(const torch::Tensor& x_in) const {
  c10::InferenceMode guard;
  auto x = x_in.to(dtype_).contiguous(torch::MemoryFormat::ChannelsLast);
  const int64_t B = x.size(0);
  for (const Conv& c : encoder_) {
    if (B == 1 && c.weight_f32.defined())
      x = torch::conv2d(x.to(torch::kFloat32), c.weight_f32, c.bias_f32, /*stride=*/2, /*padding=*/1).to(dtype_);
    else
      x = torch::conv2d(x, c.weight, c.bias, /*stride=*/2, /*padding=*/1);
    torch::leaky_relu_(x, kLeakySlope);
  }
  const int64_t C = x.size(1);
  if (enc_w_.defined()) {
    // One fp32 image: a GEMV (4.5x faster than a 1-row GEMM in OpenBLAS). One
    // bf16 image: the AVX512-BF16 kernel where the CPU has it (oneDNN's linear
    // streams the weights at half the memory's speed); else oneDNN's linear,
    // which is fastest at every batch size.
    auto dense = [&](const torch::Tensor& in, const torch::Tensor& w, const torch::Tensor& b,
                     const torch::Tensor& b_f32) {
      if (B == 1 && dtype_ == torch::kFloat32) return torch::addmv(b, w, in.view({-1})).view({1, -1});
      if (B == 1 && b_f32.defined()) return dense_gemv_bf16(in, w, b_f32);
      return torch::linear(in, w, b);
    };
    auto code = dense(x.contiguous().view({B, -1}), enc_w_, enc_b_, enc_b_f32_);  // [B, nb]
    torch::leaky_relu_(code, kLeakySlope);
    auto out = dense(code, dec_w_, dec_b_, dec_b_f32_);                           // [B, out*16]
    x = out.view({B, -1, 4, 4}).contiguous(torch::MemoryFormat::ChannelsLast);
    x.relu_();
  } else {
    auto v = x.reshape({B, C, 16}).transpose(0, 1);                          // [m, B, 16]
    x = torch::bmm(v, fc_w_).transpose(0, 1).reshape({B, C, 4, 4}).contiguous(torch::MemoryFormat::ChannelsLast);
    x = torch::conv2d(x, mix_w_, mix_b_);
    x.relu_();
  }
  for (const Conv& c : decoder_) {
    if (c.bilinear) {
      x = torch::conv2d(upsample_bilinear_x2(x), c.weight, c.bias, /*stride=*/1, /*padding=*/1);
    } else {
      const int64_t cout = c.weight.size(0) / 4;
      x = pixel_shuffle_nhwc(torch::conv2d(x, c.weight, c.bias, /*stride=*/1, /*padding=*/1), cout);
    }
    if (c.kind == 1) x.relu_();
    else x = torch::tanh(x);
  }
  x = x.to(torch::kFloat32);
  if (cfg_.residual) x = x + crop_output_region(cfg_, x_in.narrow(1, 0, cfg_.channels)).to(torch::kFloat32);
  return x;
}

}  // namespace ctxenc

// networks.cpp — construction and forward passes of the context encoder networks.
#include "model/networks.h"

#include "model/hole_mapping.h"

namespace ctxenc {
namespace nn = torch::nn;

namespace {
constexpr int kBottleneckSide = 4;  // every encoder ends at a 4x4 map
}  // namespace

std::vector<int> encoder_channels(const ModelConfig& cfg) {
  // Widths end at nef*8 and double towards it: 128 -> {64, 64, 128, 256, 512}.
  const int n = cfg.num_down();
  std::vector<int> ch;
  for (int i = 0; i < n; ++i) ch.push_back(cfg.nef << std::max(0, i - (n - 4)));
  return ch;
}

std::vector<int> decoder_channels(const ModelConfig& cfg) {
  // log2(out/4) up-convs: ngf*4, ngf*2, ngf, ngf, ..., then the image channels.
  int k = 0;
  while ((kBottleneckSide << k) < cfg.output_size()) ++k;
  std::vector<int> ch;
  for (int j = 0; j + 1 < k; ++j) ch.push_back(cfg.ngf << std::max(0, 2 - j));
  ch.push_back(cfg.channels);
  return ch;
}

// ---- blocks --------------------------------------------------------------

DownBlockImpl::DownBlockImpl(int in_channels, int out_channels, bool batch_norm) {
  conv = register_module("conv", nn::Conv2d(nn::Conv2dOptions(in_channels, out_channels, /*kernel_size=*/4)
                                                .stride(2).padding(1).bias(false)));
  if (batch_norm) bn = register_module("bn", nn::BatchNorm2d(out_channels));
}

torch::Tensor DownBlockImpl::forward(torch::Tensor x) {
  x = conv(x);
  if (bn) x = bn(x);
  torch::leaky_relu_(x, kLeakySlope);
  return x;
}

UpBlockImpl::UpBlockImpl(int in_channels, int out_channels, bool last, Upsampling up) {
  // Either conv is registered as "conv": one parameter name, shapes from the config.
  if (up == Upsampling::Transposed)
    conv = register_module("conv", nn::ConvTranspose2d(nn::ConvTranspose2dOptions(in_channels, out_channels,
                                                                                  /*kernel_size=*/4)
                                                           .stride(2).padding(1).bias(false)));
  else
    resize_conv = register_module(
        "conv", nn::Conv2d(nn::Conv2dOptions(in_channels, out_channels, /*kernel_size=*/3).padding(1).bias(false)));
  if (!last) bn = register_module("bn", nn::BatchNorm2d(out_channels));
}

// ConvTranspose2d(k=4, s=2, p=1) rewritten as Conv2d(k=3, p=1) to 4*Cout
// channels + a 2x2 pixel shuffle. Output pixel 2m+a only sees input pixels
// m-1..m+1; along one axis, phase a=0 uses taps (3, 1, -) at offsets (-1, 0, +1)
// and phase a=1 uses taps (-, 2, 0). libtorch 1.13's CPU transposed conv has no
// channels_last/oneDNN path and runs >5x slower than this regular conv.
torch::Tensor subpixel_weight(const torch::Tensor& wt) {
  const int64_t cin = wt.size(0), cout = wt.size(1);
  static const int64_t kTaps[2][3] = {{3, 1, 4}, {4, 2, 0}};  // 4 = the zero tap
  auto padded = torch::constant_pad_nd(wt, {0, 1, 0, 1});  // [Cin, Cout, 5, 5], index 4 = 0
  std::vector<torch::Tensor> phases;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      auto ia = torch::tensor({kTaps[a][0], kTaps[a][1], kTaps[a][2]}, torch::kLong);
      auto ib = torch::tensor({kTaps[b][0], kTaps[b][1], kTaps[b][2]}, torch::kLong);
      phases.push_back(padded.index_select(2, ia).index_select(3, ib));  // [Cin, Cout, 3, 3]
    }
  // Output channels ordered (a, b, c): [4*Cout, Cin, 3, 3]
  return torch::stack(phases, 0).permute({0, 2, 1, 3, 4}).reshape({4 * cout, cin, 3, 3});
}

torch::Tensor pixel_shuffle_nhwc(const torch::Tensor& y, int64_t cout) {
  const int64_t B = y.size(0), H = y.size(2), W = y.size(3);
  // Physical NHWC [B, H, W, (a, b, c)] -> [B, H, a, W, b, c] -> [B, 2H, 2W, c].
  return y.permute({0, 2, 3, 1}).reshape({B, H, W, 2, 2, cout}).permute({0, 1, 3, 2, 4, 5})
      .reshape({B, 2 * H, 2 * W, cout}).permute({0, 3, 1, 2});
}

torch::Tensor subpixel_conv_transpose(const torch::Tensor& x, const torch::Tensor& wt) {
  auto w3 = subpixel_weight(wt).contiguous(torch::MemoryFormat::ChannelsLast);
  auto y = torch::conv2d(x.contiguous(torch::MemoryFormat::ChannelsLast), w3, {}, /*stride=*/1, /*padding=*/1);
  return pixel_shuffle_nhwc(y, wt.size(1));  // [B, Cout, 2H, 2W], channels_last memory
}

torch::Tensor upsample_bilinear_x2(const torch::Tensor& x) {
  return torch::upsample_bilinear2d(x, {2 * x.size(2), 2 * x.size(3)}, /*align_corners=*/false);
}

torch::Tensor UpBlockImpl::forward(torch::Tensor x) {
  if (conv) {
    x = subpixel_conv_transpose(x, conv->weight);
  } else {
    x = resize_conv(upsample_bilinear_x2(x));
  }
  if (!bn) return torch::tanh(x);
  return bn(x).relu_();
}

// ---- bottlenecks -----------------------------------------------------------

ChannelwiseFCImpl::ChannelwiseFCImpl(int channels_, int side_) : channels(channels_), side(side_) {
  weight = register_parameter("weight", torch::randn({channels, side * side, side * side}) * 0.02);
}

torch::Tensor ChannelwiseFCImpl::forward(torch::Tensor x) {
  const auto B = x.size(0);
  auto v = x.reshape({B, channels, side * side}).transpose(0, 1);  // [m, B, n*n]
  auto y = torch::bmm(v, weight);                                  // [m, B, n*n]
  // Back to [B, m, n, n] in channels_last, the layout every conv here runs fastest in.
  return y.transpose(0, 1).reshape({B, channels, side, side}).contiguous(torch::MemoryFormat::ChannelsLast);
}

ChannelwiseBottleneckImpl::ChannelwiseBottleneckImpl(int channels, int side, int out_channels) {
  fc = register_module("fc", ChannelwiseFC(channels, side));
  mix = register_module("mix", nn::Conv2d(nn::Conv2dOptions(channels, out_channels, /*kernel_size=*/1)
                                              .stride(1).bias(false)));
  bn = register_module("bn", nn::BatchNorm2d(out_channels));
}

torch::Tensor ChannelwiseBottleneckImpl::forward(torch::Tensor x) {
  return bn(mix(fc(x))).relu_();
}

DenseBottleneckImpl::DenseBottleneckImpl(int channels_, int side_, int nbottleneck_, int out_channels_)
    : channels(channels_), side(side_), nbottleneck(nbottleneck_), out_channels(out_channels_) {
  encode_weight = register_parameter("encode_weight", torch::randn({channels * side * side, nbottleneck}) * 0.02);
  decode_weight = register_parameter("decode_weight", torch::randn({nbottleneck, out_channels * side * side}) * 0.02);
  bn_code = register_module("bn_code", nn::BatchNorm1d(nbottleneck));
  bn_out = register_module("bn_out", nn::BatchNorm2d(out_channels));
}

torch::Tensor DenseBottleneckImpl::forward(torch::Tensor x) {
  const auto B = x.size(0);
  // NCHW flattening order matches the [nb, C, 4, 4] conv weight.
  auto flat = x.contiguous().view({B, channels * side * side});                       // [B, C*16]
  auto code = torch::mm(flat, encode_weight);                 // [B, nb]
  code = bn_code(code);
  torch::leaky_relu_(code, kLeakySlope);
  auto out = torch::mm(code, decode_weight);               // [B, out*16]
  out = out.view({B, out_channels, side, side}).contiguous(torch::MemoryFormat::ChannelsLast);
  return bn_out(out).relu_();
}

// ---- generator / discriminator ------------------------------------------------

GeneratorImpl::GeneratorImpl(const ModelConfig& cfg_) : cfg(cfg_) {
  cfg.validate();
  encoder = nn::Sequential();
  int in = cfg.channels + (cfg.mask_channel ? 1 : 0);
  bool first = true;
  for (int out : encoder_channels(cfg)) {
    encoder->push_back(DownBlock(in, out, /*batch_norm=*/!first));
    in = out;
    first = false;
  }
  register_module("encoder", encoder);
  const int bottleneck_out = cfg.ngf * 8;
  if (cfg.bottleneck == Bottleneck::Dense)
    dense = register_module("bottleneck", DenseBottleneck(in, kBottleneckSide, cfg.nbottleneck, bottleneck_out));
  else
    channelwise = register_module("bottleneck", ChannelwiseBottleneck(in, kBottleneckSide, bottleneck_out));
  decoder = nn::Sequential();
  in = bottleneck_out;
  auto dec = decoder_channels(cfg);
  for (size_t j = 0; j < dec.size(); ++j) {
    decoder->push_back(UpBlock(in, dec[j], /*last=*/j + 1 == dec.size(), cfg.upsampling));
    in = dec[j];
  }
  register_module("decoder", decoder);
}

torch::Tensor GeneratorImpl::forward(torch::Tensor x) {
  auto h = encoder->forward(x);  // [B, 512, 4, 4]
  h = dense ? dense(h) : channelwise(h);
  h = decoder->forward(h);       // [B, C, out, out]
  // Residual: the decoder predicts a correction to the filled input.
  return cfg.residual ? crop_output_region(cfg, x.narrow(1, 0, cfg.channels)) + h : h;
}

DiscriminatorImpl::DiscriminatorImpl(const ModelConfig& cfg_) : cfg(cfg_) {
  cfg.validate();
  features = nn::Sequential();
  int in = cfg.channels;
  for (int side = cfg.discriminator_input(), i = 0; side > kBottleneckSide; side /= 2, ++i) {
    const int out = cfg.ndf << std::min(i, 3);
    features->push_back(DownBlock(in, out, /*batch_norm=*/i > 0));
    in = out;
  }
  register_module("features", features);
  classifier = register_module("classifier", nn::Conv2d(nn::Conv2dOptions(in, 1, /*kernel_size=*/4)
                                                            .stride(1).padding(0).bias(false)));
}

torch::Tensor DiscriminatorImpl::forward(torch::Tensor x) {
  return classifier(features->forward(x)).view({-1});  // [B]
}

// ---- utilities -----------------------------------------------------------------

void init_weights(nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& item : m.named_parameters(/*recurse=*/true)) {
    const auto& name = item.key();
    auto& p = item.value();
    const bool is_bn = name.find("bn") != std::string::npos;
    const bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
    if (is_bias) p.zero_();
    else if (is_bn) p.normal_(1.0, 0.02);
    else p.normal_(0.0, 0.02);
  }
}

int64_t generator_parameter_count(const ModelConfig& cfg) {
  cfg.validate();
  auto bn = [](int64_t c) { return 2 * c; };  // weight + bias
  int64_t n = 0, in = cfg.channels + (cfg.mask_channel ? 1 : 0);
  bool first = true;
  for (int out : encoder_channels(cfg)) {
    n += in * out * 16 + (first ? 0 : bn(out));
    in = out;
    first = false;
  }
  const int64_t side2 = kBottleneckSide * kBottleneckSide, out = int64_t{cfg.ngf} * 8;
  if (cfg.bottleneck == Bottleneck::Dense)
    n += in * side2 * cfg.nbottleneck + bn(cfg.nbottleneck) + int64_t{cfg.nbottleneck} * out * side2 + bn(out);
  else
    n += in * side2 * side2 + in * out + bn(out);
  in = out;
  const auto dec = decoder_channels(cfg);
  for (size_t j = 0; j < dec.size(); ++j) {
    n += in * dec[j] * (cfg.upsampling == Upsampling::Transposed ? 16 : 9) + (j + 1 == dec.size() ? 0 : bn(dec[j]));
    in = dec[j];
  }
  return n;
}

int64_t count_parameters(const nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters(/*recurse=*/true)) n += p.numel();
  return n;
}

void copy_weights(const nn::Module& src, nn::Module& dst) {
  torch::NoGradGuard no_grad;
  auto sp = src.parameters(), dp = dst.parameters();
  TORCH_CHECK(sp.size() == dp.size(), "copy_weights: different architectures");
  for (size_t i = 0; i < sp.size(); ++i) dp[i].copy_(sp[i]);
  auto sb = src.buffers(), db = dst.buffers();
  for (size_t i = 0; i < sb.size(); ++i) db[i].copy_(sb[i]);
}

void to_channels_last(nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.parameters(/*recurse=*/true))
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
}

}  // namespace ctxenc

// model/networks.h — internal: the context encoder networks as libtorch modules:
// encoder blocks, the two bottlenecks, the decoder, the generator and the
// discriminator. Shapes for the default 128x128 center model are written
// beside each piece; see ModelConfig for how they scale.
#pragma once
#include <torch/torch.h>

#include "ctxenc/config.h"

namespace ctxenc {

// Conv 4x4 stride 2 pad 1 (no bias) [+ BatchNorm] + LeakyReLU(0.2): halves H and W.
struct DownBlockImpl : torch::nn::Module {
  DownBlockImpl(int in_channels, int out_channels, bool batch_norm);
  torch::Tensor forward(torch::Tensor x);  // [B, in, H, W] -> [B, out, H/2, W/2]
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(DownBlock);

// Up-conv 4x4 stride 2 pad 1 (no bias) + BatchNorm + ReLU, or + Tanh when `last`.
// The weight is a ConvTranspose2d's; the forward runs it as a sub-pixel
// convolution (see subpixel_conv_transpose), which is exact and much faster here.
struct UpBlockImpl : torch::nn::Module {
  UpBlockImpl(int in_channels, int out_channels, bool last, Upsampling up = Upsampling::Transposed);
  torch::Tensor forward(torch::Tensor x);  // [B, in, H, W] -> [B, out, 2H, 2W]
  torch::Tensor weight() const { return conv ? conv->weight : resize_conv->weight; }  // the one conv's weight
  torch::nn::ConvTranspose2d conv{nullptr};  // Upsampling::Transposed: 4x4, stride 2
  torch::nn::Conv2d resize_conv{nullptr};    // Upsampling::Bilinear: 3x3 after x2 bilinear upsampling
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(UpBlock);

// The paper's channel-wise fully-connected layer: each of the m channels of an
// n x n map is fully connected to itself, so it has exactly m * n^4 weights and
// no cross-channel parameters. weight: [m, n*n, n*n].
struct ChannelwiseFCImpl : torch::nn::Module {
  ChannelwiseFCImpl(int channels, int side);
  torch::Tensor forward(torch::Tensor x);  // [B, m, n, n] -> [B, m, n, n]
  torch::Tensor weight;
  int channels, side;
};
TORCH_MODULE(ChannelwiseFC);

// Channel-wise FC followed by a stride-1 1x1 convolution that mixes channels,
// BatchNorm and ReLU: [B, 512, 4, 4] -> [B, out, 4, 4].
struct ChannelwiseBottleneckImpl : torch::nn::Module {
  ChannelwiseBottleneckImpl(int channels, int side, int out_channels);
  torch::Tensor forward(torch::Tensor x);
  ChannelwiseFC fc{nullptr};
  torch::nn::Conv2d mix{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(ChannelwiseBottleneck);

// The released code's dense bottleneck: 4x4 conv to an nb-vector, BN, LeakyReLU,
// 4x4 up-conv back, BN, ReLU. A 4x4 "valid" conv on a 4x4 map (and its
// transpose on a 1x1 map) is a matrix product, so both run as one GEMM each and
// store their weights as matrices; oneDNN's conv path runs under 1 GFLOP/s here.
struct DenseBottleneckImpl : torch::nn::Module {
  DenseBottleneckImpl(int channels, int side, int nbottleneck, int out_channels);
  torch::Tensor forward(torch::Tensor x);  // [B, C, 4, 4] -> [B, out, 4, 4]
  // Both stored [in, out]: with OpenBLAS this layout trains fastest (fwd+bwd).
  torch::Tensor encode_weight;  // [C*4*4, nb]   (Conv2d weight [nb, C, 4, 4], flattened and transposed)
  torch::Tensor decode_weight;  // [nb, out*4*4] (ConvTranspose2d weight [nb, out, 4, 4], flattened)
  torch::nn::BatchNorm1d bn_code{nullptr};
  torch::nn::BatchNorm2d bn_out{nullptr};
  int channels, side, nbottleneck, out_channels;
};
TORCH_MODULE(DenseBottleneck);

// Encoder -> bottleneck -> decoder.
// 128x128 center model: [B, 3, 128, 128] -> enc 64,64,128,256,512 -> [B, 512, 4, 4]
//   -> bottleneck -> [B, 512, 4, 4] -> dec 256,128,64,3 -> [B, 3, 64, 64].
struct GeneratorImpl : torch::nn::Module {
  explicit GeneratorImpl(const ModelConfig& cfg);
  // [B, C(+1), S, S] -> [B, C, out, out] in [-1, 1] (residual: filled input +
  // a correction in [-1, 1], so in [-2, 2] before compositing clamps it).
  torch::Tensor forward(torch::Tensor x);
  ModelConfig cfg;
  torch::nn::Sequential encoder{nullptr};
  DenseBottleneck dense{nullptr};
  ChannelwiseBottleneck channelwise{nullptr};
  torch::nn::Sequential decoder{nullptr};
};
TORCH_MODULE(Generator);

// Strided convs with BN + LeakyReLU down to 4x4, then a 4x4 conv to one logit.
// Local (default): judges the predicted region ([B, 3, 64, 64] for the center model).
struct DiscriminatorImpl : torch::nn::Module {
  explicit DiscriminatorImpl(const ModelConfig& cfg);
  torch::Tensor forward(torch::Tensor x);  // [B, C, d, d] -> logits [B]
  ModelConfig cfg;
  torch::nn::Sequential features{nullptr};
  torch::nn::Conv2d classifier{nullptr};
};
TORCH_MODULE(Discriminator);

// The negative slope of every LeakyReLU (encoder, dense bottleneck, discriminator).
constexpr double kLeakySlope = 0.2;

// Same result as torch::conv_transpose2d(x, wt, stride 2, padding 1) for a
// [Cin, Cout, 4, 4] weight, computed as a 3x3 conv + pixel shuffle (channels_last).
// (networks.cpp says why and how.)
torch::Tensor subpixel_conv_transpose(const torch::Tensor& x, const torch::Tensor& wt);
// Its two halves, which inference also runs on pre-converted weights:
// [Cin, Cout, 4, 4] transposed-conv weight -> [4*Cout, Cin, 3, 3], output channels ordered (a, b, c);
torch::Tensor subpixel_weight(const torch::Tensor& wt);
// and the 3x3 conv's [B, 4*Cout, H, W] (channels_last) -> [B, Cout, 2H, 2W].
torch::Tensor pixel_shuffle_nhwc(const torch::Tensor& y, int64_t cout);

// The bilinear decoder's upsampling, shared by training and inference:
// [B, C, H, W] -> [B, C, 2H, 2W], half-pixel centres (align_corners = false).
torch::Tensor upsample_bilinear_x2(const torch::Tensor& x);

// Encoder output widths for a config (128: {64, 64, 128, 256, 512}).
std::vector<int> encoder_channels(const ModelConfig& cfg);
// Decoder output widths, last one = image channels (128 center: {256, 128, 64, 3}).
std::vector<int> decoder_channels(const ModelConfig& cfg);

// N(0, 0.02) for conv/FC weights, N(1, 0.02) for BN weights, 0 for biases.
void init_weights(torch::nn::Module& m);
int64_t count_parameters(const torch::nn::Module& m);
// The generator's parameter count for a config, computed without building it
// (a model file's config is checked against its size before any allocation).
int64_t generator_parameter_count(const ModelConfig& cfg);
// dst's parameters and buffers := src's (same architecture).
void copy_weights(const torch::nn::Module& src, torch::nn::Module& dst);
// Converts every 4-D parameter and buffer to channels_last memory format in place.
void to_channels_last(torch::nn::Module& m);

}  // namespace ctxenc

// test_networks.cpp — layer output shapes and parameter counts of every module, and the
// sub-pixel up-convolution against libtorch's transposed convolution.
#include <gtest/gtest.h>

#include "model/hole_mapping.h"
#include "model/networks.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;

TEST(Model, EncoderAndDecoderWidthsFollowTheReleasedModel) {
  ModelConfig c;
  EXPECT_EQ(encoder_channels(c), (std::vector<int>{64, 64, 128, 256, 512}));
  EXPECT_EQ(decoder_channels(c), (std::vector<int>{256, 128, 64, 3}));
  c.output = OutputRegion::Full;
  EXPECT_EQ(decoder_channels(c), (std::vector<int>{256, 128, 64, 64, 3}));
  c.image_size = 64;
  EXPECT_EQ(encoder_channels(c), (std::vector<int>{64, 128, 256, 512}));
}

TEST(Model, DownBlockHalvesAndCountsParameters) {
  DownBlock first(3, 64, /*batch_norm=*/false), mid(64, 128, /*batch_norm=*/true);
  EXPECT_EQ(sz(first(torch::randn({2, 3, 32, 32}))), (std::vector<int64_t>{2, 64, 16, 16}));
  EXPECT_EQ(count_parameters(*first), 3 * 64 * 16);
  EXPECT_EQ(sz(mid(torch::randn({2, 64, 16, 16}))), (std::vector<int64_t>{2, 128, 8, 8}));
  EXPECT_EQ(count_parameters(*mid), 64 * 128 * 16 + 2 * 128);
}

TEST(Model, UpBlockDoublesAndLastIsTanh) {
  UpBlock up(64, 32, /*last=*/false), last(32, 3, /*last=*/true);
  auto y = up(torch::randn({2, 64, 8, 8}));
  EXPECT_EQ(sz(y), (std::vector<int64_t>{2, 32, 16, 16}));
  EXPECT_GE(y.min().item<float>(), 0.0f);  // ReLU
  EXPECT_EQ(count_parameters(*up), 64 * 32 * 16 + 2 * 32);
  auto z = last(torch::randn({2, 32, 16, 16}) * 100);
  EXPECT_EQ(sz(z), (std::vector<int64_t>{2, 3, 32, 32}));
  EXPECT_LE(z.abs().max().item<float>(), 1.0f);
  EXPECT_EQ(count_parameters(*last), 32 * 3 * 16);
}

TEST(Model, SubpixelUpConvEqualsConvTranspose) {
  torch::manual_seed(3);
  for (auto [cin, cout, h] : {std::tuple{8, 5, 4}, std::tuple{3, 16, 7}, std::tuple{64, 3, 8}}) {
    auto x = torch::randn({2, cin, h, h + 1});
    auto w = torch::randn({cin, cout, 4, 4});
    auto ref = torch::conv_transpose2d(x, w, {}, /*stride=*/2, /*padding=*/1);
    auto got = subpixel_conv_transpose(x, w);
    EXPECT_EQ(got.sizes(), ref.sizes());
    EXPECT_TRUE(torch::allclose(got, ref, 1e-4, 1e-4)) << (got - ref).abs().max().item<float>();
    // Gradients agree too (the module trains through this path).
    auto w1 = w.clone().requires_grad_(true), w2 = w.clone().requires_grad_(true);
    torch::conv_transpose2d(x, w1, {}, 2, 1).square().sum().backward();
    subpixel_conv_transpose(x, w2).square().sum().backward();
    EXPECT_TRUE(torch::allclose(w1.grad(), w2.grad(), 1e-3, 1e-3));
  }
}

TEST(Model, ChannelwiseFCHasExactlyMTimesNToTheFourWeights) {
  const int m = 512, n = 4;
  ChannelwiseFC fc(m, n);
  EXPECT_EQ(count_parameters(*fc), int64_t{m} * n * n * n * n);
  EXPECT_EQ(count_parameters(*fc), 131072);
  torch::nn::init::normal_(fc->weight);
  auto x = torch::randn({3, m, n, n});
  auto y = fc(x);
  EXPECT_EQ(sz(y), (std::vector<int64_t>{3, m, n, n}));
  // No information crosses channels: changing channel 0 leaves the others alone.
  auto x2 = x.clone();
  x2.select(1, 0).add_(5.0);
  auto y2 = fc(x2);
  EXPECT_FALSE(torch::equal(y2.select(1, 0), y.select(1, 0)));
  EXPECT_TRUE(torch::equal(y2.narrow(1, 1, m - 1), y.narrow(1, 1, m - 1)));
  // Within a channel it is fully connected: every output depends on every input.
  auto x3 = x.clone();
  x3[0][7][0][0] += 1.0;
  EXPECT_TRUE((fc(x3)[0][7] != y[0][7]).all().item<bool>());
}

TEST(Model, DenseBottleneckIsTheReleasedConvPairAsGemm) {
  torch::manual_seed(1);
  DenseBottleneck b(16, 4, 40, 8);
  EXPECT_EQ(count_parameters(*b), 16 * 16 * 40 + 8 * 16 * 40 + 2 * 40 + 2 * 8);
  torch::nn::init::normal_(b->encode_weight, 0, 0.05);
  torch::nn::init::normal_(b->decode_weight, 0, 0.05);
  b->eval();
  auto x = torch::randn({3, 16, 4, 4});
  auto y = b(x);
  EXPECT_EQ(sz(y), (std::vector<int64_t>{3, 8, 4, 4}));
  // Reference: Conv2d 4x4 -> BN -> LeakyReLU -> ConvTranspose2d 4x4 -> BN -> ReLU.
  auto code = torch::conv2d(x, b->encode_weight.t().reshape({40, 16, 4, 4}));
  code = torch::leaky_relu(b->bn_code(code.view({3, 40})), 0.2).view({3, 40, 1, 1});
  auto ref = torch::relu(b->bn_out(torch::conv_transpose2d(code, b->decode_weight.view({40, 8, 4, 4}))));
  EXPECT_TRUE(torch::allclose(y, ref, 1e-4, 1e-5));
}

TEST(Model, DenseGeneratorHas71_1MParametersAt128) {
  ModelConfig c;  // defaults: 128x128, dense 4000-d, center output
  Generator g(c);
  EXPECT_EQ(count_parameters(*g), 71124544);  // 71.1M, the released model
}

TEST(Model, ChannelwiseGeneratorIsSmall) {
  ModelConfig c;
  c.bottleneck = Bottleneck::Channelwise;
  Generator g(c);
  // encoder 2,823,040 + channel-wise FC 131,072 + 1x1 conv 262,144 + BN 1,024 + decoder 2,756,480
  EXPECT_EQ(count_parameters(*g->channelwise->fc), 512 * 256);
  EXPECT_LT(count_parameters(*g), 6'500'000);
}

TEST(Model, GeneratorOutputShapesForEverySizeAndKind) {
  for (int size : {32, 64, 128})
    for (auto b : {Bottleneck::Dense, Bottleneck::Channelwise})
      for (auto o : {OutputRegion::Center, OutputRegion::Full}) {
        ModelConfig c = small_model(size, b, o);
        Generator g(c);
        auto y = g(torch::randn({2, 3, size, size}));
        const int out = o == OutputRegion::Center ? size / 2 : size;
        EXPECT_EQ(sz(y), (std::vector<int64_t>{2, 3, out, out})) << size << to_string(b) << to_string(o);
        EXPECT_LE(y.abs().max().item<float>(), 1.0f);
      }
}

TEST(Model, MaskChannelAddsAnInput) {
  ModelConfig c = small_model(64, Bottleneck::Channelwise, OutputRegion::Full);
  c.mask_channel = true;
  Generator g(c);
  EXPECT_EQ(sz(g(torch::randn({2, 4, 64, 64}))), (std::vector<int64_t>{2, 3, 64, 64}));
}

TEST(Model, DiscriminatorGivesOneLogitPerImage) {
  ModelConfig c;
  Discriminator local(c);  // judges the 64x64 center
  EXPECT_EQ(sz(local(torch::randn({5, 3, 64, 64}))), (std::vector<int64_t>{5}));
  c.global_discriminator = true;
  Discriminator global(c);  // judges the whole 128x128 image
  EXPECT_EQ(sz(global(torch::randn({5, 3, 128, 128}))), (std::vector<int64_t>{5}));
  // 64 -> 128 -> 256 -> 512 (4 stride-2 convs) + 512 -> 1 4x4 classifier
  EXPECT_EQ(count_parameters(*local),
            3 * 64 * 16 + 64 * 128 * 16 + 2 * 128 + 128 * 256 * 16 + 2 * 256 + 256 * 512 * 16 + 2 * 512 + 512 * 16);
}

TEST(Model, InitialisationFollowsDcgan) {
  torch::manual_seed(0);
  ModelConfig c;
  c.bottleneck = Bottleneck::Channelwise;
  Generator g(c);
  init_weights(*g);
  for (const auto& p : g->named_parameters()) {
    const auto& name = p.key();
    const auto& t = p.value();
    if (t.numel() < 256) continue;
    const double mean = t.mean().item<double>(), std = t.std().item<double>();
    if (name.find("bn") != std::string::npos && name.find("weight") != std::string::npos) {
      EXPECT_NEAR(mean, 1.0, 0.01) << name;
    } else if (name.find("weight") != std::string::npos) {
      EXPECT_NEAR(mean, 0.0, 0.005) << name;
      EXPECT_NEAR(std, 0.02, 0.004) << name;
    }
  }
}

TEST(Model, ResidualGeneratorAddsItsCorrectionToTheFilledInput) {
  ModelConfig c = small_model(32, Bottleneck::Channelwise, OutputRegion::Full);
  c.residual = true;
  c.mask_channel = true;
  Generator g(c);
  auto x = torch::rand({2, 4, 32, 32}) * 2 - 1;
  torch::NoGradGuard ng;
  g->decoder->children().back()->as<UpBlockImpl>()->weight().zero_();
  EXPECT_TRUE(torch::allclose(g(x), x.narrow(1, 0, 3)));  // zero correction: the input itself
  // A center model corrects the central output region of its input.
  ModelConfig cc = small_model(32, Bottleneck::Channelwise, OutputRegion::Center);
  cc.residual = true;
  Generator gc(cc);
  gc->decoder->children().back()->as<UpBlockImpl>()->weight().zero_();
  auto xc = torch::rand({2, 3, 32, 32}) * 2 - 1;
  EXPECT_TRUE(torch::allclose(gc(xc), xc.narrow(2, 8, 16).narrow(3, 8, 16)));
}

// The count a model file's size is checked against, before anything is built.
TEST(Model, ParameterCountWithoutBuildingMatchesTheModules) {
  for (auto b : {Bottleneck::Dense, Bottleneck::Channelwise})
    for (auto o : {OutputRegion::Center, OutputRegion::Full})
      for (auto up : {Upsampling::Transposed, Upsampling::Bilinear})
        for (int size : {32, 64, 128}) {
          ModelConfig c = small_model(size, b, o);
          c.upsampling = up;
          c.mask_channel = size == 64;
          EXPECT_EQ(generator_parameter_count(c), count_parameters(*Generator(c))) << size;
        }
  EXPECT_EQ(generator_parameter_count(ModelConfig{}), count_parameters(*Generator(ModelConfig{})));
}

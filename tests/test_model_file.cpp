// test_model_file.cpp — checkpoints and model files: save/load round trips (bit-exact), bf16 files,
// and every kind of bad file.
#include <gtest/gtest.h>

#include <fstream>

#include "ctxenc/errors.h"
#include "io/container.h"
#include "model/hole_mapping.h"
#include "model/model_file.h"
#include "train/trainer.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;

TEST(ModelFile, ModelFileSaveLoadForwardIsBitExact) {
  for (auto b : {Bottleneck::Channelwise, Bottleneck::Dense})
  for (auto up : {Upsampling::Transposed, Upsampling::Bilinear}) {
    TempDir dir;
    TrainConfig t = tiny_train(b);
    t.model.upsampling = up;
    Trainer trainer(t);
    auto [img, hole] = seeded_batch(1);
    trainer.train_step(img, hole);  // non-trivial BN statistics
    save_model_file(dir / "m.ctxm", trainer.generator(), trainer.step(), {});
    LoadedGenerator g = load_generator(dir / "m.ctxm");
    EXPECT_EQ(g.step, 1);
    EXPECT_EQ(g.config.upsampling, up);
    torch::NoGradGuard ng;
    trainer.generator()->eval();
    auto x = HoleMapping(t.model).input(img, torch::zeros({4, 1, 32, 32}));  // the center model fills its square
    EXPECT_TRUE(torch::equal(trainer.generator()->forward(x), g.generator->forward(x))) << to_string(b) << to_string(up);
  }
}

TEST(ModelFile, Bf16ModelFileIsHalfSizeAndClose) {
  TempDir dir;
  TrainConfig t = tiny_train();
  t.model.image_size = 64;
  Trainer trainer(t);
  save_model_file(dir / "f32.ctxm", trainer.generator(), 0, {}, torch::kFloat32);
  save_model_file(dir / "bf16.ctxm", trainer.generator(), 0, {}, torch::kBFloat16);
  const auto s32 = std::filesystem::file_size(dir / "f32.ctxm"), s16 = std::filesystem::file_size(dir / "bf16.ctxm");
  EXPECT_LT(s16, s32 * 0.6);
  LoadedGenerator g = load_generator(dir / "bf16.ctxm");
  for (const auto& p : trainer.generator()->named_parameters())
    EXPECT_TRUE(torch::allclose(p.value(), g.generator->named_parameters()[p.key()], 1e-2, 1e-3)) << p.key();
}

TEST(ModelFile, MissingFileIsAClearError) {
  try {
    load_generator("/nonexistent/model.ctxm");
    FAIL();
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.ctxm"), std::string::npos);
  }
}

TEST(ModelFile, ForeignFileIsRejected) {
  TempDir dir;
  std::ofstream(dir / "foreign.ctxm") << "\x89PNG\r\n\x1a\nnot a model at all";
  EXPECT_THROW(load_generator(dir / "foreign.ctxm"), ModelFileError);
  // A plain torch archive is foreign too.
  torch::nn::Linear lin(2, 2);
  torch::save(lin, dir / "torch.pt");
  try {
    load_generator(dir / "torch.pt");
    FAIL();
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("not a ctxenc model"), std::string::npos) << e.what();
  }
}

TEST(ModelFile, TruncatedFileIsRejectedAtEveryLength) {
  TempDir dir;
  TrainConfig t = tiny_train();
  Trainer trainer(t);
  trainer.save_checkpoint(dir / "c.ctx");
  std::ifstream in(dir / "c.ctx", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  for (size_t len : {size_t{0}, size_t{5}, size_t{20}, bytes.size() / 3, bytes.size() - 1}) {
    std::ofstream(dir / "t.ctx", std::ios::binary) << bytes.substr(0, len);
    EXPECT_THROW(load_generator(dir / "t.ctx"), ModelFileError) << len;
  }
  // A flipped byte in the payload fails the checksum.
  std::string corrupt = bytes;
  corrupt[corrupt.size() - 100] ^= 0x40;
  std::ofstream(dir / "x.ctx", std::ios::binary) << corrupt;
  EXPECT_THROW(load_generator(dir / "x.ctx"), ModelFileError);
}

TEST(ModelFile, ShapesThatDisagreeWithTheStoredConfigAreRejected) {
  TempDir dir;
  ModelConfig small = tiny_model(32, Bottleneck::Dense);
  ModelConfig big = small;
  big.nbottleneck = 48;
  Generator g_small(small);
  // Header claims nbottleneck 48, tensors are from nbottleneck 32.
  ContainerFile f;
  f.header = {{"kind", "model"}, {"model", big}, {"step", 0}};
  f.sections["generator"] = module_to_bytes(*g_small);
  write_container(dir / "lie.ctxm", f);
  try {
    load_generator(dir / "lie.ctxm");
    FAIL();
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("shape"), std::string::npos) << e.what();
  }
  // Header claims a bilinear decoder, tensors are transposed convolutions.
  ContainerFile fb = f;
  ModelConfig bilinear = small;
  bilinear.upsampling = Upsampling::Bilinear;
  fb.header["model"] = bilinear;
  write_container(dir / "up.ctxm", fb);
  EXPECT_THROW(load_generator(dir / "up.ctxm"), ModelFileError);
  // A tensor missing entirely.
  ContainerFile f2 = f;
  f2.header["model"] = tiny_model(32, Bottleneck::Channelwise);
  write_container(dir / "other.ctxm", f2);
  EXPECT_THROW(load_generator(dir / "other.ctxm"), ModelFileError);
}

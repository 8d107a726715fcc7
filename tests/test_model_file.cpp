// test_model_file.cpp — checkpoints and model files: save/load round trips (bit-exact), bf16 files,
// and every kind of bad file.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <functional>

#include "ctxenc/errors.h"
#include "ctxenc/model_info.h"
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

namespace {
// A model file's bytes rebuilt from its parts: the header JSON may be edited,
// and the raw fields before it replaced.
std::string model_file_bytes(const std::string& magic, uint32_t version, const nlohmann::json& header,
                             const std::string& sections, int64_t header_len_delta = 0) {
  std::string out = magic;
  const std::string h = header.dump();
  const uint64_t len = h.size() + static_cast<uint64_t>(header_len_delta);
  out.append(reinterpret_cast<const char*>(&version), 4);
  out.append(reinterpret_cast<const char*>(&len), 8);
  return out + h + sections;
}
}  // namespace

// Every field of the header, corrupted in turn, is refused with ModelFileError
// (exit code 4) by every reader: never a crash, a wrong model or another class.
TEST(ModelFile, EachHeaderFieldCorruptedInTurnIsRefused) {
  TempDir d;
  const std::string good = write_tiny_model(d);
  const std::string bytes = slurp(good);
  uint64_t hlen = 0;
  std::memcpy(&hlen, bytes.data() + 12, 8);
  const nlohmann::json header = nlohmann::json::parse(bytes.substr(20, hlen));
  const std::string magic = bytes.substr(0, 8), sections = bytes.substr(20 + hlen);
  ASSERT_NO_THROW(load_generator(good));

  std::vector<std::pair<std::string, std::string>> cases;  // name, file bytes
  auto edited = [&](const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json h = header;
    edit(h);
    cases.emplace_back(name, model_file_bytes(magic, kFormatVersion, h, sections));
  };
  cases.emplace_back("magic", model_file_bytes("CTXENC\0\x1b", kFormatVersion, header, sections));
  cases.emplace_back("version", model_file_bytes(magic, kFormatVersion + 1, header, sections));
  cases.emplace_back("header length short", model_file_bytes(magic, kFormatVersion, header, sections, -1));
  cases.emplace_back("header length long", model_file_bytes(magic, kFormatVersion, header, sections, +7));
  cases.emplace_back("header length huge", model_file_bytes(magic, kFormatVersion, header, sections, int64_t{1} << 40));
  cases.emplace_back("header not JSON", model_file_bytes(magic, kFormatVersion, header, sections).replace(20, 1, "#"));
  edited("header an array", [](nlohmann::json& h) { h = nlohmann::json::array({h}); });
  edited("kind a number", [](nlohmann::json& h) { h["kind"] = 5; });
  edited("step a string", [](nlohmann::json& h) { h["step"] = "nine"; });
  edited("step negative", [](nlohmann::json& h) { h["step"] = -3; });
  edited("dtype an object", [](nlohmann::json& h) { h["dtype"] = nlohmann::json::object(); });
  edited("model missing", [](nlohmann::json& h) { h.erase("model"); });
  edited("model a string", [](nlohmann::json& h) { h["model"] = "dense"; });
  edited("model with an unknown field", [](nlohmann::json& h) { h["model"]["layers"] = 7; });
  edited("model with an unknown enum name", [](nlohmann::json& h) { h["model"]["bottleneck"] = "sparse"; });
  edited("model with an impossible size", [](nlohmann::json& h) { h["model"]["image_size"] = 100; });
  edited("model of another width", [](nlohmann::json& h) { h["model"]["ngf"] = 16; });
  edited("model far larger than its weights (an allocation bomb)", [](nlohmann::json& h) {
    h["model"]["bottleneck"] = "dense";
    h["model"]["nbottleneck"] = 65536;
    h["model"]["ngf"] = 1024;
  });
  edited("train a list", [](nlohmann::json& h) { h["train"] = nlohmann::json::array(); });
  edited("sections missing", [](nlohmann::json& h) { h.erase("sections"); });
  edited("sections an object", [](nlohmann::json& h) { h["sections"] = nlohmann::json::object(); });
  edited("section size larger", [](nlohmann::json& h) { h["sections"][0]["size"] = h["sections"][0]["size"].get<uint64_t>() + 1; });
  edited("section size smaller", [](nlohmann::json& h) { h["sections"][0]["size"] = h["sections"][0]["size"].get<uint64_t>() - 1; });
  edited("section size huge", [](nlohmann::json& h) { h["sections"][0]["size"] = UINT64_MAX; });
  edited("section size negative", [](nlohmann::json& h) { h["sections"][0]["size"] = -1; });
  edited("section checksum", [](nlohmann::json& h) { h["sections"][0]["crc32"] = h["sections"][0]["crc32"].get<uint32_t>() ^ 1; });
  edited("section name", [](nlohmann::json& h) { h["sections"][0]["name"] = "discriminator"; });
  edited("section twice", [](nlohmann::json& h) {
    h["sections"].push_back(h["sections"][0]);
    h["sections"][1]["size"] = 0;
  });
  for (const auto& [name, file] : cases) {
    SCOPED_TRACE(name);
    const std::string path = d / "bad.ctxm";
    std::ofstream(path, std::ios::binary | std::ios::trunc) << file;
    EXPECT_THROW(load_generator(path), ModelFileError);
    EXPECT_THROW(describe_model_file(path), ModelFileError);
  }
}

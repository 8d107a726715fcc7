// test_config.cpp — configs: impossible values refused naming the field, and the JSON form
// (every field round-trips; unknown fields and enum names are errors).
#include <gtest/gtest.h>

#include <functional>
#include <utility>

#include "ctxenc/config.h"
#include "ctxenc/errors.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;

TEST(Config, RejectsImpossibleSizes) {
  ModelConfig c;
  c.image_size = 100;
  EXPECT_THROW(c.validate(), std::exception);
  c.image_size = 16;
  EXPECT_THROW(c.validate(), std::exception);
  for (int huge : {1535747161, 1 << 30, -64, 0}) {  // found by tests/fuzz/fuzz_json_config: a shift past 31 bits
    c.image_size = huge;
    EXPECT_THROW(c.validate(), UsageError) << huge;
  }
}

namespace {
// The message of the Error that f throws, and its exit code; fails when f does not throw.
std::pair<ExitCode, std::string> error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  ADD_FAILURE() << "no ctxenc::Error thrown";
  return {kExitOk, ""};
}
}  // namespace

// Every field leaves and comes back: a run's config.json and a checkpoint's
// header hold the whole config, and reading them rebuilds it exactly.
TEST(Config, EveryFieldRoundTripsThroughJson) {
  TrainConfig t;
  t.model.image_size = 64;
  t.model.channels = 1;
  t.model.nef = 3;
  t.model.ngf = 5;
  t.model.ndf = 7;
  t.model.bottleneck = Bottleneck::Channelwise;
  t.model.nbottleneck = 11;
  t.model.output = OutputRegion::Full;
  t.model.upsampling = Upsampling::Bilinear;
  t.model.overlap = 2;
  t.model.mask_channel = true;
  t.model.fill = HoleFill::Telea;
  t.model.residual = true;
  t.model.global_discriminator = true;
  t.model.fill_mean = {0.1f, 0.2f, 0.3f};
  t.data = {"somewhere", 0.4, 1.2, CropFrame::Whole, 1.3, false, 3, 2, 17, 300};
  t.mask = {MaskKind::Mixed, 0.2, 0.01};
  t.out_dir = "runs/x";
  t.batch_size = 9;
  t.steps = 99;
  t.lr = 1e-3;
  t.beta1 = 0.8;
  t.g_lr_mult = 10;
  t.lr_decay_from = 50;
  t.lambda_rec = 0.5;
  t.lambda_adv = 0.5;
  t.overlap_weight = 3;
  t.d_input_noise = 0.1;
  t.r1_gamma = 10;
  t.ema_decay = 0.99;
  t.ema_warmup = false;
  t.seed = 12345678901234ULL;
  t.init_from = "m.ctxm";
  t.threads = 2;
  t.precision = Precision::BF16;
  t.log_every = 2;
  t.save_every = 3;
  t.keep_every = 4;
  t.sample_every = 5;
  const nlohmann::json j = t;
  const TrainConfig back = config_from_json<TrainConfig>(j, kExitModel, "test");
  EXPECT_EQ(nlohmann::json(back), j);
  // Every field differs from its default, so a field that did not travel would show.
  const nlohmann::json defaults = TrainConfig{};
  for (auto it = j.begin(); it != j.end(); ++it) EXPECT_NE(*it, defaults.at(it.key())) << it.key();
  for (auto it = j["model"].begin(); it != j["model"].end(); ++it)
    EXPECT_NE(*it, defaults["model"].at(it.key())) << "model." << it.key();
  for (auto it = j["data"].begin(); it != j["data"].end(); ++it)
    EXPECT_NE(*it, defaults["data"].at(it.key())) << "data." << it.key();
  EXPECT_EQ(j["model"]["bottleneck"], "channelwise");  // enums by name
  EXPECT_EQ(j["data"]["frame"], "whole");
  // A field missing from the file keeps its default (older files stay readable).
  EXPECT_EQ(nlohmann::json(config_from_json<TrainConfig>(nlohmann::json::object(), kExitModel, "test")), defaults);
}

// A typo, an unknown enum name or a wrong type is an error with the caller's
// exit code, naming what is wrong; never a silent default.
TEST(Config, UnknownFieldsEnumNamesAndTypesAreErrors) {
  auto read = [](const nlohmann::json& j, ExitCode code) {
    return [j, code] { config_from_json<TrainConfig>(j, code, "recipe 'r.json'"); };
  };
  auto [code, msg] = error_of(read({{"lr", 1e-3}, {"learning_rate", 1e-3}}, kExitInput));
  EXPECT_EQ(code, kExitInput);
  EXPECT_NE(msg.find("recipe 'r.json'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'learning_rate'"), std::string::npos) << msg;
  std::tie(code, msg) = error_of(read({{"model", {{"bottlenek", "dense"}}}}, kExitModel));
  EXPECT_EQ(code, kExitModel);
  EXPECT_NE(msg.find("'model.bottlenek'"), std::string::npos) << msg;
  std::tie(code, msg) = error_of(read({{"model", {{"bottleneck", "sparse"}}}}, kExitModel));
  EXPECT_EQ(code, kExitModel);
  EXPECT_NE(msg.find("unknown bottleneck 'sparse'"), std::string::npos) << msg;
  std::tie(code, msg) = error_of(read({{"steps", "many"}}, kExitModel));
  EXPECT_EQ(code, kExitModel);
  EXPECT_NE(msg.find("number"), std::string::npos) << msg;
  std::tie(code, msg) = error_of(read(nlohmann::json::array(), kExitInput));
  EXPECT_NE(msg.find("JSON object"), std::string::npos) << msg;
  // Numbers that do not fit their field (found by tests/fuzz/fuzz_json_config: a
  // fraction of 6.4e21 into an int is undefined behaviour).
  for (const nlohmann::json& bad : {nlohmann::json{{"model", {{"nef", 6.4e21}}}}, nlohmann::json{{"steps", 2.5}},
                                    nlohmann::json{{"batch_size", 4294967298LL}}, nlohmann::json{{"seed", -1}},
                                    nlohmann::json{{"model", {{"fill_mean", {0.5, 1e300, 0.5}}}}}})
    EXPECT_THROW(config_from_json<TrainConfig>(bad, kExitInput, "r"), InputError) << bad.dump();
  EXPECT_EQ(config_from_json<TrainConfig>({{"lr", 1}, {"steps", 7}}, kExitInput, "r").lr, 1.0);  // an integer for a double
  // The same through ModelConfig, and for every enum of the config.
  for (const char* field : {"bottleneck", "output", "fill", "upsampling"})
    EXPECT_THROW(config_from_json<ModelConfig>({{field, "nonsense"}}, kExitModel, "m"), ModelFileError) << field;
  EXPECT_THROW(config_from_json<TrainConfig>({{"precision", "fp8"}}, kExitModel, "t"), ModelFileError);
  EXPECT_THROW(config_from_json<TrainConfig>({{"mask", {{"kind", "blob"}}}}, kExitModel, "t"), ModelFileError);
  EXPECT_THROW(config_from_json<TrainConfig>({{"data", {{"frame", "square"}}}}, kExitModel, "t"), ModelFileError);
}

// validate() names the field it refuses, never a command-line flag.
TEST(Config, ValidateNamesTheField) {
  auto refused = [](const std::function<void(TrainConfig&)>& set, const std::string& field) {
    TrainConfig t;
    set(t);
    auto [code, msg] = error_of([&] { t.validate(); });
    EXPECT_EQ(code, kExitUsage) << field;
    EXPECT_NE(msg.find(field), std::string::npos) << msg;
    EXPECT_EQ(msg.find("--"), std::string::npos) << msg;
  };
  refused([](TrainConfig& t) { t.batch_size = 1; }, "batch_size");
  refused([](TrainConfig& t) { t.steps = 0; }, "steps");
  refused([](TrainConfig& t) { t.save_every = 0; }, "save_every");
  refused([](TrainConfig& t) { t.keep_every = -1; }, "keep_every");
  refused([](TrainConfig& t) { t.lr_decay_from = t.steps; }, "lr_decay_from");
  refused([](TrainConfig& t) { t.ema_decay = 1; }, "ema_decay");
  refused([](TrainConfig& t) { t.d_input_noise = -1; }, "d_input_noise");
  refused([](TrainConfig& t) { t.r1_gamma = -1; }, "r1_gamma");
  refused([](TrainConfig& t) { t.model.image_size = 100; }, "image_size");
  refused([](TrainConfig& t) { t.model.overlap = 40; }, "overlap");
  refused([](TrainConfig& t) { t.data.max_crop = 1.2; }, "max_crop");
  refused([](TrainConfig& t) { t.data.min_crop = 0; }, "min_crop");
  refused([](TrainConfig& t) { t.mask.hole_ratio = 1; }, "hole_ratio");
  EXPECT_NO_THROW(TrainConfig{}.validate());
}

// A recipe nested 10,000 levels deep is refused while it is parsed, before a
// document that deep is built.
TEST(Config, JsonNestedTooDeepIsRefused) {
  const std::string deep = std::string(10000, '[') + std::string(10000, ']');
  auto [code, msg] = error_of([&] { parse_json(deep, kExitInput, "recipe 'deep.json'"); });
  EXPECT_EQ(code, kExitInput);
  EXPECT_NE(msg.find("nested deeper than 64"), std::string::npos) << msg;
  const std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_NO_THROW(parse_json(ok, kExitInput, "ok"));
  EXPECT_THROW(parse_json("{\"a\": ", kExitModel, "cut"), ModelFileError);
}

// test_cli.cpp — the `ctxenc` binary end to end: help, train -> info ->
// inpaint, and every bad input giving one clear line, a distinct non-zero
// exit code and no output file.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <opencv2/imgcodecs.hpp>

#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"
#include "ctxenc/inpaint.h"
#include "io/container.h"
#include "model/model_file.h"
#include "test_util.h"

using namespace ctxenc;
using ctxenc::test::photos_dir;
using ctxenc::test::TempDir;
using ctxenc::test::tiny_model;
using namespace ctxenc::test;
namespace fs = std::filesystem;

namespace {

std::string photo_png(const TempDir& d) {
  const std::string p = d / "photo.png";
  save_image(p, load_image_rgb(photos_dir() + "/photo3.jpg"));
  return p;
}
}  // namespace

TEST(Cli, EveryCommandHasHelp) {
  for (const char* sub : {"", "train", "inpaint", "info", "eval", "masks", "bench", "export"}) {
    CliRun r = run_cli(std::string(sub) + " --help");
    EXPECT_EQ(r.code, 0) << sub;
    EXPECT_NE(r.out.find("--help"), std::string::npos) << sub;
  }
  EXPECT_NE(run_cli("train --help").out.find("--resume"), std::string::npos);
  EXPECT_NE(run_cli("inpaint --help").out.find("--strategy"), std::string::npos);
  CliRun none = run_cli("");
  EXPECT_EQ(none.code, kExitUsage);
  CliRun bogus = run_cli("inpaint --model x --bogus");
  EXPECT_EQ(bogus.code, kExitUsage);
  EXPECT_EQ(count_lines(bogus.err), 1) << bogus.err;
}

TEST(Cli, TrainInfoInpaintEndToEnd) {
  TempDir d;
  CliRun t = run_cli("train --data " + photos_dir() + " --out " + (d / "run") +
                     " --image-size 32 --bottleneck channelwise --output full --mask free-form --nef 8 --ngf 8"
                     " --ndf 8 --batch 4 --steps 4 --sample-every 2");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_TRUE(fs::exists(d.path / "run/model.ctxm"));
  EXPECT_TRUE(fs::exists(d.path / "run/log.jsonl"));
  CliRun info = run_cli("info " + (d / "run/checkpoint.ctx"));
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_NE(info.out.find("step:        4"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("parameters"), std::string::npos);
  // Inpaint a rectangle; every known pixel must be the input's.
  const std::string in = photo_png(d);
  CliRun inp = run_cli("inpaint " + in + " --mask rect:20,20,30,25 --model " + (d / "run/model.ctxm") + " -o " +
                       (d / "out.png"));
  ASSERT_EQ(inp.code, 0) << inp.err;
  cv::Mat a = cv::imread(in), b = cv::imread(d / "out.png");
  ASSERT_EQ(a.size(), b.size());
  cv::Mat known = cv::Mat::ones(a.size(), CV_8UC1) * 255;
  known(cv::Rect(20, 20, 30, 25)).setTo(0);
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  cv::Mat diff_known;
  diff.copyTo(diff_known, known);
  EXPECT_EQ(cv::countNonZero(diff_known.reshape(1)), 0);
  EXPECT_GT(cv::countNonZero(diff.reshape(1)), 0);
  // A checkpoint exports to a model file with the same step.
  CliRun ex = run_cli("export " + (d / "run/checkpoint.ctx") + " -o " + (d / "exported.ctxm") + " --bf16");
  ASSERT_EQ(ex.code, 0) << ex.err;
  EXPECT_NE(run_cli("info " + (d / "exported.ctxm")).out.find("bf16"), std::string::npos);
  // Resume beyond the end continues the same run.
  CliRun more = run_cli("train --resume --out " + (d / "run") + " --steps 6");
  ASSERT_EQ(more.code, 0) << more.err;
  EXPECT_NE(run_cli("info " + (d / "run/model.ctxm")).out.find("step:        6"), std::string::npos);
}

TEST(Cli, BadInputsGiveOneLineADistinctCodeAndNoOutput) {
  TempDir d;
  const std::string model = write_tiny_model(d), img = photo_png(d), out = d / "out.png";
  std::ofstream(d / "notes.txt") << "not an image";
  cv::Mat wrong_shape(10, 40, CV_8UC1, cv::Scalar(255));
  cv::imwrite(d / "wide_mask.png", wrong_shape);
  {
    std::ifstream in(model, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(d / "truncated.ctxm", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  ContainerFile lie;
  ModelConfig claimed = tiny_model(32, Bottleneck::Channelwise, OutputRegion::Full);
  claimed.ngf = 16;  // tensors below are from ngf 8
  lie.header = {{"kind", "model"}, {"model", claimed}, {"step", 0}};
  lie.sections["generator"] = std::string(read_container(model).sections.at("generator"));
  write_container(d / "mismatch.ctxm", lie);
  // A model file and a run checkpoint whose configs name enum values that do not exist.
  ContainerFile odd = lie;
  odd.header["model"] = tiny_model(32, Bottleneck::Channelwise, OutputRegion::Full);
  odd.header["model"]["bottleneck"] = "sparse";
  write_container(d / "bad_enum.ctxm", odd);
  fs::create_directories(d.path / "odd_run");
  odd.header = {{"kind", "checkpoint"}, {"model", tiny_model(32)}, {"step", 1},
                {"train", {{"model", tiny_model(32)}, {"precision", "fp8"}}}};
  write_container(d / "odd_run/checkpoint.ctx", odd);
  std::ofstream(d / "typo.json") << R"({"batch_size": 4, "learning_rate": 0.001})";

  struct Case {
    std::string name, args;
    int code;
  } cases[] = {
      {"missing image", "inpaint " + (d / "nope.png") + " --mask center --model " + model + " -o " + out, kExitInput},
      {"non-image", "inpaint " + (d / "notes.txt") + " --mask center --model " + model + " -o " + out, kExitInput},
      {"mask not an image", "inpaint " + img + " --mask " + (d / "notes.txt") + " --model " + model + " -o " + out,
       kExitInput},
      {"mask of the wrong shape", "inpaint " + img + " --mask " + (d / "wide_mask.png") + " --model " + model +
                                      " -o " + out, kExitInput},
      {"missing model", "inpaint " + img + " --mask center --model " + (d / "none.ctxm") + " -o " + out, kExitModel},
      {"foreign model", "inpaint " + img + " --mask center --model " + img + " -o " + out, kExitModel},
      {"truncated model", "inpaint " + img + " --mask center --model " + (d / "truncated.ctxm") + " -o " + out,
       kExitModel},
      {"shape mismatch", "inpaint " + img + " --mask center --model " + (d / "mismatch.ctxm") + " -o " + out,
       kExitModel},
      {"bad rect", "inpaint " + img + " --mask rect:1,2,3 --model " + model + " -o " + out, kExitUsage},
      {"model file naming an unknown bottleneck", "info " + (d / "bad_enum.ctxm"), kExitModel},
      {"inpaint with that model", "inpaint " + img + " --mask center --model " + (d / "bad_enum.ctxm") + " -o " + out,
       kExitModel},
      {"resume a checkpoint naming an unknown precision", "train --resume --out " + (d / "odd_run"), kExitModel},
      {"recipe with an unknown field",
       "train --config " + (d / "typo.json") + " --data " + photos_dir() + " --out " + (d / "bad_run"), kExitInput},
      {"image above the pixel limit", "inpaint " + img + " --mask center --model " + model + " --max-pixels 100 -o " + out,
       kExitTooLarge},
      {"info on a foreign file", "info " + img, kExitModel},
      {"train without data", "train --out " + (d / "run"), kExitUsage},
      {"train on a missing folder", "train --data " + (d / "nowhere") + " --out " + (d / "run"), kExitData},
      {"resume without checkpoint", "train --resume --out " + (d / "empty_run"), kExitModel},
      {"checkpoint every 0 steps", "train --data " + photos_dir() + " --out " + (d / "bad_run") + " --save-every 0",
       kExitUsage},
      {"log every 0 steps", "train --data " + photos_dir() + " --out " + (d / "bad_run") + " --log-every 0",
       kExitUsage},
      {"negative snapshot interval",
       "train --data " + photos_dir() + " --out " + (d / "bad_run") + " --keep-every -1", kExitUsage},
      {"learning-rate decay from past the end",
       "train --data " + photos_dir() + " --out " + (d / "bad_run") + " --steps 10 --lr-decay-from 10", kExitUsage},
      {"negative instance noise",
       "train --data " + photos_dir() + " --out " + (d / "bad_run") + " --d-input-noise -0.1", kExitUsage},
      {"weight average decay of 1 or more",
       "train --data " + photos_dir() + " --out " + (d / "bad_run") + " --ema-decay 2", kExitUsage},
      {"max crop with a short-side frame",
       "train --data " + photos_dir() + " --out " + (d / "bad_run") + " --max-crop 1.2", kExitUsage},
      {"unknown crop frame",
       "train --data " + photos_dir() + " --out " + (d / "bad_run") + " --crop-frame square", kExitUsage},
      {"start from a missing model",
       "train --data " + photos_dir() + " --out " + (d / "bad_run") + " --init-from " + (d / "none.ctxm"),
       kExitModel},
      {"start from a model of another architecture",
       "train --data " + photos_dir() + " --out " + (d / "bad_run") + " --image-size 64 --init-from " + model,
       kExitModel},
      {"negative R1 weight",
       "train --data " + photos_dir() + " --out " + (d / "bad_run") + " --r1-gamma -1", kExitUsage},
      {"center fit too small", "inpaint " + img + " --mask center --model " + model + " --center-fit 0.5 -o " + out,
       kExitUsage},
      {"center fit too large in eval",
       "eval --data " + photos_dir() + " --model " + model + " --center-fit 2 --out " + (d / "bad_eval"), kExitUsage},
      {"recalibrate on a missing folder",
       "export " + model + " --recalibrate-bn " + (d / "nowhere") + " -o " + out, kExitUsage},
      {"export a missing checkpoint", "export " + (d / "none.ctx") + " -o " + out, kExitModel},
      {"export a truncated file", "export " + (d / "truncated.ctxm") + " -o " + out, kExitModel},
      {"export into a missing folder", "export " + model + " -o " + (d / "no_dir/m.ctxm"), kExitOutput},
  };
  for (const auto& c : cases) {
    CliRun r = run_cli(c.args);
    EXPECT_EQ(r.code, c.code) << c.name << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << c.name << ": " << r.err;
    EXPECT_EQ(r.err.rfind("ctxenc: ", 0), 0u) << c.name << ": " << r.err;
    EXPECT_FALSE(fs::exists(out)) << c.name;
  }
  EXPECT_FALSE(fs::exists(d.path / "bad_run"));  // a refused run leaves no run directory
  EXPECT_FALSE(fs::exists(d.path / "bad_eval"));
  // The output directory holds no temp files either.
  for (const auto& e : fs::directory_iterator(d.path))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
}

// The errors name what to change: the library's field, or the flag that sets a limit.
TEST(Cli, ErrorsNameTheFlagOrFieldToChange) {
  TempDir d;
  const std::string model = write_tiny_model(d), img = photo_png(d);
  CliRun big = run_cli("inpaint " + img + " --mask center --model " + model + " --max-pixels 100 -o " + (d / "o.png"));
  EXPECT_EQ(big.code, kExitTooLarge);
  EXPECT_NE(big.err.find("--max-pixels"), std::string::npos) << big.err;
  std::ofstream(d / "typo.json") << R"({"batch_size": 4, "learning_rate": 0.001})";
  CliRun typo = run_cli("train --config " + (d / "typo.json") + " --data " + photos_dir() + " --out " + (d / "r"));
  EXPECT_NE(typo.err.find("'learning_rate'"), std::string::npos) << typo.err;
  CliRun batch = run_cli("train --data " + photos_dir() + " --out " + (d / "r") + " --batch 1");
  EXPECT_EQ(batch.code, kExitUsage);
  EXPECT_NE(batch.err.find("batch_size"), std::string::npos) << batch.err;
}

// --help shows the library's defaults, read from its config structs.
TEST(Cli, HelpShowsTheLibraryDefaults) {
  const std::string inpaint = run_cli("inpaint --help").out, eval = run_cli("eval --help").out,
                    train = run_cli("train --help").out;
  auto shows = [](const std::string& help, const std::string& flag, const std::string& value) {
    const auto at = help.find(flag);
    ASSERT_NE(at, std::string::npos) << flag;
    const std::string line = help.substr(at, help.find('\n', at) - at);
    EXPECT_NE(line.find(value), std::string::npos) << flag << ": " << line;
  };
  const InpaintOptions io;
  shows(inpaint, "--blend", to_string(io.blend));
  shows(inpaint, "--strategy", to_string(io.strategy));
  shows(inpaint, "--center-fit", "0.98");
  shows(eval, "--blend", "none");  // eval scores the raw prediction
  shows(eval, "--baselines", "telea,ns,mean");
  const TrainConfig tc;
  shows(train, "--lr ", "0.0002");
  shows(train, "--batch ", std::to_string(tc.batch_size));
  shows(train, "--bottleneck", to_string(tc.model.bottleneck));
  shows(train, "--lambda-adv", "0.001");
}

// From a folder with no ../shared/bench beside it, as in a fresh clone, bench
// times ctxenc alone and says so; a --reference that is not there is an error.
TEST(Cli, BenchRunsWithoutTheReferenceScript) {
  TempDir d;
  CliRun r = run_cli("bench --mode infer --bottleneck channelwise --batch 1 --precision fp32 --iters 1 --threads 1",
                     d.path.string());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("no reference script"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("infer:channelwise:1:fp32"), std::string::npos) << r.out;
  CliRun missing = run_cli("bench --mode infer --reference " + (d / "none.py"), d.path.string());
  EXPECT_EQ(missing.code, kExitInput) << missing.err;
}

// A disk that fills during a checkpoint (a file-size limit here) stops the run
// with one line and exit 5; the last checkpoint stays whole and resumes.
TEST(Cli, AFullDiskDuringASaveKeepsTheLastCheckpoint) {
  TempDir d;
  const std::string run = d / "run";
  const std::string common = " --image-size 32 --bottleneck channelwise --nef 8 --ngf 8 --ndf 8 --batch 4"
                             " --sample-every 0 --ema-decay 0.9";
  ASSERT_EQ(run_cli("train --data " + photos_dir() + " --out " + run + common + " --steps 2").code, 0);
  const auto full = fs::file_size(run + "/checkpoint.ctx");
  const std::string blocks = std::to_string(full / 512 / 2);  // dash: 512-byte blocks; half a checkpoint
  CliRun cut = run_cli("train --resume --out " + run + " --steps 6 --save-every 2", "", "ulimit -f " + blocks);
  EXPECT_EQ(cut.code, kExitOutput) << cut.err;
  const std::string last = cut.err.substr(cut.err.rfind('\n', cut.err.size() - 2) + 1);  // the error: one line, last
  EXPECT_EQ(last.rfind("ctxenc: error: cannot write", 0), 0u) << cut.err;
  EXPECT_NE(last.find("File too large"), std::string::npos) << cut.err;
  EXPECT_EQ(fs::file_size(run + "/checkpoint.ctx"), full);
  for (const auto& e : fs::directory_iterator(run))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
  CliRun info = run_cli("info " + run + "/checkpoint.ctx");
  EXPECT_NE(info.out.find("step:        2"), std::string::npos) << info.out;
  CliRun again = run_cli("train --resume --out " + run + " --steps 6 --save-every 2");
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(run_cli("info " + run + "/model.ctxm").out.find("step:        6"), std::string::npos);
}

namespace {
// Runs the built `ctxenc` with args (stdout to /dev/null, stderr to err_path);
// returns its exit code and its peak resident memory in MB (wait4's rusage).
std::pair<int, double> exit_code_and_peak_mb(const std::string& args, const std::string& err_path) {
  const std::string cmd = "exec " + std::string(CTXENC_CLI_PATH) + " " + args + " >/dev/null 2>" + err_path;
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, usage.ru_maxrss / 1024.0};
}
}  // namespace

// Bombs are refused with their exit code before anything large is allocated:
// a 100 kB PNG declaring 60000x60000, a model file whose config declares a
// network far larger than its weights, a recipe nested 10,000 levels deep.
// Each stays under 200 MB (a bare `ctxenc --help` takes about 165 MB here:
// libtorch's pages), measured without sanitizers, whose shadow memory would
// count too.
TEST(Cli, BombsAreRefusedWithTheirCodeInUnder200MB) {
  TempDir d;
  const std::string model = write_tiny_model(d), img = photo_png(d), out = d / "out.png";
  const std::string bomb_png = source_path("tests/fuzz/corpus/fuzz_image/bomb.png");
  ASSERT_LT(fs::file_size(bomb_png), 200'000u);
  const ContainerView view = read_container(model);
  ContainerFile c;
  c.header = view.header;
  c.header.erase("sections");
  for (const auto& [name, bytes] : view.sections) c.sections[name] = std::string(bytes);
  c.header["model"]["bottleneck"] = "dense";
  c.header["model"]["nbottleneck"] = 65536;
  c.header["model"]["ngf"] = 1024;
  write_container(d / "bomb.ctxm", c);
  // A run folder whose checkpoint declares the same huge network.
  const std::string run = d / "bomb_run";
  ASSERT_EQ(run_cli("train --data " + photos_dir() + " --out " + run + " --image-size 32 --bottleneck channelwise"
                    " --nef 8 --ngf 8 --ndf 8 --batch 2 --steps 1 --sample-every 0").code, 0);
  {
    const ContainerView ck = read_container(run + "/checkpoint.ctx");
    ContainerFile b;
    b.header = ck.header;
    b.header.erase("sections");
    for (const auto& [name, bytes] : ck.sections) b.sections[name] = std::string(bytes);
    for (auto* m : {&b.header["model"], &b.header["train"]["model"]}) {
      (*m)["bottleneck"] = "dense";
      (*m)["nbottleneck"] = 65536;
      (*m)["ngf"] = 1024;
    }
    write_container(run + "/checkpoint.ctx", b);
  }
  std::ofstream(d / "deep.json") << std::string(10000, '[') << std::string(10000, ']');
  std::ofstream(d / "deep_objects.json") << [] {
    std::string s;
    for (int i = 0; i < 10000; ++i) s += "{\"a\":";
    return s + "1" + std::string(10000, '}');
  }();
  struct Case {
    std::string name, args;
    int code;
    std::string says;  // in the error line
  } cases[] = {
      {"PNG declaring 60000x60000", "inpaint " + bomb_png + " --mask center --model " + model + " -o " + out,
       kExitTooLarge, "60000x60000"},
      {"the same as a mask", "inpaint " + img + " --mask " + bomb_png + " --model " + model + " -o " + out,
       kExitTooLarge, "60000x60000"},
      {"model file declaring a huge network", "inpaint " + img + " --mask center --model " + (d / "bomb.ctxm") +
                                                  " -o " + out, kExitModel, "declares a generator of"},
      {"info on it", "info " + (d / "bomb.ctxm"), kExitModel, "declares a generator of"},
      {"resume from a checkpoint declaring it", "train --resume --out " + run, kExitModel,
       "declares a generator of"},
      {"recipe of arrays nested 10,000 deep",
       "train --config " + (d / "deep.json") + " --data " + photos_dir() + " --out " + (d / "run"), kExitInput,
       "nested deeper than 64"},
      {"recipe of objects nested 10,000 deep",
       "train --config " + (d / "deep_objects.json") + " --data " + photos_dir() + " --out " + (d / "run"),
       kExitInput, "nested deeper than 64"},
  };
  for (const auto& c : cases) {
    const auto [code, peak_mb] = exit_code_and_peak_mb(c.args, d / "err");
    EXPECT_EQ(code, c.code) << c.name;
    const std::string err = slurp(d / "err");
    EXPECT_NE(err.find(c.says), std::string::npos) << c.name << ": " << err;
#if !defined(__SANITIZE_ADDRESS__)
    EXPECT_LT(peak_mb, 200.0) << c.name;
#endif
    std::cout << c.name << ": exit " << code << ", peak " << peak_mb << " MB\n";
    EXPECT_FALSE(fs::exists(out)) << c.name;
    EXPECT_FALSE(fs::exists(d.path / "run")) << c.name;
  }
}

TEST(Cli, MaskOfAnotherResolutionIsResizedWithAWarning) {
  TempDir d;
  const std::string model = write_tiny_model(d), img = photo_png(d);
  cv::Mat im = cv::imread(img);
  cv::Mat half(im.rows / 2, im.cols / 2, CV_8UC1, cv::Scalar(0));
  half(cv::Rect(10, 10, 8, 8)).setTo(255);
  cv::imwrite(d / "half.png", half);
  CliRun r = run_cli("inpaint " + img + " --mask " + (d / "half.png") + " --model " + model + " -o " + (d / "o.png"));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning"), std::string::npos);
  EXPECT_TRUE(fs::exists(d.path / "o.png"));
}

TEST(Cli, BatchInpaintCompletesTheRestAndReportsFailures) {
  TempDir d;
  const std::string model = write_tiny_model(d);
  fs::create_directories(d.path / "in");
  fs::create_directories(d.path / "masks");
  for (const char* name : {"a", "b"}) {
    save_image(d / (std::string("in/") + name + ".png"), load_image_rgb(photos_dir() + "/photo2.jpg"));
    cv::Mat m = cv::Mat::zeros(cv::imread(d / "in/a.png").size(), CV_8UC1);
    m(cv::Rect(5, 5, 20, 20)).setTo(255);
    cv::imwrite(d / (std::string("masks/") + name + ".png"), m);
  }
  std::ofstream(d / "in/broken.png") << "not a png";
  CliRun r = run_cli("inpaint --input " + (d / "in") + " --masks " + (d / "masks") + " --model " + model +
                        " --output " + (d / "out") + " --concat");
  EXPECT_EQ(r.code, kExitInput) << r.err;
  EXPECT_TRUE(fs::exists(d.path / "out/a.png"));
  EXPECT_TRUE(fs::exists(d.path / "out/b.png"));
  EXPECT_FALSE(fs::exists(d.path / "out/broken.png"));
  EXPECT_NE(r.err.find("failed: broken.png"), std::string::npos) << r.err;
  // --concat: input | mask | result side by side.
  cv::Mat a = cv::imread(d / "in/a.png"), c = cv::imread(d / "out/a.png");
  EXPECT_EQ(c.cols, 3 * a.cols);
  // One mask for every image.
  CliRun one = run_cli("inpaint --input " + (d / "in") + " --masks " + (d / "masks/a.png") + " --model " + model +
                          " --output " + (d / "out2"));
  EXPECT_EQ(one.code, kExitInput);
  EXPECT_TRUE(fs::exists(d.path / "out2/b.png"));
}

TEST(Cli, BenchTimesTheDecoderItIsAskedFor) {
  // One inference case per decoder, as `ctxenc bench --upsampling ...` runs them.
  auto gflop = [](const std::string& spec) {
    CliRun r = run_cli("bench --child " + spec + " --iters 1 --threads 1");
    EXPECT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
    EXPECT_GT(j.at("images_per_s").get<double>(), 0.0);
    return j.at("gflop_per_image").get<double>();
  };
  const double transposed = gflop("infer:channelwise:1:fp32"), bilinear = gflop("infer:channelwise:1:fp32:bilinear");
  // A 3x3 conv at twice the side costs 9*4/16 = 2.25x a 4x4 transposed conv
  // at the input side; the decoder is about a third of this model's forward
  // (0.58 GFLOP per 128x128 image), so the bilinear one costs ~1.45x in all.
  EXPECT_NEAR(transposed, 0.58, 0.01);
  EXPECT_GT(bilinear, 1.3 * transposed);
  EXPECT_EQ(run_cli("bench --upsampling bogus --no-reference").code, kExitUsage);
}

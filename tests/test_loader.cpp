// test_loader.cpp — the training loader: crops, determinism, holes and pre-fill as the
// model's HoleMapping says, corrupt files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"
#include "io/dataset.h"
#include "model/hole_mapping.h"
#include "train/loader.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;

namespace {
// The holes of a 32 px full-output model: drawn from the mask config.
HoleMapping full32(HoleFill fill = HoleFill::Mean) {
  ModelConfig mc = tiny_model(32, Bottleneck::Channelwise, OutputRegion::Full);
  mc.fill = fill;
  return HoleMapping(mc);
}
}  // namespace

TEST(Loader, AugmentedCropsHaveTheModelSizeAndAreSeeded) {
  cv::Mat img = load_image_rgb(photos()[0]);
  DataConfig dc;
  cv::Mat a = augment_crop(img, dc, 32, 5), b = augment_crop(img, dc, 32, 5), c = augment_crop(img, dc, 32, 6);
  EXPECT_EQ(a.size(), cv::Size(32, 32));
  EXPECT_EQ(cv::norm(a, b, cv::NORM_L1), 0.0);
  EXPECT_GT(cv::norm(a, c, cv::NORM_L1), 0.0);
}

TEST(Loader, WholeFrameSqueezesThePhotoAndReflectsPastIt) {
  // A 60x40 photo: left half red, right half blue, a green band in its top 4 rows.
  cv::Mat img(40, 60, CV_8UC3, cv::Scalar(255, 0, 0));
  img(cv::Rect(30, 0, 30, 40)).setTo(cv::Scalar(0, 0, 255));
  img(cv::Rect(0, 0, 60, 4)).setTo(cv::Scalar(0, 255, 0));
  DataConfig dc;
  dc.frame = CropFrame::Whole;
  dc.hflip = false;
  dc.max_aspect = 1.0;
  dc.min_crop = dc.max_crop = 1.0;  // exactly what eval feeds: the whole photo squeezed
  cv::Mat squeezed;
  cv::resize(img, squeezed, cv::Size(20, 20), 0, 0, cv::INTER_AREA);
  EXPECT_EQ(cv::norm(augment_crop(img, dc, 20, 7), squeezed, cv::NORM_L1), 0.0);
  // Window 1.5x each side: the photo fills the middle two thirds, its border is mirrored around it.
  dc.min_crop = dc.max_crop = 1.5;
  for (uint64_t seed : {1, 2, 3}) {
    cv::Mat w = augment_crop(img, dc, 90, seed);  // 90x90 from a 90x60 window: x 1, y 1.5
    ASSERT_EQ(w.size(), cv::Size(90, 90));
    // Left and right thirds: reflections of the red and blue halves.
    EXPECT_EQ(w.at<cv::Vec3b>(45, 2), cv::Vec3b(255, 0, 0)) << seed;
    EXPECT_EQ(w.at<cv::Vec3b>(45, 87), cv::Vec3b(0, 0, 255)) << seed;
    // Wherever the photo sits, its green top band (and the band's mirror image above it) is in the
    // upper half of the window, and the lower half, photo or mirrored bottom, has none.
    int green_top = 0, green_bottom = 0;
    for (int y = 0; y < 90; ++y) (y < 45 ? green_top : green_bottom) += w.at<cv::Vec3b>(y, 20)[1] > 200;
    EXPECT_GT(green_top, 0) << seed;
    EXPECT_EQ(green_bottom, 0) << seed;
  }
  // Settings augment_crop cannot honour are refused.
  dc.min_crop = 1.6;
  EXPECT_THROW(dc.validate(), UsageError);  // above max_crop
  dc.frame = CropFrame::ShortSide;
  dc.min_crop = 0.5;
  EXPECT_THROW(dc.validate(), UsageError);  // max_crop 1.5 with a short-side frame
  dc.max_crop = 1.0;
  EXPECT_NO_THROW(dc.validate());
}

TEST(Loader, BatchesDependOnlyOnSeedAndStep) {
  DataConfig one, three;
  one.loader_threads = 1;
  three.loader_threads = 3;
  three.prefetch_batches = 3;
  TrainLoader a(photos(), one, free_form(), full32(), 5, 7, 0), b(photos(), three, free_form(), full32(), 5, 7, 0);
  std::vector<Batch> first;
  for (int i = 0; i < 4; ++i) {
    Batch x = a.next(), y = b.next();
    EXPECT_EQ(x.step, i);
    EXPECT_TRUE(torch::equal(x.images, y.images)) << i;
    EXPECT_TRUE(torch::equal(x.holes, y.holes)) << i;
    first.push_back(x);
  }
  EXPECT_FALSE(torch::equal(first[0].images, first[1].images));
  // Starting at step 1 or 2 (a resumed run) gives those batches again, whatever
  // the step's position in the prefetch ring.
  for (int start : {1, 2}) {
    TrainLoader c(photos(), three, free_form(), full32(), 5, 7, start);
    for (int s = start; s < 4; ++s) {
      Batch b = c.next();
      EXPECT_EQ(b.step, s);
      EXPECT_TRUE(torch::equal(b.images, first[s].images)) << start << " " << s;
      EXPECT_TRUE(torch::equal(b.holes, first[s].holes)) << start << " " << s;
    }
  }
  // Value range, layout and hole ratio.
  EXPECT_EQ(first[0].images.sizes().vec(), (std::vector<int64_t>{5, 3, 32, 32}));
  EXPECT_TRUE(first[0].images.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_LE(first[0].images.abs().max().item<float>(), 1.0f);
  EXPECT_NEAR(first[0].holes.mean().item<float>(), 0.25f, 0.03f);
}

TEST(Loader, TeleaPrefillFillsOnlyTheHoles) {
  DataConfig dc;
  dc.loader_threads = 2;
  TrainLoader loader(photos(), dc, free_form(), full32(HoleFill::Telea), 4, 3, 0);
  Batch b = loader.next();
  ASSERT_TRUE(b.prefilled.defined());
  EXPECT_EQ(b.prefilled.sizes(), b.images.sizes());
  auto known = (b.holes == 0).expand_as(b.images);
  EXPECT_TRUE(torch::allclose(b.prefilled.masked_select(known), b.images.masked_select(known), 0, 1e-6));
  auto hole = (b.holes > 0).expand_as(b.images);
  EXPECT_FALSE(torch::equal(b.prefilled.masked_select(hole), b.images.masked_select(hole)));
  TrainLoader plain(photos(), dc, free_form(), full32(), 4, 3, 0);
  EXPECT_FALSE(plain.next().prefilled.defined());
}

// A center model's loader hands out its own square as every hole (what its
// HoleMapping says), and the pre-fill fills that square.
TEST(Loader, FixedHoleIsEverySamplesHoleAndThePrefillsHole) {
  DataConfig dc;
  dc.loader_threads = 2;
  ModelConfig mc;
  mc.image_size = 32;
  mc.overlap = 2;
  mc.fill = HoleFill::Telea;
  const HoleMapping holes(mc);
  const cv::Mat square = holes.sample_hole(free_form(), 0);  // 12x12 at (10, 10)
  ASSERT_EQ(cv::countNonZero(square), 12 * 12);
  ASSERT_EQ(cv::countNonZero(square(cv::Rect(10, 10, 12, 12))), 12 * 12);
  TrainLoader loader(photos(), dc, free_form(), holes, 4, 3, 0);
  Batch b = loader.next();
  EXPECT_TRUE(torch::equal(b.holes, holes.network_holes(b.holes)));
  auto known = (b.holes == 0).expand_as(b.images);
  EXPECT_TRUE(torch::allclose(b.prefilled.masked_select(known), b.images.masked_select(known), 0, 1e-6));
  // Inside the square: Telea's fill of the square, not the photo.
  cv::Mat crop(32, 32, CV_32FC3, b.images[0].permute({1, 2, 0}).contiguous().data_ptr<float>()), crop8, telea;
  crop.convertTo(crop8, CV_8UC3, 127.5, 127.5);
  cv::inpaint(crop8, square, telea, 5.0, cv::INPAINT_TELEA);
  auto want = to_model_range(torch::from_blob(telea.data, {1, 32, 32, 3}, torch::kUInt8).clone());
  EXPECT_LT((b.prefilled[0] - want[0]).abs().max().item<float>(), 2.5f / 127.5f);
}

TEST(Loader, CorruptFilesAreSkippedWarnedAndCounted) {
  TempDir d;
  for (const auto& f : photos()) fs::copy_file(f, d.path / fs::path(f).filename());
  std::ofstream(d / "garbage.jpg") << "this is not a jpeg";
  std::ofstream(d / "empty.png");
  {
    std::ifstream in(photos()[0], std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(d / "truncated.jpg", std::ios::binary) << bytes.substr(0, 200);
  }
  auto files = list_dataset(d.path.string()).files;
  ASSERT_EQ(files.size(), 11u);
  std::vector<std::string> warnings;
  std::mutex mu;
  DataConfig dc;
  dc.loader_threads = 2;
  TrainLoader loader(files, dc, free_form(), full32(), 8, 1, 0, [&](const std::string& w) {
    std::lock_guard<std::mutex> l(mu);
    warnings.push_back(w);
  });
  for (int i = 0; i < 6; ++i) {  // 48 samples: every file is visited
    Batch b = loader.next();
    EXPECT_TRUE(torch::isfinite(b.images).all().item<bool>());
  }
  EXPECT_GE(loader.skipped_files(), 2);  // garbage + empty (truncated JPEGs may decode partially)
  EXPECT_EQ(static_cast<int64_t>(warnings.size()), loader.skipped_files());
  for (const auto& w : warnings) EXPECT_NE(w.find("skipping"), std::string::npos);
}

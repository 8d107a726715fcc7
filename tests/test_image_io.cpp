// test_image_io.cpp — reading images: header probing and pixel limits before decoding, grey,
// RGBA and WebP files; folders of images listed and matched by name.
#include <gtest/gtest.h>

#include <filesystem>
#include <algorithm>
#include <fstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;

TEST(ImageIo, HugeImagesAreRefusedBeforeDecoding) {
  TempDir d;
  // A PNG whose header claims 20000x20000 and which holds no pixel data at all.
  const unsigned char hdr[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                               0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20, 8, 2, 0, 0, 0, 0, 0, 0, 0};
  std::ofstream(d / "huge.png", std::ios::binary).write(reinterpret_cast<const char*>(hdr), sizeof(hdr));
  ImageInfo info = probe_image(d / "huge.png");
  EXPECT_EQ(info.width, 20000);
  EXPECT_EQ(info.height, 20000);
  EXPECT_THROW(load_image_rgb(d / "huge.png"), TooLargeError);
  EXPECT_THROW(load_image_rgb(d / "huge.png", 1000), TooLargeError);
}

TEST(ImageIo, ReadsGreyRgbaAndWebpAsRgb) {
  TempDir d;
  cv::Mat bgr = cv::imread(photos_dir() + "/photo1.jpg"), grey, bgra;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  cv::imwrite(d / "g.png", grey);
  cv::imwrite(d / "a.png", bgra);
  cv::imwrite(d / "w.webp", bgr);
  for (const char* f : {"g.png", "a.png", "w.webp"}) {
    cv::Mat m = load_image_rgb(d / f);
    EXPECT_EQ(m.type(), CV_8UC3) << f;
    EXPECT_EQ(m.size(), bgr.size()) << f;
    EXPECT_EQ(probe_image(d / f).width, bgr.cols) << f;
  }
  EXPECT_EQ(probe_image(photos_dir() + "/photo1.jpg").height, bgr.rows);
}

TEST(ImageIo, FoldersAreListedAndMatchedByOneRule) {
  TempDir d;
  const cv::Mat px(4, 4, CV_8UC3, cv::Scalar(1, 2, 3));
  fs::create_directories(d.path / "a" / "b");
  fs::create_directories(d.path / "c");
  for (const char* f : {"top.png", "a/b/tree.jpg", "a/leaf.PNG", "c/leaf.webp", "c/only.bmp"})
    cv::imwrite(d / f, px);
  std::ofstream(d / "notes.txt") << "not an image";
  std::ofstream(d / "a/b/fake.jpg.txt") << "not an image either";
  const auto all = list_images(d.path.string());
  ASSERT_EQ(all.size(), 5u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(list_images(d.path.string(), /*recursive=*/false), std::vector<std::string>{d / "top.png"});
  EXPECT_TRUE(list_images(d / "missing").empty());

  const ImageFolderIndex index(d.path.string());
  EXPECT_EQ(index.find("a/b/tree"), d / "a/b/tree.jpg");  // by relative name, any extension
  EXPECT_EQ(index.find("x/y/tree"), d / "a/b/tree.jpg");  // else by a unique stem
  EXPECT_EQ(index.find("only"), d / "c/only.bmp");
  EXPECT_EQ(index.find("c/leaf"), d / "c/leaf.webp");     // the relative name decides between two leaves
  EXPECT_EQ(index.find("leaf"), "");                      // a stem two files share matches neither
  EXPECT_EQ(index.find("nothing"), "");
}

// Formats whose header does not give ctxenc the size are never decoded: one of
// OpenCV's other readers (DICOM through GDAL) aborted the process on this file
// (found by tests/fuzz/fuzz_image). A PNG declaring 60000x60000 is refused
// from its header.
TEST(ImageIo, OnlyProbedFormatsReachADecoder) {
  const std::string corpus = source_path("tests/fuzz/corpus/fuzz_image/");
  EXPECT_THROW(load_image_rgb(corpus + "regression-dicom-through-gdal-abort"), InputError);
  EXPECT_THROW(load_mask(corpus + "regression-dicom-through-gdal-abort"), InputError);
  EXPECT_THROW(load_image_rgb(corpus + "rgb.tif"), InputError);
  EXPECT_THROW(load_image_rgb(corpus + "rgb.ppm"), InputError);
  try {
    load_image_rgb(corpus + "bomb.png");
    ADD_FAILURE() << "the bomb was decoded";
  } catch (const TooLargeError& e) {
    EXPECT_NE(std::string(e.what()).find("60000x60000"), std::string::npos) << e.what();
  }
  EXPECT_EQ(load_image_rgb(corpus + "rgb.png").size(), cv::Size(16, 12));
}

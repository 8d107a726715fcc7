// test_image_io.cpp — reading images: header probing and pixel limits before decoding, grey,
// RGBA and WebP files; folders of images listed and matched by name.
#include <gtest/gtest.h>

#include <filesystem>
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

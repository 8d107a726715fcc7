// inpaint_one MODEL PHOTO OUT.png — fills the model's central hole of one photo
// through ctxenc's public API (as `ctxenc inpaint PHOTO --mask center`).
#include <iostream>

#include <ctxenc/errors.h>
#include <ctxenc/image_io.h>
#include <ctxenc/inpaint.h>
#include <ctxenc/version.h>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: inpaint_one MODEL PHOTO OUT.png   (MODEL: a .ctxm file, or center / region)\n";
    return 2;
  }
  try {
    ctxenc::Inpainter inpainter(argv[1], ctxenc::InpaintOptions{});  // a bare name: the installed models
    cv::Mat photo = ctxenc::load_image_rgb(argv[2]);                  // RGB, CV_8UC3
    cv::Mat hole = inpainter.photo_center_hole(photo.cols, photo.rows);
    ctxenc::InpaintReport report;
    cv::Mat filled = inpainter.inpaint(photo, hole, &report);
    ctxenc::save_image(argv[3], filled);
    std::cout << "ctxenc " << ctxenc::version() << ": filled " << report.holes << " hole(s) -> " << argv[3] << "\n";
  } catch (const ctxenc::Error& e) {
    std::cerr << "inpaint_one: " << e.what() << "\n";
    return e.code();
  }
  return 0;
}

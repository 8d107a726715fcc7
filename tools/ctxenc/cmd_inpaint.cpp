// cmd_inpaint.cpp — `ctxenc inpaint`: one image or a whole folder, with a mask
// file, `center`, or `rect:x,y,w,h`; strategy and blend selectable.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include <opencv2/imgproc.hpp>

#include "commands.h"
#include "ctxenc/config.h"
#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"
#include "ctxenc/inpaint.h"
#include "ctxenc/masks.h"
#include "options.h"
#include "progress.h"

namespace ctxenc::cli {
namespace fs = std::filesystem;
namespace {

struct InpaintCliOptions {
  std::string image, mask, model, output;     // single-image mode
  std::string input_dir, masks, output_dir;   // batch mode
  InpaintOptions inpaint;                     // how the holes are filled
  int64_t max_pixels = kDefaultMaxPixels;     // refuse larger images
  bool concat = false;                        // write input | mask | result
};

// `center`, `rect:x,y,w,h`, or a mask image (resized with a warning if needed).
cv::Mat resolve_mask(const std::string& spec_text, const cv::Mat& image, const Inpainter& inp, int64_t max_pixels) {
  const MaskSpec spec = parse_mask_spec(spec_text);
  if (spec.kind == MaskSpec::Kind::Center) return inp.photo_center_hole(image.cols, image.rows);
  if (spec.kind == MaskSpec::Kind::Rect) return rect_mask(spec.rect, image.cols, image.rows);
  const cv::Mat m = load_mask(spec.path, max_pixels);
  bool resized = false;
  cv::Mat fitted = fit_mask(m, image.size(), spec.path, &resized);
  if (resized)
    std::cerr << "ctxenc: warning: mask '" << spec.path << "' is " << m.cols << "x" << m.rows << ", image is "
              << image.cols << "x" << image.rows << "; resizing the mask (nearest neighbour)\n";
  return fitted;
}

cv::Mat concat_view(const cv::Mat& image, const cv::Mat& mask, const cv::Mat& result) {
  cv::Mat m3, out;
  cv::cvtColor(mask, m3, cv::COLOR_GRAY2RGB);
  cv::hconcat(std::vector<cv::Mat>{image, m3, result}, out);
  return out;
}

void inpaint_one(const Inpainter& inp, const std::string& image_path, const std::string& mask_spec,
                 const std::string& out_path, const InpaintCliOptions& o, bool quiet) {
  cv::Mat image = load_image_rgb(image_path, o.max_pixels);
  cv::Mat mask = resolve_mask(mask_spec, image, inp, o.max_pixels);
  InpaintReport rep;
  cv::Mat result = inp.inpaint(image, mask, &rep);
  if (rep.holes == 0 && !quiet)
    std::cerr << "ctxenc: note: the mask of '" << image_path << "' is empty; the output is a copy of the input\n";
  save_image(out_path, o.concat ? concat_view(image, mask, result) : result);
  if (!quiet)
    std::cerr << "ctxenc: filled " << rep.holes << " hole(s), " << 100.0 * rep.hole_ratio << "% of the image, "
              << rep.windows << " model window(s) -> " << out_path << "\n";
}

void run_batch(const Inpainter& inp, const InpaintCliOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(o.input_dir, ec)) throw InputError("--input '" + o.input_dir + "' is not a directory");
  if (o.output_dir.empty()) throw UsageError("--input needs --output DIR");
  if (o.masks.empty()) throw UsageError("--input needs --masks DIR|FILE|center|rect:x,y,w,h");
  const std::vector<std::string> images = list_images(o.input_dir, /*recursive=*/false);
  if (images.empty()) throw InputError("--input '" + o.input_dir + "' holds no images");
  std::unique_ptr<ImageFolderIndex> mask_index;  // a folder of masks, matched by name
  if (fs::is_directory(o.masks, ec)) mask_index = std::make_unique<ImageFolderIndex>(o.masks);
  fs::create_directories(o.output_dir, ec);
  if (ec) throw OutputError("cannot create '" + o.output_dir + "': " + ec.message());

  ProgressBar bar("inpaint", static_cast<int64_t>(images.size()), 0, "img");
  std::vector<std::string> failures;
  int64_t done = 0;
  for (const auto& img : images) {
    const fs::path path(img);
    const std::string stem = path.stem().string();
    try {
      std::string spec = o.masks;
      if (mask_index) {
        spec = mask_index->find(stem);
        if (spec.empty()) throw InputError("no mask named '" + stem + ".*' in " + o.masks);
      }
      inpaint_one(inp, img, spec, (fs::path(o.output_dir) / (stem + ".png")).string(), o, true);
    } catch (const std::exception& e) {
      failures.push_back(path.filename().string() + ": " + e.what());
    }
    bar.update(++done);
  }
  bar.finish();
  std::cerr << "ctxenc: " << images.size() - failures.size() << " of " << images.size() << " image(s) written to "
            << o.output_dir << "\n";
  if (!failures.empty()) {
    for (const auto& f : failures) std::cerr << "ctxenc: failed: " << f << "\n";
    throw InputError(std::to_string(failures.size()) + " image(s) failed (listed above)");
  }
}

void run_inpaint(const InpaintCliOptions& o) {
  if (o.inpaint.precision == Precision::BF16 && !bf16_convolutions_fast())
    std::cerr << "ctxenc: " << bf16_slow_warning() << "\n";
  if (o.input_dir.empty() && o.image.empty()) throw UsageError("give an IMAGE, or --input DIR for a folder");
  if (!o.input_dir.empty() && !o.image.empty()) throw UsageError("give either an IMAGE or --input DIR, not both");
  if (o.max_pixels < 64) throw UsageError("--max-pixels must be >= 64");
  if (o.image.size()) {
    if (o.output.empty()) throw UsageError("-o OUT.png is required");
    if (o.mask.empty()) throw UsageError("--mask center|rect:x,y,w,h|MASK.png is required");
    // Check the inputs before the (slower, larger) model load, for fast clear
    // errors: a decompression bomb is refused from its header in the memory
    // of a bare start (docs/reliability.md).
    probe_image(o.image, o.max_pixels);
    if (const MaskSpec spec = parse_mask_spec(o.mask); spec.kind == MaskSpec::Kind::File)
      probe_image(spec.path, o.max_pixels);
  }
  Inpainter inp(o.model, o.inpaint);
  if (!o.input_dir.empty()) return run_batch(inp, o);
  inpaint_one(inp, o.image, o.mask, o.output, o, false);
}

}  // namespace

void setup_inpaint(CLI::App& app) {
  auto opt = std::make_shared<InpaintCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "inpaint",
      "Fill holes in a photo (any size; PNG/JPEG/WebP; RGB, RGBA or grey).\n"
      "  ctxenc inpaint photo.jpg --mask mask.png --model models/center.ctxm -o out.png\n"
      "  ctxenc inpaint --input photos/ --masks masks/ --model M --output results/\n"
      "Mask pixels >= 127 are holes. Known pixels are kept bit for bit.");
  auto& o = *opt;
  sub->add_option("image", o.image, "Input image");
  sub->add_option("--mask", o.mask, "center | rect:x,y,w,h | MASK image (>= 127 = hole)");
  sub->add_option("--model", o.model, "Model file (.ctxm) or training checkpoint (.ctx)")->required();
  sub->add_option("-o,--out", o.output, "Output image (.png, .jpg, .webp)");
  sub->add_option("--input", o.input_dir, "Batch mode: folder of images");
  sub->add_option("--masks", o.masks, "Batch mode: folder of masks matched by name (as eval matches), or one mask for all");
  sub->add_option("--output", o.output_dir, "Batch mode: output folder (files named <stem>.png)");
  InpaintOptions& io = o.inpaint;
  add_enum(sub, "--strategy", io.strategy, parse_strategy,
           "crop: a context window per hole | resize: whole image at model size | full: native-size tiles");
  add_enum(sub, "--blend", io.blend, parse_blend, "none | feather | poisson (OpenCV seamlessClone)");
  add_field(sub, "--context", io.context, "crop: window side / hole size (full-output models, >= 1.2)");
  add_field(sub, "--center-fit", io.center_fit,
            "Center model: window = hole size x (S / its hole square) x this; below 1 the hole's outer "
            "fringe is Telea-filled context [0.8, 1.5]");
  add_field(sub, "--threads", io.threads, "Compute threads (0 = all cores)");
  add_enum(sub, "--precision", io.precision, parse_precision, "fp32 | bf16");
  add_field(sub, "--max-pixels", o.max_pixels, "Refuse larger images (checked before decoding)");
  sub->add_flag("--concat", o.concat, "Write input | mask | result side by side");
  sub->add_flag("--flip-average", io.flip_average, "Also predict the mirrored image and average (2x time)");
  sub->callback([opt] { run_inpaint(*opt); });
}

}  // namespace ctxenc::cli

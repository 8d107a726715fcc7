// cmd_inpaint.cpp — `ctxenc inpaint`: one image or a whole folder, with a mask
// file, `center`, or `rect:x,y,w,h`; strategy and blend selectable.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include <opencv2/imgproc.hpp>

#include "cli_output.h"
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
  bool json = false;                          // print a JSON report on stdout
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

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

// One image: its JSON record {input, output, width, height, holes, windows,
// hole_ratio, seconds: {load, inpaint, save, total}}. `image` is the already
// decoded input when it came from stdin.
nlohmann::json inpaint_one(const Inpainter& inp, const std::string& image_path, cv::Mat image,
                           const std::string& mask_spec, const std::string& out_path, const InpaintCliOptions& o,
                           bool notes) {
  const auto t0 = std::chrono::steady_clock::now();
  if (image.empty()) image = load_image_rgb(image_path, o.max_pixels);
  cv::Mat mask = resolve_mask(mask_spec, image, inp, o.max_pixels);
  const double t_load = seconds_since(t0);
  InpaintReport rep;
  const auto t1 = std::chrono::steady_clock::now();
  cv::Mat result = inp.inpaint(image, mask, &rep);
  const double t_inpaint = seconds_since(t1);
  const std::string shown_in = is_stdio(image_path) ? "stdin" : image_path;
  const std::string shown_out = is_stdio(out_path) ? "stdout" : out_path;
  if (rep.holes == 0 && notes)
    std::cerr << "ctxenc: note: the mask of '" << shown_in << "' is empty; the output is a copy of the input\n";
  const auto t2 = std::chrono::steady_clock::now();
  save_image_or_stdout(out_path, o.concat ? concat_view(image, mask, result) : result);
  const double t_save = seconds_since(t2);
  if (notes)
    std::cerr << "ctxenc: filled " << rep.holes << " hole(s), " << 100.0 * rep.hole_ratio << "% of the image, "
              << rep.windows << " model window(s) -> " << shown_out << "\n";
  return {{"input", shown_in}, {"output", shown_out}, {"width", image.cols}, {"height", image.rows},
          {"holes", rep.holes}, {"windows", rep.windows}, {"hole_ratio", rep.hole_ratio},
          {"seconds", {{"load", t_load}, {"inpaint", t_inpaint}, {"save", t_save}, {"total", seconds_since(t0)}}}};
}

// --json: {model, images: [records], failures: [{input, error}], seconds: {model_load, total}}.
void print_json(const InpaintCliOptions& o, nlohmann::json images, nlohmann::json failures, double t_model,
                double t_total) {
  const nlohmann::json j = {{"model", o.model}, {"images", std::move(images)}, {"failures", std::move(failures)},
                            {"seconds", {{"model_load", t_model}, {"total", t_total}}}};
  std::cout << j.dump(2) << "\n";
}

void run_batch(const Inpainter& inp, const InpaintCliOptions& o, double t_model,
               std::chrono::steady_clock::time_point t_start) {
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
  nlohmann::json records = nlohmann::json::array(), failed = nlohmann::json::array();
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
      records.push_back(inpaint_one(inp, img, cv::Mat(), spec, (fs::path(o.output_dir) / (stem + ".png")).string(), o,
                                    /*notes=*/false));
    } catch (const std::exception& e) {
      failures.push_back(path.filename().string() + ": " + e.what());
      failed.push_back({{"input", img}, {"error", e.what()}});
    }
    bar.update(++done);
  }
  bar.finish();
  if (o.json) print_json(o, std::move(records), std::move(failed), t_model, seconds_since(t_start));
  if (!quiet())
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
  const auto t_start = std::chrono::steady_clock::now();
  cv::Mat piped;  // the image read from stdin (`-`), decoded before the model loads
  if (o.image.size()) {
    if (o.output.empty()) throw UsageError("-o OUT.png is required");
    if (o.mask.empty()) throw UsageError("--mask center|rect:x,y,w,h|MASK.png is required");
    // Check the inputs before the (slower, larger) model load, for fast clear
    // errors: a decompression bomb is refused from its header in the memory
    // of a bare start (docs/reliability.md).
    if (o.json && is_stdio(o.output)) throw UsageError("--json prints on stdout; it cannot go with -o -");
    if (is_stdio(o.image)) piped = load_image_or_stdin(o.image, o.max_pixels);
    else probe_image(o.image, o.max_pixels);
    if (const MaskSpec spec = parse_mask_spec(o.mask); spec.kind == MaskSpec::Kind::File)
      probe_image(spec.path, o.max_pixels);
  }
  Inpainter inp(o.model, o.inpaint);
  const double t_model = seconds_since(t_start);
  if (!o.input_dir.empty()) return run_batch(inp, o, t_model, t_start);
  nlohmann::json record = inpaint_one(inp, o.image, piped, o.mask, o.output, o, /*notes=*/!quiet() && !o.json);
  if (o.json) print_json(o, nlohmann::json::array({std::move(record)}), nlohmann::json::array(), t_model,
                         seconds_since(t_start));
}

}  // namespace

void setup_inpaint(CLI::App& app) {
  auto opt = std::make_shared<InpaintCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "inpaint",
      "Fill holes in a photo (any size; PNG/JPEG/WebP; RGB, RGBA or grey).\n"
      "  ctxenc inpaint photo.jpg --mask mask.png --model models/center.ctxm -o out.png\n"
      "  ctxenc inpaint --input photos/ --masks masks/ --model M --output results/\n"
      "  ctxenc inpaint - --mask center --model center -o - < in.jpg > out.png\n"
      "Mask pixels >= 127 are holes. Known pixels are kept bit for bit.");
  auto& o = *opt;
  sub->add_option("image", o.image, "Input image ('-' = stdin)");
  sub->add_option("--mask", o.mask, "center | rect:x,y,w,h | MASK image (>= 127 = hole)");
  sub->add_option("--model", o.model,
                  "Model file (.ctxm) or training checkpoint (.ctx); a bare name (center, region) is looked up\n"
                  "in $CTXENC_MODEL_PATH and the installed share/ctxenc/models")
      ->required();
  sub->add_option("-o,--out", o.output, "Output image (.png, .jpg, .webp; '-' = PNG on stdout)");
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
  sub->add_flag("--json", o.json, "Print a JSON report on stdout: per image its output, holes and timings");
  sub->add_flag("--flip-average", io.flip_average, "Also predict the mirrored image and average (2x time)");
  sub->callback([opt] { run_inpaint(*opt); });
}

}  // namespace ctxenc::cli

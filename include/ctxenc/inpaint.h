// ctxenc/inpaint.h — filling holes in user photos with a trained generator.
// Torch-free interface: images are cv::Mat CV_8UC3 RGB, masks CV_8UC1 with
// non-zero = hole. Known pixels of the result are the input's, bit for bit.
//
// Usage:
//
//   ctxenc::InpaintOptions opt;                  // crop windows, feather blend, fp32, all cores
//   ctxenc::Inpainter inpainter("models/region.ctxm", opt);    // throws ctxenc::ModelFileError
//   cv::Mat photo = ctxenc::load_image_rgb("photo.jpg");        // (ctxenc/image_io.h)
//   cv::Mat mask = ctxenc::load_mask("mask.png");               // >= 127 = hole, same size
//   ctxenc::InpaintReport report;
//   cv::Mat filled = inpainter.inpaint(photo, mask, &report);   // any size, any mask shape
//   ctxenc::save_image("filled.png", filled);
//
// Loading is the slow part: build an Inpainter once and fill many photos with it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "ctxenc/config.h"

namespace ctxenc {

enum class InpaintStrategy {
  Crop,    // per hole: a context window around it, resized to the model size (default)
  Resize,  // the whole image resized to the model size once
  Full     // the image processed at native resolution in model-size tiles
};
enum class Blend {
  None,     // paste the prediction as is
  Feather,  // carry the colour mismatch at the hole border smoothly into the hole
  Poisson   // OpenCV seamlessClone (gradient-domain), as GLCIC post-processes
};

const char* to_string(InpaintStrategy s);
const char* to_string(Blend b);
InpaintStrategy parse_strategy(const std::string& s);
Blend parse_blend(const std::string& s);

struct InpaintOptions {
  InpaintStrategy strategy = InpaintStrategy::Crop;  // how holes map onto model windows
  Blend blend = Blend::Feather;                      // seam treatment
  double context = 2.0;        // crop: window side / hole bounding-box side (>= 1.2)
  // Center model, crop: window side = hole box side x S / (model's hole square)
  // x center_fit. Below 1 the box overhangs the square by a fringe that the
  // model sees as context, pre-filled by Telea; its prediction covers the rest.
  // 0.98 was chosen on the training photos (docs/training.md). In [0.8, 1.5].
  double center_fit = 0.98;
  bool flip_average = false;   // also predict the mirrored window and average both (2x time)
  int threads = 0;             // intra-op threads; 0 = hardware concurrency
  Precision precision = Precision::FP32;
  void validate() const;       // throws UsageError naming the field
};

struct InpaintReport {
  int holes = 0;           // connected hole regions filled
  int windows = 0;         // generator windows run
  double hole_ratio = 0;   // fraction of the image that was hole
};

class Inpainter {
 public:
  // Loads and checks a model file or checkpoint; throws ModelFileError (and
  // UsageError for invalid options).
  Inpainter(const std::string& model_path, const InpaintOptions& opt);
  ~Inpainter();
  Inpainter(Inpainter&&) noexcept;

  // image: CV_8UC3 RGB; mask: CV_8UC1 same size, non-zero = hole.
  cv::Mat inpaint(const cv::Mat& image, const cv::Mat& mask, InpaintReport* report = nullptr) const;
  // The same with this call's options (strategy, blend, context, center_fit,
  // flip_average), so one loaded model serves callers that each choose their
  // own (a server). precision must be the constructor's (UsageError if not);
  // threads is ignored (set_threads). Safe to call from several threads at once.
  cv::Mat inpaint(const cv::Mat& image, const cv::Mat& mask, const InpaintOptions& options,
                  InpaintReport* report = nullptr) const;

  // The hole this model fills at the centre of a photo of this size
  // (`--mask center`): its own central square scaled to the photo's sides
  // (a full-output model: the central half of each side).
  cv::Mat photo_center_hole(int width, int height) const;

  // The generator alone on prepared inputs, as inpaint() runs it (BatchNorm
  // folded, the chosen precision), for checking other implementations such as
  // python/ctxenc_torch.py: `input` is [batch, C(+1 with mask_channel), S, S]
  // float32 NCHW in [-1, 1]; returns [batch, C, out, out] (ModelConfig::output_size()).
  std::vector<float> generator_forward(const std::vector<float>& input, int batch) const;

  const ModelConfig& model_config() const;
  // The model file's header: kind, step, training config, dtype.
  const nlohmann::json& model_header() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctxenc

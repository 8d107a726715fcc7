// fill_methods.cpp — what fills an evaluation image's hole: the model through
// the Inpainter, another tool's saved predictions, and the classical baselines.
#include "eval/fill_methods.h"

#include <memory>

#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

#include "ctxenc/image_io.h"

namespace ctxenc {

cv::Mat squeeze(const cv::Mat& img, int S) {
  if (img.cols == S && img.rows == S) return img.clone();
  cv::Mat out;
  cv::resize(img, out, cv::Size(S, S), 0, 0, cv::INTER_AREA);
  return out;
}

namespace {

cv::Mat mean_fill(const cv::Mat& masked, const cv::Mat& hole) {
  const cv::Scalar mean = cv::mean(masked, hole == 0);
  cv::Mat out = masked.clone();
  out.setTo(mean, hole);
  return out;
}

// The classical baselines, in their documented order (known_baselines()).
using BaselineFn = cv::Mat (*)(const cv::Mat& masked, const cv::Mat& hole, double radius);
const std::vector<std::pair<std::string, BaselineFn>>& baseline_table() {
  static const std::vector<std::pair<std::string, BaselineFn>> table = {
      {"telea",
       [](const cv::Mat& m, const cv::Mat& h, double r) {
         cv::Mat out;
         cv::inpaint(m, h, out, r, cv::INPAINT_TELEA);
         return out;
       }},
      {"ns",
       [](const cv::Mat& m, const cv::Mat& h, double r) {
         cv::Mat out;
         cv::inpaint(m, h, out, r, cv::INPAINT_NS);
         return out;
       }},
      {"mean", [](const cv::Mat& m, const cv::Mat& h, double) { return mean_fill(m, h); }},
  };
  return table;
}

}  // namespace

std::vector<FillMethod> fill_methods(const EvalConfig& cfg, const Inpainter* inpainter, int S,
                                     const std::function<void(const std::string&)>& note) {
  std::vector<FillMethod> methods;
  if (inpainter)
    methods.push_back({"model", [inpainter](const std::string&, const cv::Mat& masked, const cv::Mat& hole) {
                         return inpainter->inpaint(masked, hole);
                       }});
  if (!cfg.predictions.empty()) {
    auto noted = std::make_shared<bool>(false);
    methods.push_back({"predictions", [&cfg, S, note, noted](const std::string& file, const cv::Mat&, const cv::Mat&) {
                         cv::Mat filled = load_image_rgb(file, cfg.max_pixels);
                         if (filled.size() == cv::Size(S, S)) return filled;
                         if (!*noted)
                           note("prediction '" + file + "' is " + std::to_string(filled.cols) + "x" +
                                std::to_string(filled.rows) + "; predictions are resized to " + std::to_string(S) +
                                "x" + std::to_string(S) + " with INTER_AREA like the originals");
                         *noted = true;
                         return squeeze(filled, S);
                       }});
  }
  for (const auto& b : cfg.baselines)
    for (const auto& [name, fn] : baseline_table())
      if (name == b)
        methods.push_back({name, [fn = fn, r = cfg.inpaint_radius](const std::string&, const cv::Mat& m, const cv::Mat& h) {
                             return fn(m, h, r);
                           }});
  return methods;
}

const std::vector<std::string>& known_baselines() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& [name, fn] : baseline_table()) n.push_back(name);
    return n;
  }();
  return names;
}


}  // namespace ctxenc

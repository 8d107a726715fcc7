// eval/fill_methods.h — internal: the methods an evaluation scores side by
// side, as one table: each fills the masked S x S input's hole (painted white),
// and what it returns is composited and scored.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "ctxenc/evaluate.h"
#include "ctxenc/inpaint.h"

namespace ctxenc {

// The whole image squeezed to S x S with cv::INTER_AREA (aspect not kept), as
// the protocol shows every image and every prediction of another size.
cv::Mat squeeze(const cv::Mat& img, int S);

// (prediction file of this image, or "" without predictions; masked input; hole) -> filled image.
using FillFn = std::function<cv::Mat(const std::string& prediction, const cv::Mat& masked, const cv::Mat& hole)>;
struct FillMethod {
  std::string name;  // its row in the report: "model", "predictions", or a baseline's name
  FillFn fill;
};

// The report's rows: the model (when given), the predictions (when given),
// then cfg's baselines in its order. `note` tells once that predictions of
// another size are resized.
std::vector<FillMethod> fill_methods(const EvalConfig& cfg, const Inpainter* inpainter, int S,
                                     const std::function<void(const std::string&)>& note);

}  // namespace ctxenc

// serve/request.h — what a POST /api/v1/inpaint asks for, parsed and checked
// without a socket: form fields (multipart parts and query parameters, as the
// HTTP layer hands them over) -> an InpaintRequest, or a ctxenc::Error whose
// class becomes the HTTP status and the JSON "code". Pure: the fuzz harness
// (tests/fuzz/fuzz_serve_request.cpp) calls it on arbitrary bytes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "ctxenc/image_io.h"
#include "ctxenc/inpaint.h"
#include "ctxenc/masks.h"

namespace ctxenc::serve {

// One form field: a multipart part (filename set for an upload) or a query parameter.
struct FormField {
  std::string name;
  std::string content;
  std::string filename;      // "" for a plain value
  std::string content_type;  // as the client declared it (not trusted)
};

struct RequestLimits {
  int64_t max_pixels = kDefaultMaxPixels;  // image and mask files, checked from their headers before decoding
};

struct InpaintRequest {
  std::string model;        // a model name of GET /api/v1/models (a bare file stem, checked)
  InpaintOptions options;   // strategy, blend, context, center_fit, flip_average, precision
  cv::Mat image;            // CV_8UC3 RGB
  MaskSpec mask_spec;       // Kind::File: `mask` holds the decoded upload; Center/Rect from a text field
  cv::Mat mask;             // CV_8UC1, 255 = hole, the image's size (Kind::File only)
  bool mask_resized = false;  // the uploaded mask had another resolution of the same shape
};

// The fields a request may carry; any other is refused (a typo should not be ignored).
//   image (file, required), mask (file, or text center | rect:x,y,w,h; required), model (required),
//   strategy, blend, context, center_fit, flip_average (0/1/true/false), precision.
// Throws UsageError (bad or missing field, unknown option, a value out of
// range), InputError (non-image upload, mask of another shape),
// TooLargeError (an image above limits.max_pixels).
InpaintRequest parse_inpaint_request(const std::vector<FormField>& fields, const RequestLimits& limits);

// True for a model name that names a file in the models folder and nothing
// else: [A-Za-z0-9_.-], not starting with '.', at most 128 characters.
bool is_safe_model_name(const std::string& name);

}  // namespace ctxenc::serve

// python/ctxenc_module.cpp — `import ctxenc`: the public C++ API for Python
// and numpy (pybind11). A front end like tools/ctxenc/: it fills the library's
// config structs and calls include/ctxenc/, nothing else.
//
//   import ctxenc, numpy as np
//   model = ctxenc.load("center")                   # a path, or an installed model's name
//   image = ctxenc.load_image("photo.jpg")          # H x W x 3 uint8, RGB
//   mask = np.zeros(image.shape[:2], bool); mask[100:200, 150:250] = True
//   out = model.inpaint(image, mask, blend="poisson")
//
// Images are C-contiguous uint8 H x W x 3 (RGB); masks H x W bool (True =
// hole) or uint8 (>= 127 = hole, as mask files). The GIL is released while
// the model runs, so threads can fill photos in parallel. Library errors are
// ctxenc.Error subclasses carrying the library's message and its exit code.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

#include <opencv2/core.hpp>

#include "ctxenc/config.h"
#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"
#include "ctxenc/inpaint.h"
#include "ctxenc/model_info.h"
#include "ctxenc/version.h"

namespace py = pybind11;

namespace {

// The Python exception classes (never freed: a static py::object would be
// released after the interpreter is gone).
py::object* g_error = nullptr;
py::object* g_usage = nullptr;
py::object* g_input = nullptr;
py::object* g_model_file = nullptr;
py::object* g_output = nullptr;
py::object* g_too_large = nullptr;

py::object json_to_python(const nlohmann::json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

// An H x W x 3 uint8 array -> a CV_8UC3 copy (TypeError/ValueError otherwise).
cv::Mat image_from_array(const py::array& a) {
  if (!py::isinstance<py::array_t<uint8_t>>(a))
    throw py::type_error("image must be a uint8 array (H x W x 3, RGB), got dtype " +
                         py::str(a.dtype()).cast<std::string>());
  if (a.ndim() != 3 || a.shape(2) != 3) {
    std::string shape;
    for (py::ssize_t d = 0; d < a.ndim(); ++d) shape += (d ? ", " : "") + std::to_string(a.shape(d));
    throw py::value_error("image must have shape (H, W, 3), got (" + shape + ")");
  }
  auto c = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>::ensure(a);
  cv::Mat m(static_cast<int>(a.shape(0)), static_cast<int>(a.shape(1)), CV_8UC3, const_cast<uint8_t*>(c.data()));
  return m.clone();
}

// An H x W bool (True = hole) or uint8 (>= 127 = hole) array -> CV_8UC1 0/255.
cv::Mat mask_from_array(const py::array& a) {
  const bool is_bool = py::isinstance<py::array_t<bool>>(a);
  if (!is_bool && !py::isinstance<py::array_t<uint8_t>>(a))
    throw py::type_error("mask must be a bool or uint8 array (H x W), got dtype " +
                         py::str(a.dtype()).cast<std::string>());
  if (a.ndim() != 2) throw py::value_error("mask must have shape (H, W), got " + std::to_string(a.ndim()) + " dimensions");
  auto c = py::array::ensure(a, py::array::c_style);
  const auto* p = static_cast<const uint8_t*>(c.data());
  const int h = static_cast<int>(a.shape(0)), w = static_cast<int>(a.shape(1));
  cv::Mat m(h, w, CV_8UC1);
  uint8_t max_value = 0;
  for (int64_t i = 0; i < static_cast<int64_t>(h) * w; ++i) {
    max_value = std::max(max_value, p[i]);
    m.data[i] = (is_bool ? p[i] != 0 : p[i] >= 127) ? 255 : 0;
  }
  if (!is_bool && max_value == 1)
    throw py::value_error("uint8 mask holds only 0 and 1, which are both 'known' (>= 127 is hole); "
                          "pass mask.astype(bool) or a 0/255 mask");
  return m;
}

py::array_t<uint8_t> array_from_mat(const cv::Mat& m) {
  const cv::Mat c = m.isContinuous() ? m : m.clone();
  std::vector<py::ssize_t> shape = {c.rows, c.cols};
  if (c.channels() > 1) shape.push_back(c.channels());
  py::array_t<uint8_t> out(shape);
  std::memcpy(out.mutable_data(), c.data, c.total() * c.elemSize());
  return out;
}

ctxenc::InpaintOptions options_from_kwargs(ctxenc::InpaintOptions o, const py::kwargs& kw) {
  for (const auto& [key_obj, value] : kw) {
    const std::string key = py::str(key_obj);
    if (key == "strategy") o.strategy = ctxenc::parse_strategy(value.cast<std::string>());
    else if (key == "blend") o.blend = ctxenc::parse_blend(value.cast<std::string>());
    else if (key == "precision") o.precision = ctxenc::parse_precision(value.cast<std::string>());
    else if (key == "context") o.context = value.cast<double>();
    else if (key == "center_fit") o.center_fit = value.cast<double>();
    else if (key == "flip_average") o.flip_average = value.cast<bool>();
    else if (key == "threads") o.threads = value.cast<int>();
    else
      throw py::type_error("unknown option '" + key +
                           "' (strategy, blend, precision, context, center_fit, flip_average, threads)");
  }
  o.validate();
  return o;
}

std::string options_key(const ctxenc::InpaintOptions& o) {
  std::ostringstream s;
  s << ctxenc::to_string(o.strategy) << '|' << ctxenc::to_string(o.blend) << '|' << ctxenc::to_string(o.precision)
    << '|' << o.context << '|' << o.center_fit << '|' << o.flip_average << '|' << o.threads;
  return s.str();
}

// A loaded model: one Inpainter per set of options (precision and threads
// shape the prepared network; the others are cheap but kept together).
class Model {
 public:
  Model(std::string path, ctxenc::InpaintOptions defaults)
      : path_(ctxenc::resolve_model_path(path)), defaults_(defaults) {
    inpainter(defaults_);  // load now: errors surface at ctxenc.load
  }

  py::array_t<uint8_t> inpaint(const py::array& image, const py::array& mask, const py::kwargs& kw) {
    const ctxenc::InpaintOptions opt = options_from_kwargs(defaults_, kw);
    cv::Mat img = image_from_array(image), m = mask_from_array(mask);
    if (img.rows != m.rows || img.cols != m.cols)
      throw py::value_error("mask is " + std::to_string(m.cols) + "x" + std::to_string(m.rows) + " but image is " +
                            std::to_string(img.cols) + "x" + std::to_string(img.rows));
    std::shared_ptr<const ctxenc::Inpainter> inp;
    cv::Mat out;
    {
      py::gil_scoped_release release;
      inp = inpainter(opt);
      ctxenc::set_threads(opt.threads);  // per calling thread (OpenMP's count is a thread's own setting)
      out = inp->inpaint(img, m);
    }
    return array_from_mat(out);
  }

  py::array_t<uint8_t> center_hole(int width, int height) {
    return array_from_mat(inpainter(defaults_)->photo_center_hole(width, height));
  }

  // [B, C(+1), S, S] float32 -> [B, C, out, out] float32: the generator alone.
  py::array_t<float> forward(const py::array& x) {
    if (!py::isinstance<py::array_t<float>>(x)) throw py::type_error("forward takes a float32 array [B, C, S, S]");
    auto c = py::array_t<float, py::array::c_style>::ensure(x);
    const ctxenc::ModelConfig& cfg = inpainter(defaults_)->model_config();
    if (c.ndim() != 4) throw py::value_error("forward takes a 4-D array [B, C, S, S]");
    std::vector<float> in(c.data(), c.data() + c.size()), out;
    {
      py::gil_scoped_release release;
      ctxenc::set_threads(defaults_.threads);
      out = inpainter(defaults_)->generator_forward(in, static_cast<int>(c.shape(0)));
    }
    const py::ssize_t o = cfg.output_size();
    py::array_t<float> r({static_cast<py::ssize_t>(c.shape(0)), static_cast<py::ssize_t>(cfg.channels), o, o});
    std::memcpy(r.mutable_data(), out.data(), out.size() * sizeof(float));
    return r;
  }

  py::object info() const { return json_to_python(ctxenc::describe_model_file(path_)); }
  const std::string& path() const { return path_; }

 private:
  std::shared_ptr<const ctxenc::Inpainter> inpainter(const ctxenc::InpaintOptions& o) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = cache_[options_key(o)];
    if (!slot) slot = std::make_shared<const ctxenc::Inpainter>(path_, o);
    return slot;
  }
  std::string path_;
  ctxenc::InpaintOptions defaults_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const ctxenc::Inpainter>> cache_;
};

}  // namespace

PYBIND11_MODULE(ctxenc, m) {
  m.doc() = "Context Encoders (Pathak et al., CVPR 2016) image inpainting: the ctxenc library for numpy.";
  m.attr("__version__") = ctxenc::version();
  m.attr("git_commit") = ctxenc::git_commit();

  // ctxenc.Error(RuntimeError) with .code (the CLI's exit code); one subclass per class.
  g_error = new py::exception<ctxenc::Error>(m, "Error", PyExc_RuntimeError);
  g_usage = new py::exception<ctxenc::UsageError>(m, "UsageError", g_error->ptr());
  g_input = new py::exception<ctxenc::InputError>(m, "InputError", g_error->ptr());
  g_model_file = new py::exception<ctxenc::ModelFileError>(m, "ModelFileError", g_error->ptr());
  g_output = new py::exception<ctxenc::OutputError>(m, "OutputError", g_error->ptr());
  g_too_large = new py::exception<ctxenc::TooLargeError>(m, "TooLargeError", g_error->ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ctxenc::Error& e) {
      py::handle type = *g_error;
      switch (e.code()) {
        case ctxenc::kExitUsage: type = *g_usage; break;
        case ctxenc::kExitInput: type = *g_input; break;
        case ctxenc::kExitModel: type = *g_model_file; break;
        case ctxenc::kExitOutput: type = *g_output; break;
        case ctxenc::kExitTooLarge: type = *g_too_large; break;
        default: break;
      }
      py::object exc = type(e.what());
      exc.attr("code") = static_cast<int>(e.code());
      PyErr_SetObject(type.ptr(), exc.ptr());
    }
  });

  py::class_<Model>(m, "Model", "A loaded model file; build once, inpaint many photos")
      .def("inpaint", &Model::inpaint, py::arg("image"), py::arg("mask"),
           "inpaint(image, mask, **options) -> image\n"
           "image: uint8 H x W x 3 RGB; mask: H x W bool (True = hole) or uint8 (>= 127 = hole).\n"
           "options: strategy ('crop'|'resize'|'full'), blend ('none'|'feather'|'poisson'),\n"
           "precision ('fp32'|'bf16'), context, center_fit, flip_average, threads (0 = all cores).\n"
           "Known pixels are returned bit for bit. The GIL is released while the model runs.")
      .def("center_hole", &Model::center_hole, py::arg("width"), py::arg("height"),
           "The hole `ctxenc inpaint --mask center` fills for a photo of this size (uint8 H x W, 255 = hole)")
      .def("forward", &Model::forward, py::arg("x"),
           "The generator alone: float32 [B, C(+1), S, S] in [-1, 1] -> [B, C, out, out] (as inpaint runs it)")
      .def("info", &Model::info, "The model file's summary (as `ctxenc info --json`)")
      .def_property_readonly("path", &Model::path)
      .def("__repr__", [](const Model& x) { return "<ctxenc.Model '" + x.path() + "'>"; });

  m.def(
      "load",
      [](const std::string& path, const py::kwargs& kw) {
        return std::make_unique<Model>(path, options_from_kwargs(ctxenc::InpaintOptions{}, kw));
      },
      py::arg("path"),
      "load(path, **options) -> Model. path: a .ctxm/.ctx file, or a bare name (center, region) looked up in\n"
      "$CTXENC_MODEL_PATH and the installed share/ctxenc/models. options: the defaults for Model.inpaint.");
  m.def(
      "load_image", [](const std::string& path, int64_t max_pixels) { return array_from_mat(ctxenc::load_image_rgb(path, max_pixels)); },
      py::arg("path"), py::arg("max_pixels") = ctxenc::kDefaultMaxPixels,
      "An image file as uint8 H x W x 3 RGB (as ctxenc reads it: EXIF rotation, grey expanded, alpha dropped)");
  m.def(
      "load_mask",
      [](const std::string& path, int64_t max_pixels) { return array_from_mat(ctxenc::load_mask(path, max_pixels)); },
      py::arg("path"), py::arg("max_pixels") = ctxenc::kDefaultMaxPixels,
      "A mask file as uint8 H x W, 255 = hole (pixels >= 127)");
  m.def(
      "save_image",
      [](const std::string& path, const py::array& a) {
        cv::Mat img;
        if (a.ndim() == 2) img = mask_from_array(a);
        else img = image_from_array(a);
        ctxenc::save_image(path, img);
      },
      py::arg("path"), py::arg("image"), "Writes an RGB image (or a mask) by extension, atomically");
}

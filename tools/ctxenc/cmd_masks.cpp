// cmd_masks.cpp — `ctxenc masks`: write sample masks of any strategy as PNGs,
// with their hole ratios, so people can look at what training uses.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "ctxenc/config.h"
#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"
#include "ctxenc/masks.h"
#include "options.h"

namespace ctxenc::cli {

void setup_masks(CLI::App& app) {
  struct MasksOptions {
    MaskConfig mask = [] {  // as training draws them; random regions unless --kind says otherwise
      MaskConfig m;
      m.kind = MaskKind::RandomRegion;
      return m;
    }();
    std::string out;
    int count = 16, size = 128, width = 0, height = 0;
    uint64_t seed = 0;
    bool json = false;  // list the files and hole ratios as JSON on stdout
  };
  auto opt = std::make_shared<MasksOptions>();
  CLI::App* sub = app.add_subcommand("masks",
                                     "Write sample hole masks (255 = hole) as PNG files, as training draws them:\n"
                                     "  ctxenc masks --kind free-form --count 16 --out masks/");
  add_enum(sub, "--kind", opt->mask.kind, parse_mask_kind, "center | random-block | random-region | free-form | mixed");
  sub->add_option("--count", opt->count, "Number of masks")->capture_default_str();
  sub->add_option("--size", opt->size, "Mask side in pixels (square masks)")->capture_default_str();
  sub->add_option("--width", opt->width, "Mask width (overrides --size)");
  sub->add_option("--height", opt->height, "Mask height (overrides --size)");
  add_field(sub, "--hole-ratio", opt->mask.hole_ratio, "Target hole fraction");
  sub->add_option("--seed", opt->seed, "Seed (mask i uses mix_seed(seed, i), as training does)")
      ->capture_default_str();
  sub->add_option("--out", opt->out, "Output directory")->required();
  sub->add_flag("--json", opt->json, "Print the files written and their hole ratios as JSON on stdout");
  sub->callback([opt] {
    const MaskConfig& mc = opt->mask;
    const char* kind = to_string(mc.kind);
    if (opt->count < 1 || opt->count > 100000) throw UsageError("--count must be in [1, 100000]");
    const int w = opt->width > 0 ? opt->width : opt->size, h = opt->height > 0 ? opt->height : opt->size;
    if (w < 8 || h < 8 || w > 16384 || h > 16384) throw UsageError("mask sides must be in [8, 16384]");
    std::error_code ec;
    std::filesystem::create_directories(opt->out, ec);
    if (ec) throw OutputError("cannot create '" + opt->out + "': " + ec.message());
    double sum = 0;
    nlohmann::json files = nlohmann::json::array();
    for (int i = 0; i < opt->count; ++i) {
      cv::Mat m = generate_mask(mc, w, h, mix_seed(opt->seed, static_cast<uint64_t>(i)));
      char name[64];
      std::snprintf(name, sizeof(name), "%s_%05d.png", kind, i);
      const std::string path = (std::filesystem::path(opt->out) / name).string();
      save_image(path, m);
      const double ratio = hole_ratio(m);
      sum += ratio;
      if (opt->json) files.push_back({{"file", path}, {"hole_ratio", ratio}, {"seed", mix_seed(opt->seed, static_cast<uint64_t>(i))}});
    }
    if (opt->json) {
      std::cout << nlohmann::json{{"kind", kind}, {"width", w}, {"height", h}, {"count", opt->count},
                                  {"mean_hole_ratio", sum / opt->count}, {"target_hole_ratio", mc.hole_ratio},
                                  {"masks", files}}
                       .dump(2)
                << "\n";
      return;
    }
    std::printf("wrote %d %s masks (%dx%d) to %s; mean hole ratio %.4f (target %.4f)\n", opt->count,
                kind, w, h, opt->out.c_str(), sum / opt->count, mc.hole_ratio);
  });
}

}  // namespace ctxenc::cli

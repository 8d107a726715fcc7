// cmd_import.cpp — `ctxenc import WEIGHTS.pt -o MODEL.ctxm`: a PyTorch
// state_dict (the public _netG generator, or ctxenc's own export) to a model file.
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.h"
#include "ctxenc/errors.h"
#include "ctxenc/model_info.h"

namespace ctxenc::cli {

void setup_import(CLI::App& app) {
  struct ImportOptions {
    std::string input, out;
    TorchImportOptions torch;
  };
  auto opt = std::make_shared<ImportOptions>();
  CLI::App* sub = app.add_subcommand(
      "import",
      "Write a model file from PyTorch weights (torch.save of a state_dict, or of a dict holding one\n"
      "under \"state_dict\"). Only tensors and plain containers are read, never pickled code.\n"
      "  ctxenc import netG.pth -o model.ctxm                     # context_encoder_pytorch's _netG\n"
      "  ctxenc import tuned.pt --layout ctxenc --config-from center -o tuned.ctxm  # ctxenc export --format torch");
  sub->add_option("weights", opt->input, "PyTorch weights (.pt / .pth)")->required();
  sub->add_option("-o,--out", opt->out, "Model file to write (.ctxm)")->required();
  sub->add_option("--layout", opt->torch.layout,
                  "netG: the public PyTorch Context Encoder generator (config from the shapes) | ctxenc: "
                  "names as `ctxenc export --format torch` writes")
      ->check(CLI::IsMember({"netG", "ctxenc"}))
      ->capture_default_str();
  sub->add_option("--config-from", opt->torch.config_from, "--layout ctxenc: the model file the weights came from");
  sub->add_option("--model-config", opt->torch.config_json,
                  "--layout ctxenc: the architecture as JSON, e.g. '{\"image_size\": 64, \"bottleneck\": \"channelwise\"}'");
  sub->callback([opt] {
    if (opt->torch.layout == "ctxenc" && opt->torch.config_from.empty() == opt->torch.config_json.empty())
      throw UsageError("--layout ctxenc needs the architecture: --config-from MODEL or --model-config JSON");
    import_torch_state_dict(opt->input, opt->out, opt->torch);
    const nlohmann::json j = describe_model_file(opt->out);
    std::cout << "wrote " << opt->out << " (" << std::filesystem::file_size(opt->out) / 1024 << " KiB, "
              << j["generator_parameters"] << " parameters): " << j["model"].dump() << "\n";
  });
}

}  // namespace ctxenc::cli

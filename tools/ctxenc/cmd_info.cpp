// cmd_info.cpp — `ctxenc info MODEL`: config, parameter counts, training step.
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "ctxenc/model_info.h"

namespace ctxenc::cli {

void setup_info(CLI::App& app) {
  struct InfoOptions {
    std::string path;
    bool json = false;
  };
  auto opt = std::make_shared<InfoOptions>();
  CLI::App* sub = app.add_subcommand("info", "Print a model file's or checkpoint's config, parameter count and step");
  sub->add_option("model", opt->path, "Model file (.ctxm) or checkpoint (.ctx)")->required();
  sub->add_flag("--json", opt->json, "Print JSON instead of text");
  sub->callback([opt] {
    const nlohmann::json j = describe_model_file(opt->path);
    if (opt->json) {
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::cout << "file:        " << j["file"].get<std::string>() << "\n"
              << "kind:        " << j["kind"].get<std::string>() << "\n"
              << "step:        " << j["step"] << "\n"
              << "generator:   " << j["generator_parameters"] << " parameters\n";
    if (j.contains("discriminator_parameters"))
      std::cout << "discrim.:    " << j["discriminator_parameters"] << " parameters\n";
    if (j.contains("dtype")) std::cout << "stored as:   " << j["dtype"].get<std::string>() << "\n";
    std::cout << "model:       " << j["model"].dump() << "\n";
    if (j.contains("train")) std::cout << "train:       " << j["train"].dump() << "\n";
  });
}

}  // namespace ctxenc::cli

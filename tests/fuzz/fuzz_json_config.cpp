// fuzz_json_config.cpp — libFuzzer harness: any bytes as a JSON training
// recipe (as `train --config` reads it) and as a stored model config: parse
// with the depth limit, strict fields and enums, then validate. Only
// ctxenc::Error may come out.
#include <string>

#include "ctxenc/config.h"
#include "ctxenc/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const nlohmann::json j = ctxenc::parse_json(text, ctxenc::kExitInput, "recipe");
    try {
      ctxenc::config_from_json<ctxenc::TrainConfig>(j, ctxenc::kExitInput, "recipe").validate();
    } catch (const ctxenc::Error&) {
    }
    if (j.is_object() && j.contains("model"))
      ctxenc::config_from_json<ctxenc::ModelConfig>(j["model"], ctxenc::kExitModel, "model").validate();
  } catch (const ctxenc::Error&) {
  }
  return 0;
}

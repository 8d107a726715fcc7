// ctxenc/model_info.h — torch-free access to model files and checkpoints for
// the CLI: a summary, and the export of a checkpoint to a model file.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ctxenc {

// {file, kind, step, model, generator_parameters, [discriminator_parameters],
//  [dtype], [train]}. Loads and checks the whole file; throws ModelFileError.
nlohmann::json describe_model_file(const std::string& path);

// Checkpoint -> generator-only model file (its weight average if it has one),
// stored as float32 or, with bf16, bfloat16 (half the size).
void export_model(const std::string& checkpoint, const std::string& out, bool bf16);
// Several model files or checkpoints of one architecture -> one model file
// whose weights (and BatchNorm statistics) are their mean: a "model soup" of
// runs that share a starting point, such as a model and its fine-tuning.
// Header: the last input's step and train config, and "averaged_from".
void export_average(const std::vector<std::string>& inputs, const std::string& out, bool bf16);

}  // namespace ctxenc

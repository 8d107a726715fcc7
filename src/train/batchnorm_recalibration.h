// train/batchnorm_recalibration.h — internal: re-measuring a generator's BatchNorm
// statistics for the weights it actually has.
//
// A weight average (the EMA a run ships, or a soup of several files) carries
// running statistics that were measured on other weights: the live model's,
// or a mean of several models'. Recalibration runs the generator forward in
// training mode over crops of the training set and stores the exact mean of
// each layer's batch statistics (as SWA does after averaging).
#pragma once
#include <torch/torch.h>

#include "ctxenc/config.h"
#include "model/networks.h"
#include "ctxenc/model_info.h"

namespace ctxenc {

// Replaces every BatchNorm running mean/variance of g with the average over
// r.batches batches of r.batch_size training crops (framed as `data` says,
// holes as `mask` and g's config say). g ends in eval mode; weights are
// untouched. Throws UsageError for a bad config or an empty dataset.
void recalibrate_batch_norm(Generator& g, DataConfig data, const MaskConfig& mask,
                            const BatchNormRecalibration& r);

}  // namespace ctxenc

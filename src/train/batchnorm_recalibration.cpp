// batchnorm_recalibration.cpp — re-measures a generator's BatchNorm running
// statistics on training crops for its own weights (see the header).
#include "train/batchnorm_recalibration.h"

#include <vector>

#include "ctxenc/errors.h"
#include "io/dataset.h"
#include "model/hole_mapping.h"
#include "train/loader.h"

namespace ctxenc {

namespace {

// The BatchNorm layers of a generator, 1-d (bottleneck code) and 2-d.
struct BatchNormLayers {
  std::vector<torch::nn::BatchNorm1dImpl*> bn1d;
  std::vector<torch::nn::BatchNorm2dImpl*> bn2d;
};

BatchNormLayers find_batch_norms(torch::nn::Module& m) {
  BatchNormLayers layers;
  for (auto& child : m.modules(/*include_self=*/true)) {
    if (auto* b = dynamic_cast<torch::nn::BatchNorm1dImpl*>(child.get())) layers.bn1d.push_back(b);
    if (auto* b = dynamic_cast<torch::nn::BatchNorm2dImpl*>(child.get())) layers.bn2d.push_back(b);
  }
  return layers;
}

// Zeroes the statistics and switches to a cumulative average (momentum none):
// after n training-mode batches each running value is the mean over all n.
template <typename BN>
c10::optional<double> start_cumulative(BN* bn) {
  const c10::optional<double> momentum = bn->options.momentum();
  bn->reset_running_stats();
  bn->options.momentum(c10::nullopt);
  return momentum;
}

}  // namespace

void recalibrate_batch_norm(Generator& g, DataConfig data, const MaskConfig& mask,
                            const BatchNormRecalibration& r) {
  if (r.batches < 1) throw UsageError("recalibration needs at least one batch");
  if (r.batch_size < 2) throw UsageError("recalibration needs batches of at least two crops");
  if (!r.frame.empty()) data.frame = parse_crop_frame(r.frame);
  data.path = r.data;
  data.validate();
  const HoleMapping holes(g->cfg);
  const DatasetFiles files = list_dataset(r.data, Split::Train);

  BatchNormLayers layers = find_batch_norms(*g);
  std::vector<c10::optional<double>> momenta;
  for (auto* b : layers.bn1d) momenta.push_back(start_cumulative(b));
  for (auto* b : layers.bn2d) momenta.push_back(start_cumulative(b));

  TrainLoader loader(files.files, data, mask, holes, r.batch_size, r.seed, /*first_step=*/0);
  torch::NoGradGuard no_grad;
  g->train();
  for (int64_t i = 0; i < r.batches; ++i) {
    const Batch b = loader.next();  // [B, C, S, S], holes [B, 1, S, S] as the model trains
    holes.predict([&](const torch::Tensor& x) { return g->forward(x); }, b.images, b.holes, b.prefilled);
  }
  g->eval();

  size_t k = 0;
  for (auto* b : layers.bn1d) b->options.momentum(momenta[k++]);
  for (auto* b : layers.bn2d) b->options.momentum(momenta[k++]);
}

}  // namespace ctxenc

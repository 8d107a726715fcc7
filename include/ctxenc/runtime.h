// ctxenc/runtime.h — process-wide runtime knobs: intra-op threads and the
// bfloat16 autocast scope used by training and inference.
#pragma once
#include <torch/torch.h>

#include "ctxenc/config.h"

namespace ctxenc {

// RAII: runs the enclosed ops in bfloat16 autocast when precision is BF16.
class PrecisionGuard {
 public:
  explicit PrecisionGuard(Precision p);
  ~PrecisionGuard();
  PrecisionGuard(const PrecisionGuard&) = delete;
  PrecisionGuard& operator=(const PrecisionGuard&) = delete;

 private:
  bool enabled_, prev_enabled_;
  at::ScalarType prev_dtype_;
};

}  // namespace ctxenc

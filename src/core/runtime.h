// core/runtime.h — internal: the bfloat16 autocast scope used by training
// (set_threads and the bf16 check are public, in ctxenc/config.h).
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

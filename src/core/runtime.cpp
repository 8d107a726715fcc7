// runtime.cpp — process-wide runtime settings: threads and the bf16 autocast scope.
#include <cstdlib>
#include <thread>

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>

#include "core/runtime.h"
#include "ctxenc/errors.h"

namespace ctxenc {

void set_threads(int n) {
  if (n < 0) throw UsageError("threads must be >= 0 (0 = all cores)");
  if (n == 0) {
    // $CTXENC_THREADS lets a caller that runs several processes at once (CI,
    // a batch farm) keep them from oversubscribing the cores.
    if (const char* env = std::getenv("CTXENC_THREADS"); env && std::atoi(env) > 0) n = std::atoi(env);
    else n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  at::set_num_threads(n);  // also sets OpenMP threads, which OpenBLAS shares
}

bool bf16_convolutions_fast() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512dq");
#else
  return false;
#endif
}

const char* bf16_slow_warning() {
  return "warning: this CPU has no AVX-512, so bf16 convolutions run on a slow reference path "
         "(over 20x slower than fp32 here); fp32 precision is the fast one on this machine";
}

PrecisionGuard::PrecisionGuard(Precision p)
    : enabled_(p == Precision::BF16), prev_enabled_(at::autocast::is_cpu_enabled()),
      prev_dtype_(at::autocast::get_autocast_cpu_dtype()) {
  if (!enabled_) return;
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  at::autocast::set_cpu_enabled(true);
  at::autocast::increment_nesting();
}

PrecisionGuard::~PrecisionGuard() {
  if (!enabled_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_cpu_enabled(prev_enabled_);
  at::autocast::set_autocast_cpu_dtype(prev_dtype_);
}

}  // namespace ctxenc

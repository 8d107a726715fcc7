// gemv_bf16.cpp — the AVX512-BF16 matrix-vector kernel (see gemv_bf16.h).
// Built with -mavx512f -mavx512bf16 for this file only, where the compiler
// takes those flags (CMake defines CTXENC_GEMV_BF16_KERNEL); callers check
// gemv_bf16_supported() first. Elsewhere only a plain loop is built.
#include "model/gemv_bf16.h"

#include <cstring>

#if defined(CTXENC_GEMV_BF16_KERNEL) && (defined(__x86_64__) || defined(__i386__))
#define CTXENC_GEMV_BF16_AVX512 1
#include <immintrin.h>
#endif

namespace ctxenc {
namespace {
float bf16_to_float(uint16_t v) {
  const uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}
}  // namespace

#ifndef CTXENC_GEMV_BF16_AVX512
bool gemv_bf16_supported() { return false; }

void gemv_bf16_rows(const uint16_t* w, const uint16_t* x, const float* bias, float* y, int64_t in,
                    int64_t row_begin, int64_t row_end) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    float sum = 0.0f;
    for (int64_t i = 0; i < in; ++i) sum += bf16_to_float(w[r * in + i]) * bf16_to_float(x[i]);
    y[r] = sum + (bias ? bias[r] : 0.0f);
  }
}
#else
bool gemv_bf16_supported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
}

void gemv_bf16_rows(const uint16_t* w, const uint16_t* x, const float* bias, float* y, int64_t in,
                    int64_t row_begin, int64_t row_end) {
  const int64_t vec_end = in - in % 32;  // 32 bf16 pairs per dot-product instruction
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint16_t* row = w + r * in;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 64 <= vec_end; i += 64) {
      acc0 = _mm512_dpbf16_ps(acc0, (__m512bh)_mm512_loadu_si512(row + i), (__m512bh)_mm512_loadu_si512(x + i));
      acc1 = _mm512_dpbf16_ps(acc1, (__m512bh)_mm512_loadu_si512(row + i + 32),
                              (__m512bh)_mm512_loadu_si512(x + i + 32));
    }
    for (; i < vec_end; i += 32)
      acc0 = _mm512_dpbf16_ps(acc0, (__m512bh)_mm512_loadu_si512(row + i), (__m512bh)_mm512_loadu_si512(x + i));
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    for (; i < in; ++i) sum += bf16_to_float(row[i]) * bf16_to_float(x[i]);
    y[r] = sum + (bias ? bias[r] : 0.0f);
  }
}
#endif

}  // namespace ctxenc

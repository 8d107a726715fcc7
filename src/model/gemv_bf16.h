// gemv_bf16.h — internal to the library: a bfloat16 matrix-vector product with
// AVX512-BF16 dot-product instructions, for the dense bottleneck at batch 1.
// At one image the two 4000 x 8192 products only stream their weights; the
// stock bf16 kernels reach about 22 GB/s on the project machine, half of what
// the memory gives. Torch-free: the caller splits rows over threads.
#pragma once
#include <cstdint>

namespace ctxenc {

// True when this CPU runs the AVX512-BF16 kernel.
bool gemv_bf16_supported();

// y[r] = bias[r] + sum_i w[r * in + i] * x[i] for r in [row_begin, row_end).
// w: bf16 [rows, in] row-major; x: bf16 [in]; bias: fp32 or null; y: fp32.
// bf16 values are raw bits (uint16_t). Accumulates in fp32.
void gemv_bf16_rows(const uint16_t* w, const uint16_t* x, const float* bias, float* y, int64_t in,
                    int64_t row_begin, int64_t row_end);

}  // namespace ctxenc

#pragma once
// 8 x 8 float transposes on 256-bit registers, for the FMA GEMM files: B's strips packed from a
// transposed B, and one-column products over A's rows (gemm_column.hpp). AVX intrinsics with
// internal linkage: each kernel file compiles its own copy with its own flags (AVX-512 implies AVX).
#include <immintrin.h>

#include <cstdint>

namespace fitcore::kernels {
namespace {

// out[q] = column q of the 8 x 8 block at src (rows of stride lds): the 8 rows' values at q.
inline void columns_of_8x8(const float* src, int64_t lds, __m256 out[8]) {
  __m256 r[8], t[8], u[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * lds);
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int h = 0; h < 2; ++h) {  // rows 0-3, then rows 4-7
    const __m256 *lo = t + 4 * h, *hi = t + 4 * h + 2;
    u[4 * h] = _mm256_shuffle_ps(lo[0], hi[0], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * h + 1] = _mm256_shuffle_ps(lo[0], hi[0], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * h + 2] = _mm256_shuffle_ps(lo[1], hi[1], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * h + 3] = _mm256_shuffle_ps(lo[1], hi[1], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    out[i] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x20);
    out[4 + i] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x31);
  }
}

// dst rows 0-7 (stride ldd) = the columns of the 8 x 8 block at src (rows of stride lds).
inline void transpose8x8(const float* src, int64_t lds, float* dst, int64_t ldd) {
  __m256 columns[8];
  columns_of_8x8(src, lds, columns);
  for (int i = 0; i < 8; ++i) _mm256_storeu_ps(dst + i * ldd, columns[i]);
}

}  // namespace
}  // namespace fitcore::kernels

#pragma once
// C = A b (or C += A b) for a single column b: a Dense layer of one unit (a regression head), and
// its weight gradient x^T dz. The register tiles would fill one lane in sixteen there (3-5 GFLOP/s
// on one Zen 3 thread, the output layer then a serial 7 % of a batch-2048 step); here 8 rows go
// through a vector at once. Each element of C is still one fused multiply-add chain over k in
// order, so the bits equal the tiles'.
//
// AVX2 + FMA intrinsics with internal linkage: included by both FMA kernel files (AVX-512 implies
// them), each compiling its own copy with its own flags (tools/check-isa verifies the objects).
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "fitcore/gemm.hpp"
#include "gemm_transpose.hpp"

namespace fitcore::kernels {
namespace {

// Rows [i, i + 8) of C: the eight chains side by side, from C's values or zero.
inline __m256 start_rows(const float* c, int64_t ldc, bool resume) {
  if (!resume) return _mm256_setzero_ps();
  return _mm256_setr_ps(c[0], c[ldc], c[2 * ldc], c[3 * ldc], c[4 * ldc], c[5 * ldc], c[6 * ldc], c[7 * ldc]);
}

inline void store_rows(__m256 acc, float* c, int64_t ldc) {
  alignas(32) float v[8];
  _mm256_store_ps(v, acc);
  for (int r = 0; r < 8; ++r) c[r * ldc] = v[r];
}

void gemm_column(int64_t m, int64_t k, StridedMatrix a, StridedMatrix b, float* c, int64_t ldc, bool resume) {
  const float* bp = b.data;
  const int64_t bs = b.row_stride;
  int64_t i = 0;
  if (a.row_stride == 1) {  // A's columns contiguous (a transpose): 8 rows a load, 64 rows a pass over k
    for (; i + 64 <= m; i += 64) {
      __m256 acc[8];
      for (int r = 0; r < 8; ++r) acc[r] = start_rows(c + (i + 8 * r) * ldc, ldc, resume);
      for (int64_t p = 0; p < k; ++p) {
        const __m256 bv = _mm256_set1_ps(bp[p * bs]);
        const float* ap = a.data + p * a.col_stride + i;
        for (int r = 0; r < 8; ++r) acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(ap + 8 * r), bv, acc[r]);
      }
      for (int r = 0; r < 8; ++r) store_rows(acc[r], c + (i + 8 * r) * ldc, ldc);
    }
    for (; i + 8 <= m; i += 8) {
      __m256 acc = start_rows(c + i * ldc, ldc, resume);
      for (int64_t p = 0; p < k; ++p)
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(a.data + p * a.col_stride + i), _mm256_set1_ps(bp[p * bs]), acc);
      store_rows(acc, c + i * ldc, ldc);
    }
  } else if (a.col_stride == 1) {  // A's rows contiguous: 8 x 8 blocks turned into columns
    for (; i + 8 <= m; i += 8) {
      const float* ai = a.data + i * a.row_stride;
      __m256 acc = start_rows(c + i * ldc, ldc, resume);
      int64_t p = 0;
      for (; p + 8 <= k; p += 8) {
        __m256 cols[8];
        columns_of_8x8(ai + p, a.row_stride, cols);
        for (int q = 0; q < 8; ++q) acc = _mm256_fmadd_ps(cols[q], _mm256_set1_ps(bp[(p + q) * bs]), acc);
      }
      for (; p < k; ++p) {
        const float* ap = ai + p;
        const int64_t rs = a.row_stride;
        const __m256 col = _mm256_setr_ps(ap[0], ap[rs], ap[2 * rs], ap[3 * rs], ap[4 * rs], ap[5 * rs], ap[6 * rs],
                                          ap[7 * rs]);
        acc = _mm256_fmadd_ps(col, _mm256_set1_ps(bp[p * bs]), acc);
      }
      store_rows(acc, c + i * ldc, ldc);
    }
  }
  for (; i < m; ++i) {  // the last rows, or any other layout: one scalar chain each
    float acc = resume ? c[i * ldc] : 0.0f;
    for (int64_t p = 0; p < k; ++p) acc = std::fma(a.data[i * a.row_stride + p * a.col_stride], bp[p * bs], acc);
    c[i * ldc] = acc;
  }
}

}  // namespace
}  // namespace fitcore::kernels

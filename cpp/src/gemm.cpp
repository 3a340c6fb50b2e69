#include "fitcore/gemm.hpp"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#else
#include <Eigen/Core>
#endif

namespace fitcore {

#if defined(__AVX2__) && defined(__FMA__)

namespace {

constexpr int kTileRows = 6;     // 6 x 16 accumulators fill 12 of the 16 ymm registers
constexpr int64_t kTileCols = 16;
constexpr int64_t kSliceK = 256;

// Lanes [0, valid) of an 8-float register, for the loads and stores of a narrow edge tile.
__m256i lane_mask(int64_t valid) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(valid)), lanes);
}

// C row r of a tile: acc0 holds columns 0-7, acc1 columns 8-15 (under masks in a narrow tile).
template <bool Narrow>
inline void store_row(float* cr, __m256 acc0, __m256 acc1, bool accumulate, __m256i mask0, __m256i mask1) {
  if (Narrow) {
    if (accumulate) {
      acc0 = _mm256_add_ps(_mm256_maskload_ps(cr, mask0), acc0);
      acc1 = _mm256_add_ps(_mm256_maskload_ps(cr + 8, mask1), acc1);
    }
    _mm256_maskstore_ps(cr, mask0, acc0);
    _mm256_maskstore_ps(cr + 8, mask1, acc1);
  } else {
    if (accumulate) {
      acc0 = _mm256_add_ps(_mm256_loadu_ps(cr), acc0);
      acc1 = _mm256_add_ps(_mm256_loadu_ps(cr + 8), acc1);
    }
    _mm256_storeu_ps(cr, acc0);
    _mm256_storeu_ps(cr + 8, acc1);
  }
}

// One Rows x 16 tile of C from a Rows-row panel of A and a 16-column strip of B, over all of k.
// The accumulators are named variables, not an array, so they stay in registers. Narrow tiles
// (the last columns) load and store under masks; the arithmetic is the same.
template <bool Narrow>
inline __m256 load(const float* p, __m256i mask) {
  return Narrow ? _mm256_maskload_ps(p, mask) : _mm256_loadu_ps(p);
}

// `resume`: the chains go on from C's values (a later slice of k), else they start at zero.
template <int Rows, bool Narrow>
void tile(int64_t k, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb, float* c, int64_t ldc,
          bool resume, bool accumulate, __m256i mask0, __m256i mask1) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
         c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  if (resume) {
    c00 = load<Narrow>(c, mask0), c01 = load<Narrow>(c + 8, mask1);
    if constexpr (Rows > 1) c10 = load<Narrow>(c + ldc, mask0), c11 = load<Narrow>(c + ldc + 8, mask1);
    if constexpr (Rows > 2) c20 = load<Narrow>(c + 2 * ldc, mask0), c21 = load<Narrow>(c + 2 * ldc + 8, mask1);
    if constexpr (Rows > 3) c30 = load<Narrow>(c + 3 * ldc, mask0), c31 = load<Narrow>(c + 3 * ldc + 8, mask1);
    if constexpr (Rows > 4) c40 = load<Narrow>(c + 4 * ldc, mask0), c41 = load<Narrow>(c + 4 * ldc + 8, mask1);
    if constexpr (Rows > 5) c50 = load<Narrow>(c + 5 * ldc, mask0), c51 = load<Narrow>(c + 5 * ldc + 8, mask1);
  }
  for (int64_t p = 0; p < k; ++p) {
    const float* bp = b + p * ldb;
    const __m256 b0 = load<Narrow>(bp, mask0), b1 = load<Narrow>(bp + 8, mask1);
    const float* ap = a + p * acs;
    __m256 ar = _mm256_broadcast_ss(ap);
    c00 = _mm256_fmadd_ps(ar, b0, c00);
    c01 = _mm256_fmadd_ps(ar, b1, c01);
    if constexpr (Rows > 1) {
      ar = _mm256_broadcast_ss(ap + ars);
      c10 = _mm256_fmadd_ps(ar, b0, c10);
      c11 = _mm256_fmadd_ps(ar, b1, c11);
    }
    if constexpr (Rows > 2) {
      ar = _mm256_broadcast_ss(ap + 2 * ars);
      c20 = _mm256_fmadd_ps(ar, b0, c20);
      c21 = _mm256_fmadd_ps(ar, b1, c21);
    }
    if constexpr (Rows > 3) {
      ar = _mm256_broadcast_ss(ap + 3 * ars);
      c30 = _mm256_fmadd_ps(ar, b0, c30);
      c31 = _mm256_fmadd_ps(ar, b1, c31);
    }
    if constexpr (Rows > 4) {
      ar = _mm256_broadcast_ss(ap + 4 * ars);
      c40 = _mm256_fmadd_ps(ar, b0, c40);
      c41 = _mm256_fmadd_ps(ar, b1, c41);
    }
    if constexpr (Rows > 5) {
      ar = _mm256_broadcast_ss(ap + 5 * ars);
      c50 = _mm256_fmadd_ps(ar, b0, c50);
      c51 = _mm256_fmadd_ps(ar, b1, c51);
    }
  }
  store_row<Narrow>(c, c00, c01, accumulate, mask0, mask1);
  if constexpr (Rows > 1) store_row<Narrow>(c + ldc, c10, c11, accumulate, mask0, mask1);
  if constexpr (Rows > 2) store_row<Narrow>(c + 2 * ldc, c20, c21, accumulate, mask0, mask1);
  if constexpr (Rows > 3) store_row<Narrow>(c + 3 * ldc, c30, c31, accumulate, mask0, mask1);
  if constexpr (Rows > 4) store_row<Narrow>(c + 4 * ldc, c40, c41, accumulate, mask0, mask1);
  if constexpr (Rows > 5) store_row<Narrow>(c + 5 * ldc, c50, c51, accumulate, mask0, mask1);
}

template <bool Narrow>
void row_panel(int rows, int64_t k, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb, float* c,
               int64_t ldc, bool resume, bool accumulate, __m256i mask0, __m256i mask1) {
  switch (rows) {
    case 6: return tile<6, Narrow>(k, a, ars, acs, b, ldb, c, ldc, resume, accumulate, mask0, mask1);
    case 5: return tile<5, Narrow>(k, a, ars, acs, b, ldb, c, ldc, resume, accumulate, mask0, mask1);
    case 4: return tile<4, Narrow>(k, a, ars, acs, b, ldb, c, ldc, resume, accumulate, mask0, mask1);
    case 3: return tile<3, Narrow>(k, a, ars, acs, b, ldb, c, ldc, resume, accumulate, mask0, mask1);
    case 2: return tile<2, Narrow>(k, a, ars, acs, b, ldb, c, ldc, resume, accumulate, mask0, mask1);
    default: return tile<1, Narrow>(k, a, ars, acs, b, ldb, c, ldc, resume, accumulate, mask0, mask1);
  }
}

}  // namespace

void gemm(int64_t m, int64_t n, int64_t k, StridedMatrix a, const float* b, int64_t ldb, float* c, int64_t ldc,
          bool accumulate) {
  const __m256i all = _mm256_set1_epi32(-1);
  // k in slices whose 16-column strip of B (kSliceK x 16 floats) stays in L1 while every row panel
  // of A meets it. A later slice resumes the chains from C, so each element is still one chain of
  // fused multiply-adds over k in order. C += A B (rare: a layer feeding several others) runs k in
  // one slice and adds the chain to C at the end.
  const int64_t slice = accumulate ? k : kSliceK;
  for (int64_t p0 = 0; p0 < k; p0 += slice) {
    const int64_t kp = k - p0 < slice ? k - p0 : slice;
    const float* ap = a.data + p0 * a.col_stride;
    const float* bp = b + p0 * ldb;
    for (int64_t j = 0; j < n; j += kTileCols) {
      const int64_t cols = n - j < kTileCols ? n - j : kTileCols;
      const __m256i mask0 = cols == kTileCols ? all : lane_mask(cols), mask1 = cols == kTileCols ? all : lane_mask(cols - 8);
      for (int64_t i = 0; i < m; i += kTileRows) {
        const int rows = static_cast<int>(m - i < kTileRows ? m - i : kTileRows);
        const float* ai = ap + i * a.row_stride;
        float* cij = c + i * ldc + j;
        if (cols == kTileCols)
          row_panel<false>(rows, kp, ai, a.row_stride, a.col_stride, bp + j, ldb, cij, ldc, p0 > 0, accumulate, mask0,
                           mask1);
        else
          row_panel<true>(rows, kp, ai, a.row_stride, a.col_stride, bp + j, ldb, cij, ldc, p0 > 0, accumulate, mask0,
                          mask1);
      }
    }
  }
}

#else  // without AVX2 and FMA: Eigen's GEMM

void gemm(int64_t m, int64_t n, int64_t k, StridedMatrix a, const float* b, int64_t ldb, float* c, int64_t ldc,
          bool accumulate) {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ColMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
  using Outer = Eigen::OuterStride<>;
  Eigen::Map<const RowMajor, 0, Outer> bm(b, k, n, Outer(ldb));
  Eigen::Map<RowMajor, 0, Outer> cm(c, m, n, Outer(ldc));
  auto run = [&](const auto& am) {
    if (accumulate)
      cm.noalias() += am * bm;
    else
      cm.noalias() = am * bm;
  };
  if (a.col_stride == 1) {
    run(Eigen::Map<const RowMajor, 0, Outer>(a.data, m, k, Outer(a.row_stride)));
  } else if (a.row_stride == 1) {
    run(Eigen::Map<const ColMajor, 0, Outer>(a.data, m, k, Outer(a.col_stride)));
  } else {
    using Strides = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
    run(RowMajor(Eigen::Map<const RowMajor, 0, Strides>(a.data, m, k, Strides(a.row_stride, a.col_stride))));
  }
}

#endif

}  // namespace fitcore

// GEMM kernel for AVX2 + FMA (this file is compiled with -mavx2 -mfma whatever the build's -march;
// fitcore::gemm calls it only when kernels::active_isa() allows AVX2): 6 x 16 register tiles (12 of
// the 16 ymm registers accumulate), masked edges, in gemm_blocking.hpp's cache blocks: B packed 64
// columns per 256-long slice of k, up to four slices a run (256 KB), met by blocks of 96 rows of A
// (96 KB; both in a 512 KB L2). The row blocks took batch 2048 x width 1024 on one Zen 3 thread from
// 65 to 75 GFLOP/s (forward) and 69 to 76 (input gradient), FMA peak ~88: without them each 16-column
// strip streamed all of A's slice from L3.
// Everything but the entry point has internal linkage and uses intrinsics only, so the linker can
// never hand AVX2 code to a caller of the same function elsewhere (tools/check-isa verifies it).
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>

#include "fitcore/kernels/gemm.hpp"
#include "gemm_blocking.hpp"
#include "gemm_transpose.hpp"

namespace fitcore::kernels {
namespace {

constexpr int kTileRows = 6;     // 6 x 16 accumulators fill 12 of the 16 ymm registers
constexpr int64_t kTileCols = 16;
constexpr int64_t kSliceK = 256;
constexpr int64_t kChunkCols = 4 * kTileCols;  // columns of B packed per slice of k (64 KB)
constexpr int64_t kBlockRows = 96;  // rows of A per cache block (96 x 256 floats: 96 KB, in L2)
// Fewest rows that keep two FMA pipes of 4-cycle latency busy: 4 rows x 2 accumulators = 8 chains.
constexpr int64_t kMinRows = 4;

// Lanes [0, valid) of an 8-float register, for the loads and stores of a narrow edge tile.
__m256i lane_mask(int64_t valid) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(valid)), lanes);
}

// Row r of a tile: acc0 holds columns 0-7, acc1 columns 8-15 (under masks in a narrow tile).
template <bool Narrow>
inline void store_row(float* cr, __m256 acc0, __m256 acc1, __m256i mask0, __m256i mask1) {
  if (Narrow) {
    _mm256_maskstore_ps(cr, mask0, acc0);
    _mm256_maskstore_ps(cr + 8, mask1, acc1);
  } else {
    _mm256_storeu_ps(cr, acc0);
    _mm256_storeu_ps(cr + 8, acc1);
  }
}

template <bool Narrow>
inline __m256 load(const float* p, __m256i mask) {
  return Narrow ? _mm256_maskload_ps(p, mask) : _mm256_loadu_ps(p);
}

// One row of a tile, one step of k: a[0] times the 16 floats of B's row, into the row's accumulators.
inline void fma_row(const float* a, __m256 b0, __m256 b1, __m256& c0, __m256& c1) {
  const __m256 ar = _mm256_broadcast_ss(a);
  c0 = _mm256_fmadd_ps(ar, b0, c0);
  c1 = _mm256_fmadd_ps(ar, b1, c1);
}

// One Rows x 16 tile of C from a Rows-row panel of A and a 16-column strip of B, over all of k.
// The accumulators are named variables, not an array, so they stay in registers. Narrow tiles
// (the last columns) load and store under masks; the arithmetic is the same.
// `resume`: the chains go on from C's values (C += A B, or a later slice of k), else start at zero.
template <int Rows, bool Narrow>
void tile(int64_t k, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb, float* c,
                       int64_t ldc, bool resume, __m256i mask0, __m256i mask1) {
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
    fma_row(ap, b0, b1, c00, c01);
    if constexpr (Rows > 1) fma_row(ap + ars, b0, b1, c10, c11);
    if constexpr (Rows > 2) fma_row(ap + 2 * ars, b0, b1, c20, c21);
    if constexpr (Rows > 3) fma_row(ap + 3 * ars, b0, b1, c30, c31);
    if constexpr (Rows > 4) fma_row(ap + 4 * ars, b0, b1, c40, c41);
    if constexpr (Rows > 5) fma_row(ap + 5 * ars, b0, b1, c50, c51);
  }
  store_row<Narrow>(c, c00, c01, mask0, mask1);
  if constexpr (Rows > 1) store_row<Narrow>(c + ldc, c10, c11, mask0, mask1);
  if constexpr (Rows > 2) store_row<Narrow>(c + 2 * ldc, c20, c21, mask0, mask1);
  if constexpr (Rows > 3) store_row<Narrow>(c + 3 * ldc, c30, c31, mask0, mask1);
  if constexpr (Rows > 4) store_row<Narrow>(c + 4 * ldc, c40, c41, mask0, mask1);
  if constexpr (Rows > 5) store_row<Narrow>(c + 5 * ldc, c50, c51, mask0, mask1);
}

template <bool Narrow>
void row_panel(int rows, int64_t k, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb,
                            float* c, int64_t ldc, bool resume, __m256i mask0, __m256i mask1) {
  switch (rows) {
    case 6: return tile<6, Narrow>(k, a, ars, acs, b, ldb, c, ldc, resume, mask0, mask1);
    case 5: return tile<5, Narrow>(k, a, ars, acs, b, ldb, c, ldc, resume, mask0, mask1);
    case 4: return tile<4, Narrow>(k, a, ars, acs, b, ldb, c, ldc, resume, mask0, mask1);
    case 3: return tile<3, Narrow>(k, a, ars, acs, b, ldb, c, ldc, resume, mask0, mask1);
    case 2: return tile<2, Narrow>(k, a, ars, acs, b, ldb, c, ldc, resume, mask0, mask1);
    default: return tile<1, Narrow>(k, a, ars, acs, b, ldb, c, ldc, resume, mask0, mask1);
  }
}

// The kp x cols block of B at (p0, j) as one contiguous kp x 16 run, zero beyond `cols`.
void pack_strip(StridedMatrix b, int64_t p0, int64_t j, int64_t kp, int64_t cols, float* strip) {
  const float* src = b.data + p0 * b.row_stride + j * b.col_stride;
  if (cols == kTileCols && b.col_stride == 1) {
    for (int64_t p = 0; p < kp; ++p) {
      _mm256_store_ps(strip + p * kTileCols, _mm256_loadu_ps(src + p * b.row_stride));
      _mm256_store_ps(strip + p * kTileCols + 8, _mm256_loadu_ps(src + p * b.row_stride + 8));
    }
  } else if (cols == kTileCols && b.row_stride == 1 && kp % 8 == 0) {  // B is a transpose: 8 x 8 blocks
    for (int64_t p = 0; p < kp; p += 8)
      for (int64_t jj = 0; jj < kTileCols; jj += 8)
        transpose8x8(src + jj * b.col_stride + p, b.col_stride, strip + p * kTileCols + jj, kTileCols);
  } else {
    for (int64_t p = 0; p < kp; ++p)
      for (int64_t jj = 0; jj < kTileCols; ++jj)
        strip[p * kTileCols + jj] = jj < cols ? src[p * b.row_stride + jj * b.col_stride] : 0.0f;
  }
}

// The register tile for gemm_blocking.hpp.
struct Tile {
  static constexpr int64_t kTileRows = ::fitcore::kernels::kTileRows, kTileCols = ::fitcore::kernels::kTileCols;
  static constexpr int64_t kSliceK = ::fitcore::kernels::kSliceK, kChunkCols = ::fitcore::kernels::kChunkCols;
  static constexpr int64_t kBlockRows = ::fitcore::kernels::kBlockRows, kMinRows = ::fitcore::kernels::kMinRows;
  struct Masks {
    __m256i lo, hi;  // columns 0-7 and 8-15
  };
  static Masks masks(int64_t cols) {
    if (cols == kTileCols) return {_mm256_set1_epi32(-1), _mm256_set1_epi32(-1)};
    return {lane_mask(cols), lane_mask(cols - 8)};
  }
  static void pack_strip(StridedMatrix b, int64_t p0, int64_t j, int64_t kp, int64_t cols, float* strip) {
    ::fitcore::kernels::pack_strip(b, p0, j, kp, cols, strip);
  }
  template <bool Narrow>
  static void row_panel(int rows, int64_t k, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb,
                        float* c, int64_t ldc, bool resume, const Masks& m) {
    ::fitcore::kernels::row_panel<Narrow>(rows, k, a, ars, acs, b, ldb, c, ldc, resume, m.lo, m.hi);
  }
};

}  // namespace

void gemm_avx2(int64_t m, int64_t n, int64_t k, StridedMatrix a, StridedMatrix b, float* c, int64_t ldc,
               bool accumulate) {
  gemm_blocked<Tile>(m, n, k, a, b, c, ldc, accumulate);
}

void transpose_avx2(int64_t rows, int64_t cols, const float* src, int64_t lds, float* dst, int64_t ldd) {
  const int64_t whole_rows = rows / 8 * 8, whole_cols = cols / 8 * 8;
  for (int64_t i = 0; i < whole_rows; i += 8) {
    for (int64_t j = 0; j < whole_cols; j += 8) transpose8x8(src + i * lds + j, lds, dst + j * ldd + i, ldd);
    for (int64_t j = whole_cols; j < cols; ++j)
      for (int64_t r = i; r < i + 8; ++r) dst[j * ldd + r] = src[r * lds + j];
  }
  for (int64_t r = whole_rows; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) dst[j * ldd + r] = src[r * lds + j];
}

}  // namespace fitcore::kernels
#endif

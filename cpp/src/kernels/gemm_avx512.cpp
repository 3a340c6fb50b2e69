// GEMM kernel for AVX-512 (F/BW/DQ/VL; this file is compiled with those flags whatever the build's
// -march, and fitcore::gemm calls it only when kernels::active_isa() allows AVX-512).
//
// Register tiles of kTileRows x kTileCols floats (kTileVecs zmm accumulators per row), A read in
// place (one embedded-broadcast operand per row and step of k), in gemm_blocking.hpp's cache blocks:
// B packed kChunkCols columns per kSliceK-long slice of k (two slices a run), met by blocks of
// kBlockRows rows of A in L2. Every element of C is one fused multiply-add chain over k in order:
// the same chain as the AVX2 kernel computes, hence the same bits. Edge tiles load and store under
// lane masks.
//
// Everything but the entry point has internal linkage and uses intrinsics only, so the linker can
// never hand AVX-512 code to a caller of the same function elsewhere (tools/check-isa verifies it).
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>

#include "fitcore/kernels/gemm.hpp"
#include "gemm_blocking.hpp"

namespace fitcore::kernels {
namespace {

constexpr int kLanes = 16;
// 6 x 64 tiles: 24 of the 32 zmm registers accumulate, 4 hold B's row, one A's broadcast; per step
// of k 4 loads of B and 6 broadcasts feed 24 FMAs. Measured on Zen 4 (1 thread, CPU time) against
// 14 x 32 and 12 x 32 tiles and 128/192-long slices: as fast or faster within the noise (~10 %).
constexpr int kTileRows = 6;
constexpr int kTileVecs = 4;
constexpr int64_t kTileCols = kTileVecs * kLanes;
constexpr int64_t kSliceK = 256;
constexpr int64_t kChunkCols = 2 * kTileCols;  // columns of B packed per slice of k
constexpr int64_t kBlockRows = 192;  // rows of A per cache block (192 x 256 floats: 192 KB, in L2)
// Fewest rows that keep two FMA pipes of 4-cycle latency busy: 2 rows x 4 accumulators = 8 chains.
constexpr int64_t kMinRows = 2;

struct Masks {
  __mmask16 lanes[kTileVecs];
};

// Lanes of zmm v of a tile whose first `cols` columns exist.
Masks tile_masks(int64_t cols) {
  Masks m;
  for (int v = 0; v < kTileVecs; ++v) {
    const int64_t valid = cols - v * kLanes;
    m.lanes[v] = valid >= kLanes ? static_cast<__mmask16>(0xFFFF)
                                 : valid <= 0 ? static_cast<__mmask16>(0)
                                              : static_cast<__mmask16>((1u << valid) - 1u);
  }
  return m;
}

template <bool Narrow>
inline __m512 load(const float* p, __mmask16 mask) {
  return Narrow ? _mm512_maskz_loadu_ps(mask, p) : _mm512_loadu_ps(p);
}

template <bool Narrow>
inline void store(float* p, __m512 v, __mmask16 mask) {
  if (Narrow)
    _mm512_mask_storeu_ps(p, mask, v);
  else
    _mm512_storeu_ps(p, v);
}

// One Rows x kTileCols tile of C from a Rows-row panel of A and a strip of B, over all of k.
// `resume`: the chains go on from C's values (C += A B, or a later slice of k), else start at zero.
template <int Rows, bool Narrow>
void tile(int64_t k, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb, float* c, int64_t ldc,
          bool resume, const Masks& mask) {
  __m512 acc[Rows][kTileVecs];
  if (resume) {
#pragma GCC unroll 16
    for (int r = 0; r < Rows; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < kTileVecs; ++v) acc[r][v] = load<Narrow>(c + r * ldc + v * kLanes, mask.lanes[v]);
  } else {
#pragma GCC unroll 16
    for (int r = 0; r < Rows; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < kTileVecs; ++v) acc[r][v] = _mm512_setzero_ps();
  }
  for (int64_t p = 0; p < k; ++p) {
    const float* bp = b + p * ldb;
    __m512 bv[kTileVecs];
#pragma GCC unroll 4
    for (int v = 0; v < kTileVecs; ++v) bv[v] = load<Narrow>(bp + v * kLanes, mask.lanes[v]);
    const float* ap = a + p * acs;
#pragma GCC unroll 16
    for (int r = 0; r < Rows; ++r) {
      const __m512 ar = _mm512_set1_ps(ap[r * ars]);
#pragma GCC unroll 4
      for (int v = 0; v < kTileVecs; ++v) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < Rows; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < kTileVecs; ++v) store<Narrow>(c + r * ldc + v * kLanes, acc[r][v], mask.lanes[v]);
}

template <bool Narrow, int Rows = kTileRows>
void row_panel(int rows, int64_t k, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb, float* c,
               int64_t ldc, bool resume, const Masks& mask) {
  if constexpr (Rows > 1) {
    if (rows < Rows) return row_panel<Narrow, Rows - 1>(rows, k, a, ars, acs, b, ldb, c, ldc, resume, mask);
  }
  tile<Rows, Narrow>(k, a, ars, acs, b, ldb, c, ldc, resume, mask);
}

// The kp x cols block of B at (p0, j) as one contiguous kp x kTileCols run, zero beyond `cols`.
void pack_strip(StridedMatrix b, int64_t p0, int64_t j, int64_t kp, int64_t cols, float* strip) {
  const float* src = b.data + p0 * b.row_stride + j * b.col_stride;
  if (cols == kTileCols && b.col_stride == 1) {
    for (int64_t p = 0; p < kp; ++p)
      for (int v = 0; v < kTileVecs; ++v)
        _mm512_store_ps(strip + p * kTileCols + v * kLanes, _mm512_loadu_ps(src + p * b.row_stride + v * kLanes));
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
  using Masks = ::fitcore::kernels::Masks;
  static Masks masks(int64_t cols) { return tile_masks(cols); }
  static void pack_strip(StridedMatrix b, int64_t p0, int64_t j, int64_t kp, int64_t cols, float* strip) {
    ::fitcore::kernels::pack_strip(b, p0, j, kp, cols, strip);
  }
  template <bool Narrow>
  static void row_panel(int rows, int64_t k, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb,
                        float* c, int64_t ldc, bool resume, const Masks& m) {
    ::fitcore::kernels::row_panel<Narrow>(rows, k, a, ars, acs, b, ldb, c, ldc, resume, m);
  }
};

}  // namespace

void gemm_avx512(int64_t m, int64_t n, int64_t k, StridedMatrix a, StridedMatrix b, float* c, int64_t ldc,
                 bool accumulate) {
  gemm_blocked<Tile>(m, n, k, a, b, c, ldc, accumulate);
}

}  // namespace fitcore::kernels
#endif

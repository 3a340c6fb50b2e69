#pragma once
// The cache blocking both FMA GEMM kernels share, generic over a register-tile policy (Tile in
// gemm_avx2.cpp, gemm_avx512.cpp). Each kernel file includes it and instantiates it on its own tile
// only; everything here has internal linkage (anonymous namespace), so every level compiles its own
// copy with its own flags and no copy built for a wider level can serve a narrower caller
// (tools/check-isa verifies the objects).
//
// Per slice of kSliceK steps of k, B's columns in chunks of kChunkCols are packed strip by strip
// (kTileCols columns, contiguous runs) and met by blocks of kBlockRows rows of A, both in L2, the
// block's row panels passing over one strip (in L1) after another. A later slice resumes the chains
// from C, so every element of C is one fused multiply-add chain over k in order (C += A B starts it
// from C's values): bits that never depend on how a caller splits C, nor on the tile's shape.
//
// Tile provides: kTileRows, kTileCols, kSliceK, kChunkCols, kBlockRows (int64_t constants); Masks
// and masks(cols) for a strip of `cols` valid columns; pack_strip(b, p0, j, kp, cols, strip) (the
// kp x cols block of B at (p0, j) as a contiguous kp x kTileCols run, zero-padded); and
// row_panel<Narrow>(rows, kp, a, ars, acs, b, ldb, c, ldc, resume, masks) for rows <= kTileRows.
#include <cstdint>

#include "fitcore/gemm.hpp"

namespace fitcore::kernels {
namespace {

template <class Tile>
void gemm_blocked(int64_t m, int64_t n, int64_t k, StridedMatrix a, StridedMatrix b, float* c, int64_t ldc,
                  bool accumulate) {
  constexpr int64_t kTileRows = Tile::kTileRows, kTileCols = Tile::kTileCols, kSliceK = Tile::kSliceK;
  constexpr int64_t kChunkCols = Tile::kChunkCols, kBlockRows = Tile::kBlockRows;
  static_assert(kBlockRows % kTileRows == 0 && kChunkCols % kTileCols == 0, "blocks hold whole tiles");
  alignas(64) float packed[kSliceK * kChunkCols];
  for (int64_t p0 = 0; p0 < k; p0 += kSliceK) {
    const int64_t kp = k - p0 < kSliceK ? k - p0 : kSliceK;
    const bool resume = accumulate || p0 > 0;
    const float* ap = a.data + p0 * a.col_stride;
    for (int64_t j0 = 0; j0 < n; j0 += kChunkCols) {
      const int64_t chunk = n - j0 < kChunkCols ? n - j0 : kChunkCols;
      // Copied into contiguous strips when B's rows are not contiguous or several row panels will
      // read them: the loads then stream instead of striding. A narrow last strip of a row-major B
      // is read in place under masks.
      const bool pack = b.col_stride != 1 || m > kTileRows;
      if (pack)
        for (int64_t j = 0; j < chunk; j += kTileCols) {
          const int64_t cols = chunk - j < kTileCols ? chunk - j : kTileCols;
          if (cols == kTileCols || b.col_stride != 1) Tile::pack_strip(b, p0, j0 + j, kp, cols, packed + j * kp);
        }
      for (int64_t i0 = 0; i0 < m; i0 += kBlockRows) {
        const int64_t i1 = m - i0 < kBlockRows ? m : i0 + kBlockRows;
        for (int64_t j = 0; j < chunk; j += kTileCols) {
          const int64_t cols = chunk - j < kTileCols ? chunk - j : kTileCols;
          const bool full = cols == kTileCols;
          const typename Tile::Masks masks = Tile::masks(cols);
          const float* bj = b.data + p0 * b.row_stride + (j0 + j) * b.col_stride;
          int64_t ldb = b.row_stride;
          if (pack && (full || b.col_stride != 1)) bj = packed + j * kp, ldb = kTileCols;
          for (int64_t i = i0; i < i1; i += kTileRows) {
            const int rows = static_cast<int>(i1 - i < kTileRows ? i1 - i : kTileRows);
            const float* ai = ap + i * a.row_stride;
            float* cij = c + i * ldc + j0 + j;
            if (full)
              Tile::template row_panel<false>(rows, kp, ai, a.row_stride, a.col_stride, bj, ldb, cij, ldc, resume,
                                              masks);
            else
              Tile::template row_panel<true>(rows, kp, ai, a.row_stride, a.col_stride, bj, ldb, cij, ldc, resume,
                                             masks);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace fitcore::kernels

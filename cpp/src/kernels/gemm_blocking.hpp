#pragma once
// The cache blocking both FMA GEMM kernels share, generic over a register-tile policy (Tile in
// gemm_avx2.cpp, gemm_avx512.cpp). Each kernel file includes it and instantiates it on its own tile
// only; everything here has internal linkage (anonymous namespace), so every level compiles its own
// copy with its own flags and no copy built for a wider level can serve a narrower caller
// (tools/check-isa verifies the objects).
//
// k is cut into slices of kSliceK steps. Over a run of slices (up to kPackedBytes of B per chunk),
// B's columns in chunks of kChunkCols are packed slice by slice into strips (kTileCols columns,
// contiguous runs); a row-major B row by row across the chunk's strips, so each of its rows (4 KB
// apart in a 1024-unit layer's weights: a page each) is visited once, not once per strip. Blocks
// of kBlockRows rows of A then take the run's slices one after another, the block's row panels
// passing over one strip (in L1) after another. A later slice resumes the chains from C, and the
// block's tiles of C are still in L2 when it does: with one slice per pass over all of A, a wide C
// (2048 x 128) went back to memory at every slice: batch 2048 x width 1024 forward ran 8-13 %
// slower on one quiet Zen 3 thread, 20-25 % while neighbours loaded L3. Every element of C is one
// fused multiply-add chain over k in order (C += A B starts it from C's values): bits that never
// depend on how a caller splits C, nor on the tile's shape or the run's length.
//
// A is read in place. A transpose (the weight gradient x^T dz) keeps one slice a run: its strided
// steps beside a longer run of B cost 4-5 %, and packing it into row panels cost 10 % on a quiet
// machine (it won only while neighbours' load made L3 slow). Where A's steps lie a multiple of 4 KB
// apart, Dense hands over a row-major copy of x^T instead (ops/dense.cpp): made once per backward
// pass, not once per call as packing here would be.
//
// A single column of B (n == 1: a one-unit layer) goes to gemm_column.hpp's vector path instead.
//
// Tile provides: kTileRows, kTileCols, kSliceK, kChunkCols, kBlockRows, kMinRows (int64_t constants); Masks
// and masks(cols) for a strip of `cols` valid columns; pack_strip(b, p0, j, kp, cols, strip) (the
// kp x cols block of B at (p0, j) as a contiguous kp x kTileCols run, zero-padded, written with
// aligned stores); and row_panel<Narrow>(rows, kp, a, ars, acs, b, ldb, c, ldc, resume, masks) for
// rows <= kTileRows.
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "fitcore/gemm.hpp"
#include "gemm_column.hpp"

namespace fitcore::kernels {
namespace {

// Rows of the next tile when `left` rows of the block remain: kTileRows, except where that would
// leave a last tile too short to keep both FMA pipes busy (fewer than Tile::kMinRows rows: its few
// accumulator chains wait on the FMA latency), where the last two tiles share the rows instead.
// At batch 32 the AVX2 tiles go 6 6 6 6 4 4, not 6 6 6 6 6 2 (a 2-row tile ran at half speed).
template <class Tile>
int64_t tile_rows(int64_t left) {
  if (left <= Tile::kTileRows) return left;
  return left - Tile::kTileRows < Tile::kMinRows ? (left + 1) / 2 : Tile::kTileRows;
}

// B packed per chunk over a run of slices: at most this much, to sit in L2 beside a block of A.
constexpr int64_t kPackedBytes = 256 * 1024;

template <class Tile>
void gemm_blocked(int64_t m, int64_t n, int64_t k, StridedMatrix a, StridedMatrix b, float* c, int64_t ldc,
                  bool accumulate) {
  constexpr int64_t kTileRows = Tile::kTileRows, kTileCols = Tile::kTileCols, kSliceK = Tile::kSliceK;
  constexpr int64_t kChunkCols = Tile::kChunkCols, kBlockRows = Tile::kBlockRows;
  constexpr int64_t kRunSlices = kPackedBytes / static_cast<int64_t>(sizeof(float)) / kChunkCols / kSliceK;
  static_assert(kBlockRows % kTileRows == 0 && kChunkCols % kTileCols == 0, "blocks hold whole tiles");
  static_assert(kRunSlices >= 1, "a packed run holds a slice");
  if (n == 1) return gemm_column(m, k, a, b, c, ldc, accumulate);
  // A run's scratch comes from malloc and never throws (the kernels have no unwinding, so no
  // exception tables for check-isa to find shared between levels): without it, one slice a run.
  using Scratch = std::unique_ptr<float, void (*)(void*)>;
  constexpr int64_t kRunK = kRunSlices * kSliceK;
  alignas(64) float one_slice[kSliceK * kChunkCols];
  // Runs pay only where a later block of A would find C evicted: one block (m <= kBlockRows, as at
  // batch 32) resumes from C in cache anyway, and would pay a malloc per call for nothing.
  const bool runs = k > kSliceK && a.col_stride == 1 && m > kBlockRows;
  const Scratch several_slices(
      runs ? static_cast<float*>(std::aligned_alloc(64, sizeof(float) * (k < kRunK ? k : kRunK) * kChunkCols)) : nullptr,
      std::free);
  const int64_t run_k = several_slices ? kRunK : kSliceK;
  float* const packed = several_slices ? several_slices.get() : one_slice;
  // Copied into contiguous strips when B's rows are not contiguous or several row panels will read
  // them: the loads then stream instead of striding. A narrow last strip of a row-major B is read in
  // place under masks.
  const bool pack = b.col_stride != 1 || m > kTileRows;
  for (int64_t q0 = 0; q0 < k; q0 += run_k) {
    const int64_t q1 = k - q0 < run_k ? k : q0 + run_k;
    for (int64_t j0 = 0; j0 < n; j0 += kChunkCols) {
      const int64_t chunk = n - j0 < kChunkCols ? n - j0 : kChunkCols;
      if (pack)
        for (int64_t p0 = q0; p0 < q1; p0 += kSliceK) {
          const int64_t kp = q1 - p0 < kSliceK ? q1 - p0 : kSliceK;
          float* slice = packed + (p0 - q0) * kChunkCols;
          if (b.col_stride == 1) {  // row-major B: row by row across the chunk's full strips
            const int64_t full = chunk / kTileCols * kTileCols;
            for (int64_t p = 0; p < kp; ++p)
              for (int64_t j = 0; j < full; j += kTileCols)
                Tile::pack_strip(b, p0 + p, j0 + j, 1, kTileCols, slice + j * kp + p * kTileCols);
          } else {  // strided B: every strip, the narrow last one zero-padded
            for (int64_t j = 0; j < chunk; j += kTileCols)
              Tile::pack_strip(b, p0, j0 + j, kp, chunk - j < kTileCols ? chunk - j : kTileCols, slice + j * kp);
          }
        }
      for (int64_t i0 = 0; i0 < m; i0 += kBlockRows) {
        const int64_t i1 = m - i0 < kBlockRows ? m : i0 + kBlockRows;
        for (int64_t p0 = q0; p0 < q1; p0 += kSliceK) {
          const int64_t kp = q1 - p0 < kSliceK ? q1 - p0 : kSliceK;
          const bool resume = accumulate || p0 > 0;
          const float* ap = a.data + p0 * a.col_stride;
          const float* slice = packed + (p0 - q0) * kChunkCols;
          for (int64_t j = 0; j < chunk; j += kTileCols) {
            const int64_t cols = chunk - j < kTileCols ? chunk - j : kTileCols;
            const bool full = cols == kTileCols;
            const typename Tile::Masks masks = Tile::masks(cols);
            const float* bj = b.data + p0 * b.row_stride + (j0 + j) * b.col_stride;
            int64_t ldb = b.row_stride;
            if (pack && (full || b.col_stride != 1)) bj = slice + j * kp, ldb = kTileCols;
            for (int64_t i = i0; i < i1;) {
              const int rows = static_cast<int>(tile_rows<Tile>(i1 - i));
              const float* ai = ap + i * a.row_stride;
              float* cij = c + i * ldc + j0 + j;
              if (full)
                Tile::template row_panel<false>(rows, kp, ai, a.row_stride, a.col_stride, bj, ldb, cij, ldc, resume,
                                                masks);
              else
                Tile::template row_panel<true>(rows, kp, ai, a.row_stride, a.col_stride, bj, ldb, cij, ldc, resume,
                                               masks);
              i += rows;
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace fitcore::kernels

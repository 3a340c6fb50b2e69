#pragma once
// The GEMM kernels behind fitcore::gemm (gemm.hpp), one per instruction-set level, and a checked
// entry for tests and benchmarks. Each level's kernel lives in its own translation unit
// (cpp/src/kernels/gemm_avx2.cpp, gemm_avx512.cpp) compiled with that level's flags; only
// fitcore::gemm (cpp/src/gemm.cpp) chooses among them, by active_isa().
//
// Bits: at the AVX2 and AVX-512 levels every element of C is one fused multiply-add chain over k in
// order (from zero, or from C when accumulating), so the result never depends on how a caller
// splits C into blocks or threads, and the two levels give the same bits as each other (the same
// chain, only more lanes at once). The baseline level is Eigen's GEMM (no FMA; its k blocking
// follows the call's shape): bits independent of the thread count as long as callers split C by
// size only (Dense does), but they differ from the FMA levels by float rounding.
#include <cstdint>

#include "fitcore/gemm.hpp"

namespace fitcore::kernels {

void gemm_avx2(int64_t m, int64_t n, int64_t k, StridedMatrix a, StridedMatrix b, float* c, int64_t ldc,
               bool accumulate);
void gemm_avx512(int64_t m, int64_t n, int64_t k, StridedMatrix a, StridedMatrix b, float* c, int64_t ldc,
                 bool accumulate);
// fitcore::transpose at AVX2 and up (8 x 8 blocks on 256-bit registers, which AVX-512 has too).
void transpose_avx2(int64_t rows, int64_t cols, const float* src, int64_t lds, float* dst, int64_t ldd);

// A matrix by its shape and element strides (any signs), as a numpy view describes one.
struct MatrixView {
  float* data;
  int64_t rows, cols, row_stride, col_stride;
};

// C = A B (or C += A B) through fitcore::gemm at the active level, after checking the shapes agree
// and C is a row-major matrix whose rows do not overlap (std::invalid_argument otherwise).
void gemm_checked(const MatrixView& a, const MatrixView& b, const MatrixView& c, bool accumulate);

}  // namespace fitcore::kernels

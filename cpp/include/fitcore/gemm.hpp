#pragma once
// The single-threaded matrix product Dense's blocks run: C = A B (or C += A B), and the transpose
// that lays a transposed operand out row by row first.
#include <cstdint>

namespace fitcore {

// A read-only matrix operand by strides: element (i, j) is data[i * row_stride + j * col_stride],
// so a row-major matrix and the transpose of one are both views, without a copy.
struct StridedMatrix {
  const float* data;
  int64_t row_stride, col_stride;
};

// C (m x n, row-major, leading dimension ldc) = A (m x k) B (k x n), or C += A B when `accumulate`.
// The kernel is chosen at every call by kernels::active_isa() (fc.config.set_isa, FITCORE_ISA): at
// the AVX-512 and AVX2 + FMA levels, register-blocked kernels of our own (kernels/gemm.hpp; small
// batches are where library GEMMs lose most): every element of C is one fused multiply-add chain
// over k in order (from zero, or from C's value when accumulating), so its bits never depend on how
// a caller splits C into blocks or threads, and both levels give the same bits. At the baseline
// level, Eigen's GEMM: bits differ from the FMA levels by rounding, and stay thread-count
// independent as long as callers split C by size only.
void gemm(int64_t m, int64_t n, int64_t k, StridedMatrix a, StridedMatrix b, float* c, int64_t ldc, bool accumulate);

// dst (cols x rows, row-major, leading dimension ldd) = the transpose of src (rows x cols,
// row-major, leading dimension lds); the two must not overlap. A copy: the same values at every
// level (8 x 8 register transposes at AVX2 and up).
void transpose(int64_t rows, int64_t cols, const float* src, int64_t lds, float* dst, int64_t ldd);

}  // namespace fitcore

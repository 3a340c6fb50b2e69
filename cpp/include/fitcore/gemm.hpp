#pragma once
// The single-threaded matrix product Dense's blocks run: C = A B (or C += A B).
#include <cstdint>

namespace fitcore {

// A read-only matrix operand by strides: element (i, j) is data[i * row_stride + j * col_stride],
// so a row-major matrix and the transpose of one are both views, without a copy.
struct StridedMatrix {
  const float* data;
  int64_t row_stride, col_stride;
};

// C (m x n, row-major, leading dimension ldc) = A (m x k) B (k x n), or C += A B when `accumulate`.
// On x86-64 CPUs with AVX2 and FMA (checked at run time), register-blocked kernels of our own (small
// batches are where library GEMMs lose most): every element of C is one fused multiply-add chain
// over k in order (from zero, or from C's value when accumulating), so its bits never depend on how
// a caller splits C into blocks or threads. Elsewhere, Eigen's GEMM.
void gemm(int64_t m, int64_t n, int64_t k, StridedMatrix a, StridedMatrix b, float* c, int64_t ldc, bool accumulate);

}  // namespace fitcore

// fitcore::gemm: the dispatcher in front of the per-ISA kernels (cpp/src/kernels/gemm_*.cpp),
// chosen at every call by kernels::active_isa(), and Eigen's GEMM at the baseline level; likewise
// fitcore::transpose.
#include "fitcore/gemm.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <stdexcept>
#include <string>

#include "fitcore/kernels/gemm.hpp"
#include "fitcore/kernels/isa.hpp"

namespace fitcore {
namespace {

// Calls f with an Eigen view of the operand: row-major, column-major (a transpose), or a copy.
template <typename F>
void with_eigen_view(StridedMatrix v, int64_t rows, int64_t cols, F&& f) {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ColMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
  using Outer = Eigen::OuterStride<>;
  using Strides = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
  if (v.col_stride == 1)
    f(Eigen::Map<const RowMajor, 0, Outer>(v.data, rows, cols, Outer(v.row_stride)));
  else if (v.row_stride == 1)
    f(Eigen::Map<const ColMajor, 0, Outer>(v.data, rows, cols, Outer(v.col_stride)));
  else
    f(RowMajor(Eigen::Map<const RowMajor, 0, Strides>(v.data, rows, cols, Strides(v.row_stride, v.col_stride))));
}

void gemm_eigen(int64_t m, int64_t n, int64_t k, StridedMatrix a, StridedMatrix b, float* c, int64_t ldc,
                bool accumulate) {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<RowMajor, 0, Eigen::OuterStride<>> cm(c, m, n, Eigen::OuterStride<>(ldc));
  with_eigen_view(a, m, k, [&](const auto& am) {
    with_eigen_view(b, k, n, [&](const auto& bm) {
      if (accumulate)
        cm.noalias() += am * bm;
      else
        cm.noalias() = am * bm;
    });
  });
}

}  // namespace

void gemm(int64_t m, int64_t n, int64_t k, StridedMatrix a, StridedMatrix b, float* c, int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {  // an empty sum: C = 0, or C unchanged
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = 0.0f;
    return;
  }
#if defined(__x86_64__)
  switch (kernels::active_isa()) {
    case kernels::Isa::avx512: return kernels::gemm_avx512(m, n, k, a, b, c, ldc, accumulate);
    case kernels::Isa::avx2: return kernels::gemm_avx2(m, n, k, a, b, c, ldc, accumulate);
    case kernels::Isa::baseline: break;
  }
#endif
  gemm_eigen(m, n, k, a, b, c, ldc, accumulate);
}

void transpose(int64_t rows, int64_t cols, const float* src, int64_t lds, float* dst, int64_t ldd) {
#if defined(__x86_64__)
  if (kernels::active_isa() >= kernels::Isa::avx2) return kernels::transpose_avx2(rows, cols, src, lds, dst, ldd);
#endif
  constexpr int64_t kBlock = 8;  // 8 x 8 blocks: each source row's 8 values go to 8 lines of dst in cache
  for (int64_t i0 = 0; i0 < rows; i0 += kBlock)
    for (int64_t j0 = 0; j0 < cols; j0 += kBlock)
      for (int64_t i = i0; i < std::min(rows, i0 + kBlock); ++i)
        for (int64_t j = j0; j < std::min(cols, j0 + kBlock); ++j) dst[j * ldd + i] = src[i * lds + j];
}

namespace kernels {

void gemm_checked(const MatrixView& a, const MatrixView& b, const MatrixView& c, bool accumulate) {
  const auto shape = [](const MatrixView& v) { return std::to_string(v.rows) + "x" + std::to_string(v.cols); };
  if (a.cols != b.rows || c.rows != a.rows || c.cols != b.cols)
    throw std::invalid_argument("gemm: shapes " + shape(a) + " @ " + shape(b) + " -> " + shape(c) + " do not agree");
  if (a.rows < 0 || a.cols < 0 || b.cols < 0) throw std::invalid_argument("gemm: negative dimension");
  if (c.col_stride != 1 || (c.rows > 1 && c.row_stride < c.cols))
    throw std::invalid_argument("gemm: C must be row-major with rows that do not overlap");
  gemm(a.rows, b.cols, a.cols, {a.data, a.row_stride, a.col_stride}, {b.data, b.row_stride, b.col_stride}, c.data,
       c.row_stride, accumulate);
}

}  // namespace kernels
}  // namespace fitcore

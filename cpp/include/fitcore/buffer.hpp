#pragma once
// Aligned float storage and the Eigen views the kernels use over it.
#include <Eigen/Core>
#include <cstdint>
#include <vector>

namespace fitcore {

// Aligned so Eigen and the compiler can use full-width SIMD loads on every buffer.
using Buffer = std::vector<float, Eigen::aligned_allocator<float>>;

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<RowMatrix>;
using ConstMatrixMap = Eigen::Map<const RowMatrix>;
using VectorMap = Eigen::Map<Eigen::VectorXf>;
using ConstVectorMap = Eigen::Map<const Eigen::VectorXf>;
using RowVectorMap = Eigen::Map<Eigen::RowVectorXf>;
using ConstRowVectorMap = Eigen::Map<const Eigen::RowVectorXf>;

inline void ensure_size(Buffer& b, int64_t n) {
  if (static_cast<int64_t>(b.size()) < n) b.resize(static_cast<size_t>(n));
}

// Loops shorter than this run on one thread: spawning costs more than it saves.
constexpr int64_t kParallelGrain = 1 << 15;

}  // namespace fitcore

#pragma once
// Threads and the fixed work partitions that keep results independent of the thread count.
#include <cstdint>

namespace fitcore {

// OpenMP runs the core's parallel loops with n threads. Eigen's own GEMM threading stays off:
// ops split their GEMMs into fixed column blocks themselves (see gemm_blocks), which keeps the
// bits independent of the thread count and never leaves a thread spinning on a preempted peer.
void set_num_threads(int n);
int num_threads();

// GEMM outputs are computed in blocks of this many columns, whatever the thread count.
constexpr int64_t kGemmBlock = 64;
inline int64_t gemm_blocks(int64_t cols) { return (cols + kGemmBlock - 1) / kGemmBlock; }
// A GEMM of fewer multiply-adds than this runs on one thread: forking would cost more.
constexpr int64_t kGemmGrain = int64_t{1} << 18;

}  // namespace fitcore

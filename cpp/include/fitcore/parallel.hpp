#pragma once
// Threads, and the fixed work partitions that keep results independent of the thread count.
#include <cstdint>
#include <functional>

namespace fitcore {

// The core's hot loops (Dense GEMM blocks, elementwise sweeps, optimizer updates) are split into
// tasks by size only, and OpenMP threads claim the tasks one at a time. Eigen's own GEMM threading
// stays off: its blocking depends on the thread count, and so would the bits of the result.
void set_num_threads(int n);
int num_threads();

// Runs f(i) once for every i in [0, tasks), on OpenMP's threads when `parallel` and tasks > 1 (and
// not already inside a parallel region), else in order on the caller. Which thread runs a task
// never changes what it computes, so callers that split work into tasks by size only (never by
// thread count) get the same bits with any count.
void parallel_for(int64_t tasks, bool parallel, const std::function<void(int64_t)>& f);

// Elementwise loops: f(first, last) over fixed chunks of kChunk elements, in parallel above
// kChunkGrain elements. Sweeps are memory-bound and cheap (a ReLU over 64k floats takes ~10 us),
// so only long ones (the optimizer's over all parameters) are worth a hand-over.
constexpr int64_t kChunk = int64_t{1} << 14;
constexpr int64_t kChunkGrain = int64_t{1} << 17;
void parallel_chunks(int64_t n, const std::function<void(int64_t, int64_t)>& f);

// GEMM outputs are computed in blocks of this many columns, whatever the thread count.
constexpr int64_t kGemmBlock = 64;
inline int64_t gemm_blocks(int64_t cols) { return (cols + kGemmBlock - 1) / kGemmBlock; }
// A GEMM of fewer multiply-adds than this runs on one thread: handing work over would cost more.
constexpr int64_t kGemmGrain = int64_t{1} << 18;

}  // namespace fitcore

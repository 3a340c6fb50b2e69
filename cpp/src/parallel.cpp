#include "fitcore/parallel.hpp"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>

namespace fitcore {

void set_num_threads(int n) {
  omp_set_num_threads(std::max(1, n));
  Eigen::setNbThreads(1);  // GEMMs are split into fixed blocks by parallel_for instead
}

int num_threads() { return omp_get_max_threads(); }

void parallel_for(int64_t tasks, bool parallel, const std::function<void(int64_t)>& f) {
  // Tasks are claimed one at a time, so a thread that starts late takes less; which thread runs a
  // task never changes what it computes. Nested calls (a task's own loops) run on the caller.
#pragma omp parallel for schedule(dynamic, 1) if (parallel && tasks > 1 && !omp_in_parallel())
  for (int64_t i = 0; i < tasks; ++i) f(i);
}

void parallel_chunks(int64_t n, const std::function<void(int64_t, int64_t)>& f) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  parallel_for(chunks, n > kChunkGrain, [&](int64_t c) { f(c * kChunk, std::min(n, (c + 1) * kChunk)); });
}

}  // namespace fitcore

#include "fitcore/kernels/vecmath.hpp"

#include <string>

#include <omp.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace fitcore::kernels {

// Defined in vecmath_<level>.cpp, each compiled with its level's flags.
const VecMath& vecmath_baseline();
#if defined(__x86_64__)
const VecMath& vecmath_avx2();
const VecMath& vecmath_avx512();
#endif

const VecMath& vecmath(Isa isa) {
#if defined(__x86_64__)
  if (isa == Isa::avx512) return vecmath_avx512();
  if (isa == Isa::avx2) return vecmath_avx2();
#endif
  (void)isa;
  return vecmath_baseline();
}

const VecMath& vecmath() { return vecmath(active_isa()); }

uint32_t dropout_threshold(float rate) {
  // rate * 2^24 is exact in float (a power-of-two scaling), so its ceiling is the exact bound.
  return static_cast<uint32_t>(std::ceil(rate * 16777216.0f));
}

float dropout_scale(float rate) {
  if (!(rate >= 0.0f && rate <= 1.0f)) throw std::invalid_argument("rate outside [0, 1]");
  return rate < 1.0f ? 1.0f / (1.0f - rate) : 0.0f;
}

double fma_peak_gflops(Isa isa, int threads, double seconds) {
  if (static_cast<int>(isa) > static_cast<int>(supported_isa()))
    throw std::invalid_argument(std::string("instruction set '") + isa_name(isa) + "' is not supported by this CPU");
  const VecMath& k = vecmath(isa);
  threads = std::max(threads, 1);
  constexpr int64_t kIterations = 1 << 20;
  const double flop = 2.0 * 12 * k.lanes * static_cast<double>(kIterations);
  // Each thread's rate over its own CPU time (CLOCK_THREAD_CPUTIME_ID), summed: on a shared machine
  // a descheduled thread's waiting does not count, so this is what the cores do while they run.
  std::vector<double> best(static_cast<size_t>(threads), 0.0);
  std::vector<float> sink(static_cast<size_t>(threads), 0.0f);
  const auto start = std::chrono::steady_clock::now();
  for (int run = 0; run < 1000; ++run) {
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int t = 0; t < threads; ++t) {
      timespec t0, t1;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
      sink[static_cast<size_t>(t)] += k.fma_loop(kIterations);
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
      const double cpu =
          static_cast<double>(t1.tv_sec - t0.tv_sec) + 1e-9 * static_cast<double>(t1.tv_nsec - t0.tv_nsec);
      best[static_cast<size_t>(t)] = std::max(best[static_cast<size_t>(t)], flop / cpu * 1e-9);
    }
    if (run >= 2 && std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > seconds) break;
  }
  double total = 0.0;
  for (double b : best) total += b;
  return sink[0] == -1.0f ? 0.0 : total;  // reads the sink so the runs are kept
}

}  // namespace fitcore::kernels

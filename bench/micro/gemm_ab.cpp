// Two builds of the AVX2 GEMM kernel in one process (tools/gemm-ab links a git revision's kernel
// as gemm_avx2_base and the working tree's as gemm_avx2_tree), timed in alternating bursts of
// ~50 ms of CPU time over Dense's shapes. On a shared VM the same benchmark moves by 20-30 % from
// one run to the next; neighbours' load hits both builds alike within a round, so the median of
// the per-round ratios still shows a 5-10 % change. Also checks that both give the same bits.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "fitcore/gemm.hpp"

namespace fitcore::kernels {
void gemm_avx2_base(int64_t, int64_t, int64_t, StridedMatrix, StridedMatrix, float*, int64_t, bool);
void gemm_avx2_tree(int64_t, int64_t, int64_t, StridedMatrix, StridedMatrix, float*, int64_t, bool);
}  // namespace fitcore::kernels

namespace {

using fitcore::StridedMatrix;
using Kernel = void (*)(int64_t, int64_t, int64_t, StridedMatrix, StridedMatrix, float*, int64_t, bool);

double cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// C (m x n) = A (m x k) B (k x n) in Dense's column blocks: 'f' forward (x W), 'w' weight gradient
// (x^T dz: A stored k x m), 'x' input gradient (dz W^T: B stored n x k).
struct Shape {
  int64_t m, n, k;
  char layout;
  const char* label;
};

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 20;
  const Shape shapes[] = {
      {32, 256, 784, 'f', "reference layer 1, batch 32"},  {32, 256, 256, 'x', "reference dz W^T, batch 32"},
      {784, 256, 32, 'w', "reference x^T dz, batch 32"},   {32, 1024, 1024, 'f', "1024-wide, batch 32"},
      {32, 1024, 1024, 'x', "1024-wide, batch 32, dz W^T"}, {1024, 1024, 32, 'w', "1024-wide, batch 32, x^T dz"},
      {256, 256, 784, 'f', "reference layer 1, batch 256"},
      {784, 256, 256, 'w', "reference x^T dz, batch 256"}, {2048, 256, 256, 'f', "256-wide, batch 2048"},
      {256, 256, 2048, 'w', "256-wide, batch 2048, x^T dz"}, {2048, 256, 256, 'x', "256-wide, batch 2048, dz W^T"},
      {256, 1024, 1024, 'f', "1024-wide, batch 256"},      {1024, 1024, 256, 'w', "1024-wide, batch 256, x^T dz"},
      {2048, 1024, 1024, 'f', "1024-wide, batch 2048"},    {1024, 1024, 2048, 'w', "1024-wide, batch 2048, x^T dz"},
      {2048, 1024, 1024, 'x', "1024-wide, batch 2048, dz W^T"}, {2048, 1, 256, 'f', "one unit, batch 2048"},
      {256, 1, 2048, 'w', "one unit, batch 2048, x^T dz"}};
  std::printf("AVX2 GEMM, working tree vs base, one thread, %d alternating rounds (GFLOP/s of CPU time)\n", rounds);
  std::printf("%-32s %-16s %8s %8s %10s  bits\n", "shape", "m x k x n", "base", "tree", "tree/base");
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (const Shape& s : shapes) {
    std::vector<float> a(s.m * s.k), b(s.k * s.n), c_base(s.m * s.n), c_tree(s.m * s.n);
    for (float& v : a) v = normal(rng);
    for (float& v : b) v = normal(rng);
    const StridedMatrix av = s.layout == 'w' ? StridedMatrix{a.data(), 1, s.m} : StridedMatrix{a.data(), s.k, 1};
    const int64_t block = s.n > 512 ? 128 : 64;  // Dense's column blocks
    const auto run = [&](Kernel kernel, float* c) {
      for (int64_t c0 = 0; c0 < s.n; c0 += block) {
        const int64_t nc = std::min(block, s.n - c0);
        const StridedMatrix bv =
            s.layout == 'x' ? StridedMatrix{b.data() + c0 * s.k, 1, s.k} : StridedMatrix{b.data() + c0, s.n, 1};
        kernel(s.m, nc, s.k, av, bv, c + c0, s.n, false);
      }
    };
    run(fitcore::kernels::gemm_avx2_base, c_base.data());
    run(fitcore::kernels::gemm_avx2_tree, c_tree.data());
    const bool same_bits = c_base == c_tree;
    const double flop = 2.0 * static_cast<double>(s.m * s.n * s.k);
    std::vector<double> base, tree, ratio;
    for (int r = 0; r < rounds; ++r) {
      double rate[2];
      for (int which = 0; which < 2; ++which) {
        const Kernel kernel = which ? fitcore::kernels::gemm_avx2_tree : fitcore::kernels::gemm_avx2_base;
        float* c = which ? c_tree.data() : c_base.data();
        int64_t calls = 0;
        const double start = cpu_seconds();
        double elapsed = 0.0;
        do {
          run(kernel, c);
          ++calls;
          elapsed = cpu_seconds() - start;
        } while (elapsed < 0.05);
        rate[which] = flop * static_cast<double>(calls) / elapsed * 1e-9;
      }
      base.push_back(rate[0]);
      tree.push_back(rate[1]);
      ratio.push_back(rate[1] / rate[0]);
    }
    char dims[32];
    std::snprintf(dims, sizeof dims, "%ldx%ldx%ld", static_cast<long>(s.m), static_cast<long>(s.k),
                  static_cast<long>(s.n));
    std::printf("%-32s %-16s %8.1f %8.1f %9.2fx  %s\n", s.label, dims, median(base), median(tree), median(ratio),
                same_bits ? "same" : "DIFFER");
    std::fflush(stdout);
  }
}

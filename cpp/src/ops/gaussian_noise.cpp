#include "fitcore/ops/gaussian_noise.hpp"

#include <algorithm>

#include "fitcore/kernels/vecmath.hpp"
#include "fitcore/parallel.hpp"

namespace fitcore {

GaussianNoise::GaussianNoise(const OpSpec& spec, const GraphSpec& graph)
    : Op(spec, graph),
      seed_(spec.config),
      stddev_(static_cast<float>(spec.config.number("stddev"))) {}

void GaussianNoise::forward(Pass& p) {
  const int64_t n = p.rows * output_width();
  const float* x = input(p);
  float* y = output_value(p);
  if (!p.training || stddev_ == 0.0f) {
    std::copy(x, x + n, y);
    return;
  }
  const uint64_t k = key(p);
  const float s = stddev_;
  const int64_t first = p.shard.first_row * output_width();  // element i of the whole batch draws counter i
  // random.hpp's standard_normal(k, first + i), vectorised at the CPU's level with the same bits.
  // A draw costs a log and a cos: compute-bound chunks.
  const kernels::VecMath& vm = kernels::vecmath();
  parallel_compute_chunks(n, [&](int64_t lo, int64_t hi) {
    vm.gaussian_noise(k, static_cast<uint64_t>(first + lo), s, x + lo, y + lo, hi - lo);
  });
}

void GaussianNoise::backward(Pass& p) { send_grad(p, 0, output_grad(p)); }  // additive: dy/dx = 1

}  // namespace fitcore

#include "fitcore/optimizers/adagrad.hpp"

#include <cmath>

#include "fitcore/buffer.hpp"

namespace fitcore {

Adagrad::Adagrad(const Config& c, int64_t n) : epsilon_(static_cast<float>(c.number("epsilon", 1e-7))) {
  add_state("accumulators", n, static_cast<float>(c.number("initial_accumulator_value", 0.1)));
}

void Adagrad::update(float* w, const float* g, int64_t n, float lr, int64_t) {
  const float eps = epsilon_;
  float* a = state_[0].data();
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    a[i] += g[i] * g[i];
    w[i] -= lr * g[i] / std::sqrt(a[i] + eps);
  }
}

}  // namespace fitcore

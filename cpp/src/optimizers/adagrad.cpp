#include "fitcore/optimizers/adagrad.hpp"

#include <cmath>

#include "fitcore/buffer.hpp"
#include "fitcore/kernels/vecmath.hpp"
#include "fitcore/parallel.hpp"

namespace fitcore {

Adagrad::Adagrad(const Config& c, int64_t n) : epsilon_(static_cast<float>(c.number("epsilon", 1e-7))) {
  add_state("accumulators", n, static_cast<float>(c.number("initial_accumulator_value", 0.1)));
}

void Adagrad::update(float* w, const float* g, int64_t n, float lr, int64_t) {
  const float eps = epsilon_;
  float* a = state_[0].data();
  const kernels::VecMath& k = kernels::vecmath();  // vectorised at the CPU's level
  parallel_chunks(n, [&](int64_t lo, int64_t hi) { k.adagrad(w + lo, g + lo, a + lo, hi - lo, lr, eps); });
}

}  // namespace fitcore

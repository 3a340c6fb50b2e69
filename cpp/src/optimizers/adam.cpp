#include "fitcore/optimizers/adam.hpp"

#include <algorithm>
#include <cmath>

#include "fitcore/buffer.hpp"
#include "fitcore/kernels/vecmath.hpp"
#include "fitcore/parallel.hpp"

namespace fitcore {

Adam::Adam(const Config& c, int64_t n)
    : beta_1_(static_cast<float>(c.number("beta_1", 0.9))),
      beta_2_(static_cast<float>(c.number("beta_2", 0.999))),
      epsilon_(static_cast<float>(c.number("epsilon", 1e-7))),
      amsgrad_(c.number("amsgrad", 0.0) != 0.0) {
  add_state("momentums", n);
  add_state("velocities", n);
  if (amsgrad_) add_state("velocity_hats", n);
}

void Adam::update(float* w, const float* g, int64_t n, float lr, int64_t step) {
  // The step's scalars in float32, as Keras computes them on float32 variables.
  const auto t = static_cast<float>(step);
  const float alpha = lr * std::sqrt(1.0f - std::pow(beta_2_, t)) / (1.0f - std::pow(beta_1_, t));
  const float a1 = 1.0f - beta_1_, a2 = 1.0f - beta_2_, eps = epsilon_;
  float* m = state_[0].data();
  float* v = state_[1].data();
  if (amsgrad_) {
    float* vh = state_[2].data();
    parallel_chunks(n, [=](int64_t lo, int64_t hi) {
#pragma omp simd
      for (int64_t i = lo; i < hi; ++i) {
        m[i] += (g[i] - m[i]) * a1;
        v[i] += (g[i] * g[i] - v[i]) * a2;
        vh[i] = std::max(vh[i], v[i]);
        w[i] -= m[i] * alpha / (std::sqrt(vh[i]) + eps);
      }
    });
    return;
  }
  const kernels::VecMath& k = kernels::vecmath();  // vectorised at the CPU's level
  parallel_chunks(n, [&](int64_t lo, int64_t hi) {
    k.adam(w + lo, g + lo, m + lo, v + lo, hi - lo, alpha, a1, a2, eps);
  });
}

}  // namespace fitcore

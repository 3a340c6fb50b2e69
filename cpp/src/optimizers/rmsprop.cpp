#include "fitcore/optimizers/rmsprop.hpp"

#include <cmath>
#include <type_traits>

#include "fitcore/buffer.hpp"
#include "fitcore/parallel.hpp"

namespace fitcore {

RMSprop::RMSprop(const Config& c, int64_t n)
    : rho_(static_cast<float>(c.number("rho", 0.9))),
      momentum_(static_cast<float>(c.number("momentum", 0.0))),
      epsilon_(static_cast<float>(c.number("epsilon", 1e-7))),
      centered_(c.number("centered", 0.0) != 0.0) {
  add_state("velocities", n);
  if (momentum_ > 0.0f) add_state("momentums", n);
  if (centered_) add_state("average_gradients", n);
}

void RMSprop::update(float* w, const float* g, int64_t n, float lr, int64_t) {
  const float rho = rho_, mu = momentum_, eps = epsilon_;
  float* v = state_[0].data();
  float* m = mu > 0.0f ? state_[1].data() : nullptr;
  float* ag = centered_ ? state_.back().data() : nullptr;
  // One loop per variant, so each vectorises without per-element branches.
  auto sweep = [&](auto centered, auto with_momentum) {
    parallel_chunks(n, [=](int64_t lo, int64_t hi) {
#pragma omp simd
      for (int64_t i = lo; i < hi; ++i) {
        v[i] = rho * v[i] + (1.0f - rho) * g[i] * g[i];
        float denominator = v[i];
        if constexpr (decltype(centered)::value) {
          ag[i] = rho * ag[i] + (1.0f - rho) * g[i];
          denominator = v[i] - ag[i] * ag[i];
        }
        const float increment = lr * g[i] / std::sqrt(denominator + eps);
        if constexpr (decltype(with_momentum)::value) {
          m[i] = mu * m[i] + increment;
          w[i] -= m[i];
        } else {
          w[i] -= increment;
        }
      }
    });
  };
  using yes = std::true_type;
  using no = std::false_type;
  if (ag && m) sweep(yes{}, yes{});
  else if (ag) sweep(yes{}, no{});
  else if (m) sweep(no{}, yes{});
  else sweep(no{}, no{});
}

}  // namespace fitcore

#include "fitcore/optimizers/sgd.hpp"

#include "fitcore/buffer.hpp"

namespace fitcore {

SGD::SGD(const Config& c, int64_t n)
    : momentum_(static_cast<float>(c.number("momentum", 0.0))), nesterov_(c.number("nesterov", 0.0) != 0.0) {
  if (momentum_ != 0.0f) add_state("momentums", n);
}

void SGD::update(float* w, const float* g, int64_t n, float lr, int64_t) {
  if (momentum_ == 0.0f) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
    for (int64_t i = 0; i < n; ++i) w[i] -= lr * g[i];
    return;
  }
  float* m = state_[0].data();
  const float mu = momentum_;
  if (nesterov_) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
    for (int64_t i = 0; i < n; ++i) {
      m[i] = mu * m[i] - lr * g[i];
      w[i] += mu * m[i] - lr * g[i];
    }
  } else {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
    for (int64_t i = 0; i < n; ++i) {
      m[i] = mu * m[i] - lr * g[i];
      w[i] += m[i];
    }
  }
}

}  // namespace fitcore

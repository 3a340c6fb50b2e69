#include "fitcore/optimizers/sgd.hpp"

#include "fitcore/buffer.hpp"
#include "fitcore/kernels/vecmath.hpp"
#include "fitcore/parallel.hpp"

namespace fitcore {

SGD::SGD(const Config& c, int64_t n)
    : momentum_(static_cast<float>(c.number("momentum", 0.0))), nesterov_(c.number("nesterov", 0.0) != 0.0) {
  if (momentum_ != 0.0f) add_state("momentums", n);
}

void SGD::update(float* w, const float* g, int64_t n, float lr, int64_t) {
  if (momentum_ == 0.0f) {
    parallel_chunks(n, [=](int64_t lo, int64_t hi) {
#pragma omp simd
      for (int64_t i = lo; i < hi; ++i) w[i] -= lr * g[i];
    });
    return;
  }
  float* m = state_[0].data();
  const float mu = momentum_;
  const bool nesterov = nesterov_;
  const kernels::VecMath& k = kernels::vecmath();  // vectorised at the CPU's level
  parallel_chunks(n, [&](int64_t lo, int64_t hi) {
    k.sgd_momentum(w + lo, g + lo, m + lo, hi - lo, lr, mu, nesterov);
  });
}

}  // namespace fitcore

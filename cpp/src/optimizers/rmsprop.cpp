#include "fitcore/optimizers/rmsprop.hpp"

#include "fitcore/buffer.hpp"
#include "fitcore/kernels/vecmath.hpp"
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
  const kernels::VecMath& k = kernels::vecmath();  // vectorised at the CPU's level
  parallel_chunks(n, [&](int64_t lo, int64_t hi) {
    k.rmsprop(w + lo, g + lo, v + lo, ag ? ag + lo : nullptr, m ? m + lo : nullptr, hi - lo, lr, rho, mu, eps);
  });
}

}  // namespace fitcore

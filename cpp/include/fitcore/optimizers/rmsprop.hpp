#pragma once
#include "fitcore/optimizer.hpp"

namespace fitcore {

// Keras RMSprop: v = rho v + (1 - rho) g^2 (centered: minus the squared mean gradient);
// step = lr g / sqrt(v + eps); with momentum m = momentum m + step, w -= m, else w -= step.
class RMSprop final : public Optimizer {
 public:
  RMSprop(const Config& config, int64_t n);
  void update(float* w, const float* g, int64_t n, float lr, int64_t step) override;

 private:
  float rho_, momentum_, epsilon_;
  bool centered_;
};

}  // namespace fitcore

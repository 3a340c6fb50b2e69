#pragma once
#include "fitcore/optimizer.hpp"

namespace fitcore {

// Keras Adam: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
// w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps), v -> max(v_hat, v) with amsgrad.
class Adam final : public Optimizer {
 public:
  Adam(const Config& config, int64_t n);
  void update(float* w, const float* g, int64_t n, float lr, int64_t step) override;

 private:
  float beta_1_, beta_2_, epsilon_;
  bool amsgrad_;
};

}  // namespace fitcore

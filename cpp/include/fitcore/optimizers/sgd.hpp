#pragma once
#include "fitcore/optimizer.hpp"

namespace fitcore {

// Keras SGD: m = momentum * m - lr * g; w += m (nesterov: w += momentum * m - lr * g).
class SGD final : public Optimizer {
 public:
  SGD(const Config& config, int64_t n);
  void update(float* w, const float* g, int64_t n, float lr, int64_t step) override;

 private:
  float momentum_;
  bool nesterov_;
};

}  // namespace fitcore

#pragma once
#include "fitcore/optimizer.hpp"

namespace fitcore {

// Keras Adagrad: a += g^2; w -= lr g / sqrt(a + eps), a starting at initial_accumulator_value.
class Adagrad final : public Optimizer {
 public:
  Adagrad(const Config& config, int64_t n);
  void update(float* w, const float* g, int64_t n, float lr, int64_t step) override;

 private:
  float epsilon_;
};

}  // namespace fitcore

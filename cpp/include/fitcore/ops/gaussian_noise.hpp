#pragma once
#include "fitcore/op.hpp"
#include "fitcore/random.hpp"

namespace fitcore {

// y = x + stddev * N(0, 1), in training only; the noise comes from (pass key, element index).
class GaussianNoise final : public Op {
 public:
  GaussianNoise(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;

 private:
  uint64_t key(const Pass& p) const { return seed_.key(p.key); }

  LayerSeed seed_;
  float stddev_;
};

}  // namespace fitcore

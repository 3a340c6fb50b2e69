#pragma once
#include "fitcore/op.hpp"
#include "fitcore/ops/spatial.hpp"

namespace fitcore {

// Nearest-neighbour upsampling of a channels-last feature map (1-D as height 1): every value
// repeated size_h x size_w times. Backward sums each block of the gradient back onto its source.
class UpSampling final : public Op {
 public:
  UpSampling(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;

 private:
  FeatureMap in_, out_;
  int64_t size_h_, size_w_;
};

}  // namespace fitcore

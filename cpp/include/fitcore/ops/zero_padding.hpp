#pragma once
#include "fitcore/op.hpp"
#include "fitcore/ops/spatial.hpp"

namespace fitcore {

// Zeros around a channels-last feature map (1-D as height 1). Settings: pad_top, pad_left (the
// bottom and right follow from the output shape). Backward takes the interior of the gradient.
class ZeroPadding final : public Op {
 public:
  ZeroPadding(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;

 private:
  FeatureMap in_, out_;
  int64_t pt_, pl_;
};

}  // namespace fitcore

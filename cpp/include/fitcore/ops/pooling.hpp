#pragma once
#include <vector>

#include "fitcore/op.hpp"
#include "fitcore/ops/spatial.hpp"

namespace fitcore {

// Max or average pooling over windows of channels-last feature maps (1-D as height 1). Settings:
// mode ("max" / "average"), pool_h/w, stride_h/w, pad_top/left. Padded positions take no part:
// a max ignores them, an average divides by the window's positions inside the input (as Keras's
// "same" padding). Max backward routes each gradient to the first maximum of its window, kept
// from forward. Tasks own whole samples, so overlapping windows add up in one fixed order.
class Pooling final : public Op {
 public:
  Pooling(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
  void reserve(int64_t rows) override;

 private:
  // Window rows [h0, h1) and columns [w0, w1) of output (oh, ow), clipped to the input.
  void window(int64_t oh, int64_t ow, int64_t& h0, int64_t& h1, int64_t& w0, int64_t& w1) const;

  FeatureMap in_, out_;
  int64_t ph_, pw_, sh_, sw_, pt_, pl_;
  bool max_;
  std::vector<int32_t> argmax_;  // per output value of the last forward: its input's index in the sample
};

}  // namespace fitcore

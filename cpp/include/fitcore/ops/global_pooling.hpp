#pragma once
#include <vector>

#include "fitcore/op.hpp"
#include "fitcore/ops/spatial.hpp"

namespace fitcore {

// Global max or average over every position of a channels-last feature map: (..., channels) ->
// (channels) per sample (keepdims only changes the slot's shape, not its values). Setting: mode
// ("max" / "average"). Max backward routes each gradient to the first maximum, kept from forward.
class GlobalPooling final : public Op {
 public:
  GlobalPooling(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
  void reserve(int64_t rows) override;

 private:
  int64_t positions_, channels_;
  bool max_;
  std::vector<int32_t> argmax_;  // per sample and channel: the position of the maximum
};

}  // namespace fitcore

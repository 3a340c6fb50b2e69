#pragma once
#include "fitcore/op.hpp"

namespace fitcore {

// y = scale * x + offset (Keras's Rescaling; also what x * 2, x + 1, -x lower to).
class Rescaling final : public Op {
 public:
  Rescaling(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
 private:
  float scale_, offset_;
};

}  // namespace fitcore

#pragma once
#include "fitcore/op.hpp"

namespace fitcore {

// y = x0 + x1 + ... (inputs of one shape); every input receives dy.
class Add final : public Op {
 public:
  Add(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
};

}  // namespace fitcore

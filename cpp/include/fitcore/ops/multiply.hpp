#pragma once
#include "fitcore/op.hpp"

namespace fitcore {

// y = x0 * x1 * ... elementwise (inputs of one shape); input i receives dy times the product of the others.
class Multiply final : public Op {
 public:
  Multiply(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
  void reserve(int64_t rows) override;

 private:
  Buffer scratch_;  // one input's gradient
};

}  // namespace fitcore

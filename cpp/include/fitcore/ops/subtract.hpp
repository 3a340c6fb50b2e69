#pragma once
#include "fitcore/op.hpp"

namespace fitcore {

// y = x0 - x1 (inputs of one shape); x0 receives dy, x1 receives -dy.
class Subtract final : public Op {
 public:
  Subtract(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
  void reserve(int64_t rows) override;

 private:
  Buffer scratch_;  // -dy
};

}  // namespace fitcore

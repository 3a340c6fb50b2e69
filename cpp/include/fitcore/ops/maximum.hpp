#pragma once
#include "fitcore/op.hpp"

namespace fitcore {

// y = max(x0, x1, ...) elementwise (inputs of one shape); each element's gradient goes to the
// input that holds the maximum, the first such input on ties (TensorFlow's rule for maximum).
class Maximum final : public Op {
 public:
  Maximum(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
  void reserve(int64_t rows) override;

 private:
  Buffer scratch_;  // one input's gradient
};

}  // namespace fitcore

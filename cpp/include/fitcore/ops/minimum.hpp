#pragma once
#include "fitcore/op.hpp"

namespace fitcore {

// y = min(x0, x1, ...) elementwise; each element's gradient goes to the input holding the
// minimum, the first such input on ties.
class Minimum final : public Op {
 public:
  Minimum(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
  void reserve(int64_t rows) override;

 private:
  Buffer scratch_;  // one input's gradient
};

}  // namespace fitcore

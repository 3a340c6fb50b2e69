#pragma once
#include "fitcore/op.hpp"

namespace fitcore {

// y = (x0 + x1 + ...) / n (inputs of one shape); every input receives dy / n.
class Average final : public Op {
 public:
  Average(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
  void reserve(int64_t rows) override;

 private:
  Buffer scratch_;  // dy / n
};

}  // namespace fitcore

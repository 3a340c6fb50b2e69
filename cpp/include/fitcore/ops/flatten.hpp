#pragma once
#include "fitcore/op.hpp"

namespace fitcore {

// Per-sample values are already row-major and contiguous: flattening is a copy.
class Flatten final : public Op {
 public:
  using Op::Op;
  void forward(Pass& p) override;
  void backward(Pass& p) override;
};

}  // namespace fitcore

#pragma once
#include "fitcore/activations.hpp"
#include "fitcore/op.hpp"

namespace fitcore {

// A standalone activation layer over the last axis.
class ActivationOp final : public Op {
 public:
  ActivationOp(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;

 private:
  Activation activation_;
  int64_t cols_;
};

}  // namespace fitcore

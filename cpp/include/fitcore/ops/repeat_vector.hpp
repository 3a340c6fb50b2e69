#pragma once
#include "fitcore/op.hpp"

namespace fitcore {

// (d,) -> (n, d): the sample's vector n times; backward sums the n copies' gradients.
class RepeatVector final : public Op {
 public:
  RepeatVector(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
 private:
  int64_t n_;
};

}  // namespace fitcore

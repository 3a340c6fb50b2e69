#pragma once
#include "fitcore/op.hpp"

namespace fitcore {

// Joins inputs along one per-sample axis: per sample, `outer` runs of each input's chunk in turn.
class Concatenate final : public Op {
 public:
  Concatenate(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
  void reserve(int64_t rows) override;

 private:
  int64_t outer_;                // runs per sample (product of the dims before the axis)
  std::vector<int64_t> chunk_;   // each input's floats per run
  Buffer scratch_;               // one input's gradient, gathered contiguous
};

}  // namespace fitcore

#pragma once
#include "fitcore/op.hpp"

namespace fitcore {

// Reorders the per-sample axes (Keras's dims, 1-based); backward scatters through the same map.
class Permute final : public Op {
 public:
  Permute(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
  void reserve(int64_t rows) override;

 private:
  std::vector<int64_t> source_;  // per output element: the input element it copies
  Buffer scratch_;               // the input's gradient
};

}  // namespace fitcore

#pragma once
#include "fitcore/op.hpp"

namespace fitcore {

// Looks up rows of the embeddings table (input_dim x output_dim) for integer ids held as floats;
// output (..., output_dim). Python rejects ids outside [0, input_dim) before any step; here an
// out-of-range id defensively reads as zeros and receives no gradient.
class Embedding final : public Op {
 public:
  Embedding(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
  bool differentiable_input(size_t) const override { return false; }

 private:
  int64_t row_of(float id) const {
    return id >= 0.0f && id < static_cast<float>(input_dim_) ? static_cast<int64_t>(id) : -1;
  }

  int64_t input_dim_, output_dim_;
};

}  // namespace fitcore

#pragma once
#include "fitcore/activations.hpp"
#include "fitcore/op.hpp"

namespace fitcore {

// Weights: kernel (in_features x units, row-major as Keras's), then bias (units).
class Dense final : public Op {
 public:
  Dense(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
  void reserve(int64_t rows) override;

 private:
  int64_t units_, in_features_;
  Activation activation_;
  bool use_bias_;
  Buffer preactivation_;  // kept only for activations whose derivative needs z
  Buffer input_transpose_;  // x^T for the weight gradient, where copying it pays (dense.cpp)
};

}  // namespace fitcore

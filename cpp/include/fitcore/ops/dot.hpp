#pragma once
#include "fitcore/op.hpp"

namespace fitcore {

// Keras's Dot: per sample, the first input seen as A (m x k) and the second as B (n x k), each
// with its contraction axis as k (per-sample ranks 1 or 2), gives y = A B^T (m x n): the first
// input's other axis, then the second's. With `normalize`, each length-k fibre is first scaled
// by min(1/||v||, 1/epsilon), as Keras's l2 normalize, so y holds cosine similarities.
class Dot final : public Op {
 public:
  Dot(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
  void reserve(int64_t rows) override;

 private:
  struct Side {
    int64_t free = 1, k = 1;                 // rows and contraction length of the matrix view
    int64_t free_stride = 0, k_stride = 1;   // where element (i, c) sits in the sample
  };
  static Side side(const std::vector<int64_t>& shape, int64_t axis);

  Side a_, b_;
  bool normalize_;
  Buffer an_, bn_;        // the (normalized) matrices, contiguous (free x k), per sample
  Buffer inv_a_, inv_b_;  // per fibre: the scale applied (1 without normalize)
  Buffer gam_, gbm_;      // gradients with respect to those matrices
  Buffer ga_, gb_;        // the inputs' gradients in their own layout
};

}  // namespace fitcore

#pragma once
#include "fitcore/activations.hpp"
#include "fitcore/op.hpp"
#include "fitcore/ops/spatial.hpp"

namespace fitcore {

// Convolution over channels-last feature maps (Conv1D as a height-1 Conv2D): y = f(conv(x, W) + b).
// Weights as Keras orders them: kernel (kh, kw, in / groups, filters), row-major, then bias
// (filters). Settings: kernel_h/w, stride_h/w, dilation_h/w, pad_top/left (the rest of the padding
// follows from the output shape), groups, use_bias, activation.
//
// im2col by tiles: a task gathers a tile of output positions' windows into a per-thread matrix
// (tile x kh*kw*in/groups) and multiplies it by the kernel on the project's GEMM while it is in
// cache. Every output value is one fused multiply-add chain over the window in order, whatever the
// tiling. Backward splits the batch into a fixed number of sample chunks (by batch size only): each
// chunk adds its windows' kernel gradient into its own partial sum (in order, resumed from the
// previous tile), scatters its input gradient (chunks own disjoint samples), and the partials are
// summed in chunk order, so the bits never depend on the thread count.
class Conv final : public Op {
 public:
  Conv(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
  void reserve(int64_t rows) override;

 private:
  int64_t window() const { return kh_ * kw_ * in_group_; }  // GEMM depth per group
  // Rows [q0, q0 + rows) of the im2col matrix of group g (q: output position over the batch).
  void gather(const float* x, int64_t q0, int64_t rows, int64_t g, float* cols) const;
  // Adds the columns matrix back onto the input gradient (the adjoint of gather).
  void scatter(const float* cols, int64_t q0, int64_t rows, int64_t g, float* gx) const;
  // Whether the im2col matrix is the input itself (1x1 kernel, stride 1, no padding, one group).
  bool pointwise() const;
  void reserve_threads(int threads);
  float* thread_scratch(Buffer& b, bool nested) const;
  int64_t chunks(int64_t rows) const;

  FeatureMap in_, out_;
  int64_t kh_, kw_, sh_, sw_, dh_, dw_, pt_, pl_, groups_, in_group_, out_group_;
  Activation activation_;
  bool use_bias_;
  Buffer preactivation_;   // kept only for activations whose derivative needs z
  Buffer cols_, dcols_;    // per-thread im2col tiles
  Buffer partial_;         // per-chunk kernel (and bias) gradients
};

}  // namespace fitcore

#pragma once
#include "fitcore/op.hpp"

namespace fitcore {

// Batch normalization over the last axis (channels); every other axis, batch included, is
// reduced. Weights in Keras's order: gamma (if scale), beta (if center), moving_mean,
// moving_variance. Training: batch statistics (biased variance, as Keras's ops.moments), and the
// moving statistics move by m <- m * momentum + stat * (1 - momentum). Otherwise, and when the
// layer is frozen, the moving statistics normalize.
class BatchNormalization final : public Op {
 public:
  BatchNormalization(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
  void reserve(int64_t rows) override;

 private:
  bool batch_statistics(const Pass& p) const { return p.training && !frozen_; }
  // Per channel c, over the M rows: sum[c] = sum of a(r, c), and with b, sum_b[c] = sum of a(r, c) *
  // b(r, c); with shift instead, only sum_b[c] = sum of (a(r, c) - shift[c])^2. Rows go in fixed
  // blocks whose partial sums are added in block order: parallel, the same bits with any thread count.
  void channel_sums(int64_t M, const float* a, const float* b, const float* shift, std::vector<double>& sum,
                    std::vector<double>* sum_b);

  int64_t channels_;
  float momentum_, epsilon_;
  bool center_, scale_, frozen_;
  size_t gamma_ = 0, beta_ = 0, moving_mean_ = 0, moving_variance_ = 0;  // weight indices
  Buffer xhat_;                  // normalized input of the last training forward
  std::vector<float> inv_std_;   // per channel, of the last forward
  std::vector<double> sum_, sum2_;
  std::vector<double> partial_;  // channel_sums' per-block sums
};

}  // namespace fitcore

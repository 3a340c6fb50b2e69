// Dense: y = f(x W + b) over the last axis; leading axes (batch, timesteps) become rows.
// GEMMs (gemm.hpp) run over blocks of output columns whose width follows the shape only (never the
// thread count), on OpenMP threads when large enough: a block's result never depends on which thread
// computed it, nor on how many there are (and with the FMA kernels not even on the block width).
#include "fitcore/ops/dense.hpp"

#include <algorithm>
#include <stdexcept>

#include "fitcore/gemm.hpp"
#include "fitcore/kernels/vecmath.hpp"
#include "fitcore/parallel.hpp"

namespace fitcore {
namespace {

// Columns per GEMM block: 64 keeps four or more blocks for two threads at the usual widths; past 512
// columns, 128 halves how often each block streams the whole of A (the 6 x 64 AVX-512 tiles and the
// kernel's 128-column packed chunks then meet one block per chunk).
int64_t block_cols(int64_t cols) { return cols > 512 ? 128 : kGemmBlock; }
int64_t block_count(int64_t cols) { return (cols + block_cols(cols) - 1) / block_cols(cols); }

// The weight gradient x^T dz reads x^T in place, one row of x per step of k. Where x's rows lie a
// multiple of 4 KB apart (1024 features), those lines share so few cache sets that the product ran
// at 68 % of the FMA peak against 86 % from a row-major copy (batch 2048, 1024 x 1024, two Zen 3
// threads). The copy is one pass over x, shared by every column block: with 1024 units it paid
// (83 % of the peak, copy included), with 256 it cost 7 % (512, the bound, lies between: not measured),
// and at 512, 784 or 1000 features there was nothing to win. Same bits either way: each element is
// the same FMA chain over the batch in order.
bool copies_input_transpose(int64_t in_features, int64_t units) { return in_features % 1024 == 0 && units >= 512; }
constexpr int64_t kTransposeRows = 64;  // rows of x^T per task

}  // namespace

Dense::Dense(const OpSpec& spec, const GraphSpec& graph)
    : Op(spec, graph),
      units_(graph.last_dim(spec.output)),
      in_features_(graph.last_dim(spec.inputs.at(0))),
      activation_(parse_activation(spec.config.string("activation", "linear"))),
      use_bias_(spec.config.number("use_bias", 1.0) != 0.0) {
  if (params_.size() != (use_bias_ ? 2u : 1u)) throw std::invalid_argument("dense: wrong number of weights");
  if (params_[0].size != in_features_ * units_) throw std::invalid_argument("dense: kernel size mismatch");
  if (use_bias_ && params_[1].size != units_) throw std::invalid_argument("dense: bias size mismatch");
}

void Dense::reserve(int64_t rows) {
  if (activation_needs_input(activation_)) ensure_size(preactivation_, rows * output_width());
  if (copies_input_transpose(in_features_, units_)) ensure_size(input_transpose_, rows * input_width());
}

void Dense::forward(Pass& p) {
  const int64_t rows = p.rows * (input_width() / in_features_);
  const float* x = input(p);
  const float* w = param(p, 0);
  float* y = output_value(p);
  float* z = activation_needs_input(activation_) ? preactivation_.data() : y;
  const int64_t blocks = block_count(units_), width = block_cols(units_);
  parallel_for(blocks, rows * in_features_ * units_ > kGemmGrain, [&](int64_t b) {
    const int64_t c0 = b * width, nc = std::min(width, units_ - c0);
    gemm(rows, nc, in_features_, {x, in_features_, 1}, {w + c0, units_, 1}, z + c0, units_, false);
    if (use_bias_) kernels::vecmath().add_rows(param(p, 1) + c0, 0, z + c0, units_, rows, nc);  // block in cache
  });
  activation_forward(activation_, z, y, rows, units_);
}

void Dense::backward(Pass& p) {
  const int64_t rows = p.rows * (input_width() / in_features_);
  float* gz = output_grad(p);  // becomes dL/dz in place: only this op reads it
  activation_backward(activation_, preactivation_.data(), output_value(p), gz, rows, units_);
  const float* x = input(p);
  const float* w = param(p, 0);
  float* gw = param_grad(p, 0);
  float* gx = input_grad(p);
  const GradMode mode = grad_mode_[0];
  const int64_t w_blocks = block_count(units_), x_blocks = mode == GradMode::skip ? 0 : block_count(in_features_);
  const int64_t w_width = block_cols(units_), x_width = block_cols(in_features_);
  const int64_t work = rows * in_features_ * units_ * (mode == GradMode::skip ? 1 : 2);
  StridedMatrix xt{x, 1, in_features_};  // x^T, m = in_features_ rows of k = rows steps
  if (copies_input_transpose(in_features_, units_)) {
    float* copy = input_transpose_.data();
    parallel_for((in_features_ + kTransposeRows - 1) / kTransposeRows, work > kGemmGrain, [&](int64_t b) {
      const int64_t r0 = b * kTransposeRows, nr = std::min(kTransposeRows, in_features_ - r0);
      transpose(rows, nr, x + r0, in_features_, copy + r0 * rows, rows);
    });
    xt = {copy, rows, 1};
  }
  // The weight and input gradients are independent: one job holds the blocks of both.
  parallel_for(w_blocks + x_blocks, work > kGemmGrain, [&](int64_t b) {
    if (b < w_blocks) {  // dW = x^T dz, dB = column sums of dz
      const int64_t c0 = b * w_width, nc = std::min(w_width, units_ - c0);
      gemm(in_features_, nc, rows, xt, {gz + c0, units_, 1}, gw + c0, units_, false);
      if (use_bias_) {  // dB = column sums of dz, row after row
        float* gb = param_grad(p, 1) + c0;
        std::fill(gb, gb + nc, 0.0f);
        kernels::vecmath().add_rows(gz + c0, units_, gb, 0, rows, nc);
      }
      return;
    }
    // dx = dz W^T over blocks of x's columns (W^T: a strided view, no copy).
    const int64_t c0 = (b - w_blocks) * x_width, nc = std::min(x_width, in_features_ - c0);
    gemm(rows, nc, units_, {gz, units_, 1}, {w + c0 * units_, 1, units_}, gx + c0, in_features_,
         mode == GradMode::accumulate);
  });
}

}  // namespace fitcore

// Conv: channels-last convolution by im2col tiles on the project's GEMM (see conv.hpp).
#include "fitcore/ops/conv.hpp"

#include <omp.h>

#include <algorithm>
#include <stdexcept>

#include "fitcore/gemm.hpp"
#include "fitcore/parallel.hpp"

namespace fitcore {
namespace {

// Output positions per im2col tile: the tile (rows x window floats) stays within ~128 KB.
int64_t tile_rows(int64_t window) { return std::clamp<int64_t>((int64_t{1} << 15) / window, 48, 512) / 6 * 6; }

// Backward splits the batch into at most this many sample chunks, each with its own partial
// kernel gradient: enough tasks to balance the threads, few partials to sum.
constexpr int64_t kMaxChunks = 16;

}  // namespace

Conv::Conv(const OpSpec& spec, const GraphSpec& graph)
    : Op(spec, graph),
      in_(feature_map(graph, spec.inputs.at(0), "conv")),
      out_(feature_map(graph, spec.output, "conv")),
      kh_(config_int(spec.config, "kernel_h", 1, "conv")),
      kw_(config_int(spec.config, "kernel_w", 1, "conv")),
      sh_(config_int(spec.config, "stride_h", 1, "conv")),
      sw_(config_int(spec.config, "stride_w", 1, "conv")),
      dh_(config_int(spec.config, "dilation_h", 1, "conv")),
      dw_(config_int(spec.config, "dilation_w", 1, "conv")),
      pt_(config_int(spec.config, "pad_top", 0, "conv")),
      pl_(config_int(spec.config, "pad_left", 0, "conv")),
      groups_(config_int(spec.config, "groups", 1, "conv")),
      activation_(parse_activation(spec.config.string("activation", "linear"))),
      use_bias_(spec.config.number("use_bias", 1.0) != 0.0) {
  if (in_.channels % groups_ != 0 || out_.channels % groups_ != 0)
    throw std::invalid_argument("conv: channels not divisible by groups");
  in_group_ = in_.channels / groups_;
  out_group_ = out_.channels / groups_;
  if (params_.size() != (use_bias_ ? 2u : 1u)) throw std::invalid_argument("conv: wrong number of weights");
  if (params_[0].size != window() * out_.channels) throw std::invalid_argument("conv: kernel size mismatch");
  if (use_bias_ && params_[1].size != out_.channels) throw std::invalid_argument("conv: bias size mismatch");
}

bool Conv::pointwise() const {
  return kh_ == 1 && kw_ == 1 && sh_ == 1 && sw_ == 1 && pt_ == 0 && pl_ == 0 && groups_ == 1 &&
         in_.height == out_.height && in_.width == out_.width;
}

int64_t Conv::chunks(int64_t rows) const { return std::min(rows, kMaxChunks); }

void Conv::reserve(int64_t rows) {
  if (activation_needs_input(activation_)) ensure_size(preactivation_, rows * output_width());
  ensure_size(partial_, chunks(rows) * (window() + 1) * out_.channels);
  reserve_threads(num_threads());
}

void Conv::reserve_threads(int threads) {
  // One im2col tile per thread; a pass re-checks (no-op unless the thread count has grown since).
  const int64_t per_thread = tile_rows(window()) * window();
  if (!pointwise()) ensure_size(cols_, threads * per_thread);
  ensure_size(dcols_, threads * per_thread);
}

float* Conv::thread_scratch(Buffer& b, bool nested) const {
  // Nested in someone else's parallel region, parallel_for runs every task on the caller: slot 0.
  const int64_t slot = nested ? 0 : omp_get_thread_num();
  return b.data() + slot * tile_rows(window()) * window();
}

void Conv::gather(const float* x, int64_t q0, int64_t rows, int64_t g, float* cols) const {
  const int64_t P = out_.positions(), C = in_.channels, Cg = in_group_, K = window();
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t q = q0 + r, n = q / P, pos = q % P, oh = pos / out_.width, ow = pos % out_.width;
    const float* xn = x + n * in_.size() + g * Cg;
    float* row = cols + r * K;
    for (int64_t i = 0; i < kh_; ++i) {
      const int64_t ih = oh * sh_ - pt_ + i * dh_;
      float* dst = row + i * kw_ * Cg;
      if (ih < 0 || ih >= in_.height) {
        std::fill(dst, dst + kw_ * Cg, 0.0f);
        continue;
      }
      for (int64_t j = 0; j < kw_; ++j, dst += Cg) {
        const int64_t iw = ow * sw_ - pl_ + j * dw_;
        if (iw < 0 || iw >= in_.width)
          std::fill(dst, dst + Cg, 0.0f);
        else
          std::copy(xn + (ih * in_.width + iw) * C, xn + (ih * in_.width + iw) * C + Cg, dst);
      }
    }
  }
}

void Conv::scatter(const float* cols, int64_t q0, int64_t rows, int64_t g, float* gx) const {
  const int64_t P = out_.positions(), C = in_.channels, Cg = in_group_, K = window();
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t q = q0 + r, n = q / P, pos = q % P, oh = pos / out_.width, ow = pos % out_.width;
    float* gn = gx + n * in_.size() + g * Cg;
    const float* row = cols + r * K;
    for (int64_t i = 0; i < kh_; ++i) {
      const int64_t ih = oh * sh_ - pt_ + i * dh_;
      if (ih < 0 || ih >= in_.height) continue;
      const float* src = row + i * kw_ * Cg;
      for (int64_t j = 0; j < kw_; ++j, src += Cg) {
        const int64_t iw = ow * sw_ - pl_ + j * dw_;
        if (iw < 0 || iw >= in_.width) continue;
        float* dst = gn + (ih * in_.width + iw) * C;
#pragma omp simd
        for (int64_t c = 0; c < Cg; ++c) dst[c] += src[c];
      }
    }
  }
}

void Conv::forward(Pass& p) {
  const int64_t F = out_.channels, Fg = out_group_, K = window(), M = p.rows * out_.positions();
  const int64_t tile = tile_rows(K), tiles = (M + tile - 1) / tile;
  const bool direct = pointwise(), nested = omp_in_parallel();
  reserve_threads(nested ? 1 : num_threads());
  const float* x = input(p);
  const float* w = param(p, 0);
  const float* bias = use_bias_ ? param(p, 1) : nullptr;
  float* y = output_value(p);
  float* z = activation_needs_input(activation_) ? preactivation_.data() : y;
  parallel_for(tiles, M * K * F > kGemmGrain, [&](int64_t t) {
    const int64_t q0 = t * tile, rows = std::min(tile, M - q0);
    float* cols = direct ? nullptr : thread_scratch(cols_, nested);
    for (int64_t g = 0; g < groups_; ++g) {
      StridedMatrix a{x + q0 * in_.channels, in_.channels, 1};
      if (!direct) gather(x, q0, rows, g, cols), a = {cols, K, 1};
      gemm(rows, Fg, K, a, {w + g * Fg, F, 1}, z + q0 * F + g * Fg, F, false);
    }
    if (bias) MatrixMap(z + q0 * F, rows, F).rowwise() += ConstRowVectorMap(bias, F);
    activation_forward(activation_, z + q0 * F, y + q0 * F, rows, F);
  });
}

void Conv::backward(Pass& p) {
  const int64_t F = out_.channels, Fg = out_group_, K = window(), P = out_.positions(), M = p.rows * P;
  const int64_t tile = tile_rows(K), kernel = K * F, stride = kernel + F;
  // Chunks of per_chunk samples (the last may be shorter); none is empty.
  const int64_t per_chunk = (p.rows + chunks(p.rows) - 1) / chunks(p.rows);
  const int64_t n_chunks = (p.rows + per_chunk - 1) / per_chunk;
  const bool direct = pointwise(), nested = omp_in_parallel();
  const GradMode mode = grad_mode_[0];
  reserve_threads(nested ? 1 : num_threads());
  float* gz = output_grad(p);  // becomes dL/dz in place: only this op reads it
  activation_backward(activation_, preactivation_.data(), output_value(p), gz, M, F);
  const float* x = input(p);
  const float* w = param(p, 0);
  float* gx = mode == GradMode::skip ? nullptr : input_grad(p);
  const int64_t work = M * K * F * (gx ? 2 : 1);
  parallel_for(n_chunks, work > kGemmGrain, [&](int64_t c) {
    const int64_t n0 = c * per_chunk, n1 = std::min(p.rows, n0 + per_chunk);
    float* pw = partial_.data() + c * stride;
    float* pb = pw + kernel;
    float* cols = direct ? nullptr : thread_scratch(cols_, nested);
    float* dcols = thread_scratch(dcols_, nested);
    if (gx && mode == GradMode::write) std::fill(gx + n0 * in_.size(), gx + n1 * in_.size(), 0.0f);
    for (int64_t q0 = n0 * P; q0 < n1 * P; q0 += tile) {
      const int64_t rows = std::min(tile, n1 * P - q0);
      const bool first = q0 == n0 * P;
      const float* gzt = gz + q0 * F;
      for (int64_t g = 0; g < groups_; ++g) {
        const float* a = x + q0 * in_.channels;
        int64_t lda = in_.channels;
        if (!direct) gather(x, q0, rows, g, cols), a = cols, lda = K;
        // dW (window x filters of this group) += cols^T dz, one chain per element over the chunk.
        gemm(K, Fg, rows, {a, 1, lda}, {gzt + g * Fg, F, 1}, pw + g * Fg, F, !first);
        if (!gx) continue;
        // dcols = dz W^T (W^T: a strided view), then added back onto the windows' inputs.
        if (direct) {
          gemm(rows, K, Fg, {gzt, F, 1}, {w, 1, F}, gx + q0 * in_.channels, in_.channels, true);
        } else {
          gemm(rows, K, Fg, {gzt + g * Fg, F, 1}, {w + g * Fg, 1, F}, dcols, K, false);
          scatter(dcols, q0, rows, g, gx);
        }
      }
      if (use_bias_) {
        if (first) std::fill(pb, pb + F, 0.0f);
        for (int64_t r = 0; r < rows; ++r)
#pragma omp simd
          for (int64_t f = 0; f < F; ++f) pb[f] += gzt[r * F + f];
      }
    }
  });
  // Partials summed in chunk order: the same bits with any thread count.
  float* gw = param_grad(p, 0);
  float* gb = use_bias_ ? param_grad(p, 1) : nullptr;
  const float* partial = partial_.data();
  parallel_chunks(use_bias_ ? stride : kernel, [&](int64_t lo, int64_t hi) {
    for (int64_t e = lo; e < hi; ++e) {
      float s = partial[e];
      for (int64_t c = 1; c < n_chunks; ++c) s += partial[c * stride + e];
      if (e < kernel)
        gw[e] = s;
      else
        gb[e - kernel] = s;
    }
  });
}

}  // namespace fitcore

#include "fitcore/ops/dropout.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "fitcore/kernels/vecmath.hpp"
#include "fitcore/parallel.hpp"
#include "fitcore/random.hpp"

namespace fitcore {

Dropout::Dropout(const OpSpec& spec, const GraphSpec& graph)
    : Op(spec, graph),
      seed_(spec.config),
      rate_(static_cast<float>(spec.config.number("rate"))),
      shared_batch_(spec.config.number("shared_batch", 0.0) != 0.0) {
  if (!(rate_ >= 0.0f && rate_ <= 1.0f)) throw std::invalid_argument("dropout: rate outside [0, 1]");
  const std::vector<int64_t>& shape = graph.slot_shapes.at(static_cast<size_t>(spec.output));
  // noise_shape: per-sample dims, each 1 (broadcast) or the full dim; empty means the full shape.
  std::vector<int64_t> noise;
  std::stringstream text(spec.config.string("noise_shape"));
  for (std::string item; std::getline(text, item, ',');) noise.push_back(std::stoll(item));
  if (noise.empty()) noise = shape;
  if (noise.size() != shape.size()) throw std::invalid_argument("dropout: noise_shape rank mismatch");
  mask_width_ = 1;
  for (size_t a = 0; a < shape.size(); ++a) {
    if (noise[a] != 1 && noise[a] != shape[a]) throw std::invalid_argument("dropout: bad noise_shape");
    mask_width_ *= noise[a];
  }
  // Row-major walk over the sample's elements, tracking the broadcast mask's flat index.
  const int64_t width = output_width();
  mask_index_.resize(static_cast<size_t>(width));
  std::vector<int64_t> coord(shape.size(), 0);
  for (int64_t j = 0; j < width; ++j) {
    int64_t m = 0;
    for (size_t a = 0; a < shape.size(); ++a) m = m * noise[a] + (noise[a] == 1 ? 0 : coord[a]);
    mask_index_[static_cast<size_t>(j)] = m;
    for (size_t a = shape.size(); a-- > 0;) {
      if (++coord[a] < shape[a]) break;
      coord[a] = 0;
    }
  }
  // Without broadcast axes, element j of a sample draws counter (row offset) + j: the vector
  // kernels' contiguous counters.
  contiguous_ = true;
  for (int64_t j = 0; j < width; ++j) contiguous_ = contiguous_ && mask_index_[static_cast<size_t>(j)] == j;
}

void Dropout::reserve(int64_t rows) {
  if (stores_mask() && static_cast<int64_t>(keep_.size()) < rows * output_width())
    keep_.resize(static_cast<size_t>(rows * output_width()));
}

void Dropout::apply_mask(const Pass& p, const float* x, float* y, uint8_t* keep) const {
  const int64_t width = output_width(), n = p.rows * width;
  const float scale = kernels::dropout_scale(rate_);
  if (contiguous_) {
    // One pass: mask drawn and applied together, in fixed chunks (bits independent of threads).
    const kernels::VecMath& k = kernels::vecmath();
    const uint64_t pass_key = key(p);
    const uint32_t threshold = kernels::dropout_threshold(rate_);
    if (shared_batch_) {  // every row draws counters 0..width-1
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
      for (int64_t r = 0; r < p.rows; ++r)
        k.dropout(pass_key, 0, threshold, scale, x + r * width, y + r * width, nullptr, width);
    } else {  // element i of the (whole, data-parallel) batch draws counter i
      const int64_t first = p.shard.first_row * width;
      parallel_compute_chunks(n, [&](int64_t lo, int64_t hi) {
        k.dropout(pass_key, static_cast<uint64_t>(first + lo), threshold, scale, x + lo, y + lo,
                  keep ? keep + lo : nullptr, hi - lo);
      });
    }
    return;
  }
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t r = 0; r < p.rows; ++r)
    for (int64_t j = 0; j < width; ++j) y[r * width + j] = x[r * width + j] * (kept(p, r, j) ? scale : 0.0f);
}

bool Dropout::kept(const Pass& p, int64_t row, int64_t j) const {
  const int64_t batch_row = row + p.shard.first_row;
  const int64_t counter = (shared_batch_ ? 0 : batch_row * mask_width_) + mask_index_[static_cast<size_t>(j)];
  return uniform01(key(p), static_cast<uint64_t>(counter)) >= rate_;
}

void Dropout::forward(Pass& p) {
  const int64_t width = output_width(), n = p.rows * width;
  const float* x = input(p);
  float* y = output_value(p);
  if (!p.training || rate_ == 0.0f) {
    std::copy(x, x + n, y);
    return;
  }
  apply_mask(p, x, y, stores_mask() ? keep_.data() : nullptr);
}

void Dropout::backward(Pass& p) {
  if (grad_mode_[0] == GradMode::skip) return;
  float* gy = output_grad(p);  // only this op reads it: scale in place
  if (rate_ != 0.0f) {
    if (stores_mask()) {  // the forward's mask, as it stored it
      const kernels::VecMath& k = kernels::vecmath();
      const float scale = kernels::dropout_scale(rate_);
      parallel_chunks(p.rows * output_width(), [&](int64_t lo, int64_t hi) {
        k.dropout_backward(keep_.data() + lo, scale, gy + lo, hi - lo);
      });
    } else {
      apply_mask(p, gy, gy, nullptr);  // the forward's mask, drawn again from its counters
    }
  }
  send_grad(p, 0, gy);
}

}  // namespace fitcore

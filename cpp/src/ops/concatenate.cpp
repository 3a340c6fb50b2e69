#include "fitcore/ops/concatenate.hpp"

#include <algorithm>
#include <stdexcept>

namespace fitcore {

Concatenate::Concatenate(const OpSpec& spec, const GraphSpec& graph) : Op(spec, graph) {
  const auto& shape = graph.slot_shapes.at(static_cast<size_t>(spec.output));
  // Keras's axis counts the batch as 0; -1 is the last axis.
  const auto rank = static_cast<int64_t>(shape.size()), keras_axis = static_cast<int64_t>(spec.config.number("axis"));
  const int64_t axis = keras_axis > 0 ? keras_axis - 1 : rank + keras_axis;
  if (axis < 0 || axis >= static_cast<int64_t>(shape.size())) throw std::invalid_argument("concatenate: bad axis");
  outer_ = 1;
  for (int64_t a = 0; a < axis; ++a) outer_ *= shape[static_cast<size_t>(a)];
  int64_t total = 0;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    chunk_.push_back(input_width(i) / outer_);
    total += chunk_.back();
  }
  if (total * outer_ != output_width()) throw std::invalid_argument("concatenate: shapes do not add up");
}

void Concatenate::reserve(int64_t rows) {
  int64_t widest = 0;
  for (size_t i = 0; i < inputs_.size(); ++i) widest = std::max(widest, input_width(i));
  ensure_size(scratch_, rows * widest);
}

void Concatenate::forward(Pass& p) {
  const int64_t runs = p.rows * outer_, out_chunk = output_width() / outer_;
  float* y = output_value(p);
  int64_t at = 0;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const float* x = input(p, i);
    const int64_t c = chunk_[i];
#pragma omp parallel for schedule(static) if (runs * c > kParallelGrain)
    for (int64_t r = 0; r < runs; ++r) std::copy(x + r * c, x + (r + 1) * c, y + r * out_chunk + at);
    at += c;
  }
}

void Concatenate::backward(Pass& p) {
  const int64_t runs = p.rows * outer_, out_chunk = output_width() / outer_;
  const float* gy = output_grad(p);
  int64_t at = 0;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const int64_t c = chunk_[i];
    if (grad_mode_[i] != GradMode::skip) {
      float* g = scratch_.data();
#pragma omp parallel for schedule(static) if (runs * c > kParallelGrain)
      for (int64_t r = 0; r < runs; ++r) std::copy(gy + r * out_chunk + at, gy + r * out_chunk + at + c, g + r * c);
      send_grad(p, i, g);
    }
    at += c;
  }
}

}  // namespace fitcore

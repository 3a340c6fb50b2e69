#include "fitcore/ops/repeat_vector.hpp"

#include <algorithm>
#include <stdexcept>

namespace fitcore {

RepeatVector::RepeatVector(const OpSpec& spec, const GraphSpec& graph)
    : Op(spec, graph), n_(static_cast<int64_t>(spec.config.number("n"))) {
  if (inputs_.size() != 1 || n_ < 1 || input_width() * n_ != output_width())
    throw std::invalid_argument("repeat_vector: output must be n copies of the input");
}

void RepeatVector::forward(Pass& p) {
  const int64_t d = input_width();
  const float* x = input(p);
  float* y = output_value(p);
#pragma omp parallel for schedule(static) if (p.rows * output_width() > kParallelGrain)
  for (int64_t r = 0; r < p.rows; ++r)
    for (int64_t t = 0; t < n_; ++t) std::copy(x + r * d, x + (r + 1) * d, y + (r * n_ + t) * d);
}

void RepeatVector::backward(Pass& p) {
  if (grad_mode_[0] == GradMode::skip) return;
  const int64_t d = input_width();
  float* gy = output_grad(p);
  // Sum the n copies (in order) into the first copy of each row, then compact those rows.
#pragma omp parallel for schedule(static) if (p.rows * output_width() > kParallelGrain)
  for (int64_t r = 0; r < p.rows; ++r) {
    float* first = gy + r * n_ * d;
    for (int64_t t = 1; t < n_; ++t)
      for (int64_t j = 0; j < d; ++j) first[j] += first[t * d + j];
  }
  for (int64_t r = 1; r < p.rows; ++r) std::copy(gy + r * n_ * d, gy + r * n_ * d + d, gy + r * d);
  send_grad(p, 0, gy);
}

}  // namespace fitcore

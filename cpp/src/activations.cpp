#include "fitcore/activations.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "fitcore/buffer.hpp"
#include "fitcore/parallel.hpp"

namespace fitcore {
namespace {

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// Applies f elementwise over n values, in parallel for long runs.
template <class F>
void elementwise(int64_t n, F f) {
  parallel_chunks(n, [&](int64_t lo, int64_t hi) {
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) f(i);
  });
}

void softmax_rows(const float* z, float* y, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const float* zr = z + r * cols;
    float* yr = y + r * cols;
    const float m = *std::max_element(zr, zr + cols);
    float sum = 0.0f;
    for (int64_t c = 0; c < cols; ++c) sum += (yr[c] = std::exp(zr[c] - m));
    const float inv = 1.0f / sum;
    for (int64_t c = 0; c < cols; ++c) yr[c] *= inv;
  }
}

}  // namespace

Activation parse_activation(const std::string& name) {
  static const std::pair<const char*, Activation> kNames[] = {
      {"linear", Activation::linear}, {"relu", Activation::relu}, {"sigmoid", Activation::sigmoid},
      {"tanh", Activation::tanh},     {"softmax", Activation::softmax}, {"gelu", Activation::gelu},
      {"elu", Activation::elu},       {"silu", Activation::silu},   {"softplus", Activation::softplus}};
  for (const auto& [n, a] : kNames)
    if (name == n) return a;
  throw std::invalid_argument("unknown activation '" + name + "'");
}

bool activation_needs_input(Activation a) {
  return a == Activation::gelu || a == Activation::silu || a == Activation::softplus;
}

void activation_forward(Activation a, const float* z, float* y, int64_t rows, int64_t cols) {
  const int64_t n = rows * cols;
  switch (a) {
    case Activation::linear:
      if (y != z) std::copy(z, z + n, y);
      return;
    case Activation::relu:
      return elementwise(n, [=](int64_t i) { y[i] = std::max(z[i], 0.0f); });
    case Activation::sigmoid:
      return elementwise(n, [=](int64_t i) { y[i] = sigmoid(z[i]); });
    case Activation::tanh:
      return elementwise(n, [=](int64_t i) { y[i] = std::tanh(z[i]); });
    case Activation::softmax:
      return softmax_rows(z, y, rows, cols);
    case Activation::gelu:  // Keras's default, the exact erf form
      return elementwise(n, [=](int64_t i) { y[i] = 0.5f * z[i] * (1.0f + std::erf(z[i] * kInvSqrt2)); });
    case Activation::elu:
      return elementwise(n, [=](int64_t i) { y[i] = z[i] > 0.0f ? z[i] : std::expm1(z[i]); });
    case Activation::silu:
      return elementwise(n, [=](int64_t i) { y[i] = z[i] * sigmoid(z[i]); });
    case Activation::softplus:
      return elementwise(n, [=](int64_t i) {
        y[i] = std::max(z[i], 0.0f) + std::log1p(std::exp(-std::fabs(z[i])));
      });
  }
}

void activation_backward(Activation a, const float* z, const float* y, float* g, int64_t rows, int64_t cols) {
  const int64_t n = rows * cols;
  switch (a) {
    case Activation::linear:
      return;
    case Activation::relu:
      return elementwise(n, [=](int64_t i) { g[i] = y[i] > 0.0f ? g[i] : 0.0f; });
    case Activation::sigmoid:
      return elementwise(n, [=](int64_t i) { g[i] *= y[i] * (1.0f - y[i]); });
    case Activation::tanh:
      return elementwise(n, [=](int64_t i) { g[i] *= 1.0f - y[i] * y[i]; });
    case Activation::softmax:
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
      for (int64_t r = 0; r < rows; ++r) {
        const float* yr = y + r * cols;
        float* gr = g + r * cols;
        float dot = 0.0f;
        for (int64_t c = 0; c < cols; ++c) dot += gr[c] * yr[c];
        for (int64_t c = 0; c < cols; ++c) gr[c] = yr[c] * (gr[c] - dot);
      }
      return;
    case Activation::gelu:
      return elementwise(n, [=](int64_t i) {
        const float x = z[i];
        g[i] *= 0.5f * (1.0f + std::erf(x * kInvSqrt2)) + x * kInvSqrt2Pi * std::exp(-0.5f * x * x);
      });
    case Activation::elu:  // f'(z) = exp(z) = y + 1 where z <= 0
      return elementwise(n, [=](int64_t i) { g[i] *= y[i] > 0.0f ? 1.0f : y[i] + 1.0f; });
    case Activation::silu:
      return elementwise(n, [=](int64_t i) {
        const float s = sigmoid(z[i]);
        g[i] *= s * (1.0f + z[i] * (1.0f - s));
      });
    case Activation::softplus:
      return elementwise(n, [=](int64_t i) { g[i] *= sigmoid(z[i]); });
  }
}

}  // namespace fitcore

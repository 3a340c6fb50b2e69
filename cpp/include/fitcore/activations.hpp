#pragma once
// Elementwise activations, forward and backward side by side.
#include <cstdint>
#include <string>

namespace fitcore {

enum class Activation { linear, relu, sigmoid, tanh, softmax, gelu, elu, silu, softplus };

Activation parse_activation(const std::string& name);

// Whether backward needs the pre-activation z (otherwise the output y suffices).
bool activation_needs_input(Activation a);

// y = f(z) over a rows x cols block; softmax runs along each row. z and y may alias.
void activation_forward(Activation a, const float* z, float* y, int64_t rows, int64_t cols);

// grad <- grad * f'(z), in place, with y = f(z) (softmax uses the row Jacobian).
void activation_backward(Activation a, const float* z, const float* y, float* grad, int64_t rows,
                         int64_t cols);

}  // namespace fitcore

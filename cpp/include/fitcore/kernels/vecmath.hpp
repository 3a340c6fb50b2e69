#pragma once
// Vectorised elementwise math (activations, softmax rows, dropout masks, GaussianNoise, optimizer
// sweeps and gradient clipping), one table of kernels per instruction-set level. Each level's
// kernels are compiled in their own file (vecmath_baseline.cpp, vecmath_avx2.cpp,
// vecmath_avx512.cpp) from one generic source over Eigen's packet math (pexp, plog, plog1p, pexpm1,
// ptanh, erf: vetted implementations, not polynomials of ours; Eigen 3.4 has no double cos, so
// GaussianNoise's uses fdlibm's kernel polynomials, checked over its whole input grid), and
// vecmath() hands out the table of kernels::active_isa(). Kernels are single-threaded and work on
// any range: callers split the work into fixed chunks (parallel_chunks), so the bits never depend
// on the thread count. Between levels, results may differ in the last bits (lane counts and fused
// multiply-adds differ), except dropout masks (integer hashing), GaussianNoise's draws (log and cos
// in double, rounded once to float) and sum_of_squares (exact products): the same bits at every
// level.
#include <cstdint>

#include "fitcore/activations.hpp"
#include "fitcore/kernels/isa.hpp"

namespace fitcore::kernels {

struct VecMath {
  // y = f(z) over n values; z and y may alias. Not softmax (see softmax_row).
  void (*activation_forward)(Activation a, const float* z, float* y, int64_t n);
  // g *= f'(z), with y = f(z) (the backward reads whichever activation_needs_input says).
  void (*activation_backward)(Activation a, const float* z, const float* y, float* g, int64_t n);
  // y = softmax(z) over one row of n values; z and y may alias.
  void (*softmax_row)(const float* z, float* y, int64_t n);
  // log(sum(exp(z))) over one row of n values, computed as max + log(sum(exp(z - max))).
  float (*log_sum_exp)(const float* z, int64_t n);
  // y = exp(z - shift) over n values.
  void (*exp_shifted)(const float* z, float shift, float* y, int64_t n);
  // Inverted dropout: y[i] = x[i] * scale where the hash of (key, counter + i) keeps it, else 0.
  // Kept means (random_bits(key, counter + i) >> 40) >= threshold, the integer form of
  // uniform01(key, counter + i) >= rate (random.hpp). x and y may alias. Where `keep` is not null,
  // keep[i] = 1 where kept, else 0: the mask for dropout_backward, so the backward pass does not
  // hash again (the hash is most of the cost: ~1.5 ns a value with AVX2).
  void (*dropout)(uint64_t key, uint64_t counter, uint32_t threshold, float scale, const float* x, float* y,
                  uint8_t* keep, int64_t n);
  // g[i] *= scale where keep[i], else g[i] *= 0: the same bits as dropout over g with the same mask.
  void (*dropout_backward)(const uint8_t* keep, float scale, float* g, int64_t n);
  // Keras's Adam step (m, v updated in place; w -= m * alpha / (sqrt(v) + eps)).
  void (*adam)(float* w, const float* g, float* m, float* v, int64_t n, float alpha, float a1, float a2, float eps);
  // SGD with momentum (m = mu m - lr g; w += m, or w += mu m - lr g with nesterov).
  void (*sgd_momentum)(float* w, const float* g, float* m, int64_t n, float lr, float mu, bool nesterov);
  // Keras's RMSprop step over n values (v = rho v + (1 - rho) g^2; centered: a = rho a + (1 - rho) g,
  // denominator v - a^2; increment lr g / sqrt(denominator + eps); momentum: m = mu m + increment,
  // w -= m; else w -= increment). a (centered) and m (momentum) are null when unused.
  void (*rmsprop)(float* w, const float* g, float* v, float* a, float* m, int64_t n, float lr, float rho, float mu,
                  float eps);
  // Keras's Adagrad step (a += g^2; w -= lr g / sqrt(a + eps)).
  void (*adagrad)(float* w, const float* g, float* a, int64_t n, float lr, float eps);
  // Gradient clipping's sweeps: g = g * c / d (clipnorm's per-variable form, in that order), and
  // g = min(max(g, -v), v) (clipvalue; NaN stays NaN).
  void (*scale_ratio)(float* g, int64_t n, float c, float d);
  void (*clip_value)(float* g, int64_t n, float v);
  // Row r of y += row r of x, over `rows` rows of n values (strides in floats; a stride of 0 repeats
  // one row): a Dense layer's bias added to each row of its output, its bias gradient summed over
  // the rows (in row order). One rounded add per element: the same bits at every level.
  void (*add_rows)(const float* x, int64_t x_stride, float* y, int64_t y_stride, int64_t rows, int64_t n);
  // Sum of g^2 in double over 16 lanes (lane k takes the values at k mod 16, the tail after the last
  // whole 16 goes to lane 0, the lanes then summed in order): the products are exact in double, so
  // every level gives the same bits.
  double (*sum_of_squares)(const float* g, int64_t n);
  // GaussianNoise: y[i] = x[i] + stddev * standard_normal(key, counter + i), bit for bit the scalar
  // generator of random.hpp (log and cos in double, each rounded once to float). x and y may alias.
  void (*gaussian_noise)(uint64_t key, uint64_t counter, float stddev, const float* x, float* y, int64_t n);
  // The Box-Muller step alone, z = sqrt(-2 log u1) cos(2 pi u2), for u1, u2 on the generator's grid
  // (u1 = 1 - k 2^-24, u2 = k 2^-24, k in [0, 2^24)): the test hook that sweeps the whole grid.
  void (*box_muller)(const float* u1, const float* u2, float* z, int64_t n);
  // The peak probe: `iterations` rounds of 12 independent packet multiply-add chains; returns a
  // sum of the chains so the work cannot be optimised away.
  float (*fma_loop)(int64_t iterations);
  int lanes;  // floats per packet at this level
};

// The kernels of the active level (kernels::active_isa()), or of a given supported level.
const VecMath& vecmath();
const VecMath& vecmath(Isa isa);

// dropout's keep threshold for a rate in [0, 1]: ceil(rate * 2^24), so that an integer draw k in
// [0, 2^24) is kept exactly when k * 2^-24 >= rate.
uint32_t dropout_threshold(float rate);
// Inverted dropout's factor for kept values: 1 / (1 - rate), and 0 at rate 1 (nothing is kept).
// Throws std::invalid_argument for a rate outside [0, 1].
float dropout_scale(float rate);

// The machine's multiply-add peak at a level: GFLOP/s of fma_loop on `threads` threads (each its own
// chains) over about `seconds`, each thread's best run over its own CPU time, summed over threads
// (so other processes on a shared machine do not lower it). The denominator of bench/peers.py's
// "fraction of peak".
double fma_peak_gflops(Isa isa, int threads, double seconds);

}  // namespace fitcore::kernels

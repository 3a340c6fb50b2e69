#pragma once
// The vector-math kernels, generic over an Eigen packet type. Included by exactly one file per
// instruction-set level (vecmath_baseline.cpp: Packet4f, vecmath_avx2.cpp: Packet8f,
// vecmath_avx512.cpp: Packet16f), each compiled with that level's flags.
//
// Linker hazard this file is written against: Eigen's packet functions are templates with external
// linkage. An out-of-line copy of, say, pexp<Packet8f> compiled with AVX-512 flags could be the one
// the linker keeps for the AVX2 file's callers, and an AVX2-only CPU would then fault. So:
// - everything here has internal linkage (anonymous namespace): each level gets its own copy;
// - each level instantiates Eigen only on its own packet type (no level shares one with another);
// - every entry point is flattened, so the Eigen templates it calls are inlined into it and no
//   out-of-line copy is emitted at all. tools/check-isa checks the built objects for it.
// Eigen's packet types are vector typedefs: naming them as template arguments drops attributes
// GCC warns about, harmlessly.
#pragma GCC diagnostic ignored "-Wignored-attributes"
// GCC 12 flags the intrinsics headers' deliberately undefined registers (_mm512_undefined_ps).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Core>
#if defined(__x86_64__)
#include <immintrin.h>  // the packets' own sqrtps (sqrt_exact_p)
#endif
#include <unsupported/Eigen/SpecialFunctions>

#include <cstdint>
#include <cstring>
#include <utility>
#include <type_traits>

#include "fitcore/kernels/vecmath.hpp"

#define FITCORE_VECMATH_ENTRY __attribute__((flatten)) static

namespace fitcore::kernels {
namespace {

namespace ei = Eigen::internal;

// GCC vector types of N lanes (vector_size takes no template-dependent size, hence one per N).
template <int N>
struct LaneVectors;
#define FITCORE_LANE_VECTORS(n)                                    \
  template <>                                                      \
  struct LaneVectors<n> {                                          \
    typedef uint64_t U64 __attribute__((vector_size(8 * n)));      \
    typedef int32_t I32 __attribute__((vector_size(4 * n)));       \
    typedef float F32 __attribute__((vector_size(4 * n)));         \
    typedef double F64 __attribute__((vector_size(8 * n)));        \
    typedef uint8_t U8 __attribute__((vector_size(n)));            \
    typedef uint8_t I32Bytes __attribute__((vector_size(4 * n)));  \
    typedef uint64_t Words __attribute__((vector_size(4 * n)));    \
  };
FITCORE_LANE_VECTORS(2)
FITCORE_LANE_VECTORS(4)
FITCORE_LANE_VECTORS(8)
FITCORE_LANE_VECTORS(16)
#undef FITCORE_LANE_VECTORS

// The double packet with half the lanes of an N-float packet. Not Eigen's widest double packet: a
// native build (-march=native on an AVX machine) compiles the 4-float baseline with 4-double packets.
template <int N>
struct HalfWidthDouble {
  using type = typename Eigen::internal::packet_traits<double>::type;
};
#if defined(EIGEN_VECTORIZE_SSE2) || (defined(EIGEN_VECTORIZE_NEON) && EIGEN_ARCH_ARM64)
template <>
struct HalfWidthDouble<4> {
  using type = Eigen::internal::Packet2d;
};
#endif
#ifdef EIGEN_VECTORIZE_AVX
template <>
struct HalfWidthDouble<8> {
  using type = Eigen::internal::Packet4d;
};
#endif
#ifdef EIGEN_VECTORIZE_AVX512
template <>
struct HalfWidthDouble<16> {
  using type = Eigen::internal::Packet8d;
};
#endif

template <class P>
struct Kernels {
  static constexpr int64_t N = ei::unpacket_traits<P>::size;

  static inline P set(float v) { return ei::pset1<P>(v); }

  // Where x is NaN, x; else r (the polynomial approximations do not all carry NaN through).
  static inline P keep_nan(const P& x, const P& r) { return ei::pselect(ei::pcmp_eq(x, x), r, x); }

  // exp over the whole float range: Eigen's generic pexp_float (its 2^m step goes down into the
  // denormals, where the AVX-512 specialisation flushes below 2^-126). Below its clamp at -88.72,
  // exp(x) = exp(x + 16) e^-16: for x in [-128, -64], x + 16 is exact (same binade), so results
  // reach the smallest denormals instead of stopping at the clamp.
  static inline P exp(const P& x) {
    const P low = ei::pcmp_lt(x, set(-80.0f));
    const P e = ei::pexp_float(ei::pselect(low, ei::padd(x, set(16.0f)), x));
    return ei::pselect(low, ei::pmul(e, set(1.12535175e-07f)), e);
  }

  // exp(-|z|), then the logistic function of z from it: exact-in-form on both sides, so a very
  // negative z gives exp(z) / (1 + exp(z)) rather than 1 / (1 + overflow).
  static inline P sigmoid(const P& z) {
    const P e = exp(ei::pnegate(ei::pabs(z)));
    const P s = ei::pdiv(set(1.0f), ei::padd(set(1.0f), e));
    return keep_nan(z, ei::pselect(ei::pcmp_lt(z, set(0.0f)), ei::pmul(e, s), s));
  }

  static inline P erf(const P& x) { return ei::generic_fast_erf_float(x); }

  // Horner over coefficients from the highest degree down (Cephes's polevl).
  template <size_t K>
  static inline P polynomial(const P& y, const float (&c)[K]) {
    P p = set(c[0]);
    for (size_t k = 1; k < K; ++k) p = ei::pmadd(p, y, set(c[k]));
    return p;
  }

  // exp(-x^2 / 2), with x^2 taken as the exact sum hi + lo (Dekker's product, no FMA needed):
  // rounding x^2 first would cost up to ~80 ulp at |x| = 13.
  static inline P gauss(const P& x) {
    const P a = ei::pabs(x);
    const P hi = ei::pmul(a, a);
    const P ah = ei::pand(a, ei::pset1frombits<P>(0xFFFFF000u)), al = ei::psub(a, ah);
    const P cross = ei::pmul(ei::pmul(set(2.0f), ah), al);
    const P lo = ei::padd(ei::padd(ei::psub(ei::pmul(ah, ah), hi), cross), ei::pmul(al, al));
    const P g = ei::pmul(exp(ei::pmul(set(-0.5f), hi)), ei::psub(set(1.0f), ei::pmul(set(0.5f), lo)));
    return ei::pselect(ei::pcmp_lt(hi, set(256.0f)), g, set(0.0f));  // underflowed (lo may be NaN)
  }

  // The standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2; gauss_x() gives gauss(x). For
  // x >= -sqrt 2, (1 + erf(x / sqrt 2)) / 2 with Eigen's erf; below, erfc(t) = exp(-t^2) q P(q^2),
  // q = 1/t, t = -x / sqrt 2, with Cephes's erfcf coefficients (XLA's ErfcImpl32, what JAX's exact
  // gelu runs), so the tail keeps its relative accuracy instead of cancelling in 1 + erf. A packet
  // with no lane in the tail (about half of them at N(0, 1) pre-activations) skips the tail's
  // division and polynomials, and gauss_x: each lane's value is the same either way.
  template <class Gauss>
  static inline P normal_cdf(const P& x, Gauss gauss_x) {
    const P near = ei::pmul(set(0.5f), ei::padd(set(1.0f), erf(ei::pmul(x, set(0.70710678118654752f)))));
    const P in_tail = ei::pcmp_lt(x, set(-1.41421356237309505f));
    if (!ei::predux_any(in_tail)) return near;
    static const float kErfcP[] = {+2.326819970068386E-2f, -1.387039388740657E-1f, +3.687424674597105E-1f,
                                   -5.824733027278666E-1f, +6.210004621745983E-1f, -4.944515323274145E-1f,
                                   +3.404879937665872E-1f, -2.741127028184656E-1f, +5.638259427386472E-1f};
    static const float kErfcR[] = {-1.047766399936249E+1f, +1.297719955372516E+1f, -7.495518717768503E+0f,
                                   +2.921019019210786E+0f, -1.015265279202700E+0f, +4.218463358204948E-1f,
                                   -2.820767439740514E-1f, +5.641895067754075E-1f};
    const P a = ei::pabs(x);
    const P q = ei::pdiv(set(1.41421356237309505f), a);  // 1 / t
    const P q2 = ei::pmul(q, q);
    const P p = ei::pselect(ei::pcmp_lt(a, set(2.0f * 1.41421356237309505f)), polynomial(q2, kErfcP),
                            polynomial(q2, kErfcR));
    const P tail = ei::pmul(set(0.5f), ei::pmul(ei::pmul(gauss_x(), q), p));
    return ei::pselect(in_tail, tail, near);
  }

  static inline P forward(Activation a, const P& z) {
    switch (a) {
      case Activation::relu:
        return ei::pmax(z, set(0.0f));  // pmax(NaN, 0) is NaN, as std::max(z, 0.0f)
      case Activation::sigmoid:
        return sigmoid(z);
      case Activation::tanh:
        return keep_nan(z, ei::ptanh(z));
      case Activation::gelu:  // Keras's default, the exact erf form
        return ei::pmul(z, normal_cdf(z, [&z] { return gauss(z); }));
      case Activation::elu:
        return keep_nan(z, ei::pselect(ei::pcmp_lt(set(0.0f), z), z, ei::pexpm1(z)));
      case Activation::silu:
        return ei::pmul(z, sigmoid(z));
      case Activation::softplus: {
        const P tail = ei::plog1p(exp(ei::pnegate(ei::pabs(z))));
        return keep_nan(z, ei::padd(ei::pmax(z, set(0.0f)), tail));
      }
      default:  // linear (softmax runs by rows)
        return z;
    }
  }

  static inline P derivative(Activation a, const P& z, const P& y) {
    switch (a) {
      case Activation::sigmoid:
        return ei::pmul(y, ei::psub(set(1.0f), y));
      case Activation::tanh:
        return ei::psub(set(1.0f), ei::pmul(y, y));
      case Activation::gelu: {
        const P g = gauss(z);
        return ei::pmadd(z, ei::pmul(set(0.39894228040143268f), g), normal_cdf(z, [&g] { return g; }));
      }
      case Activation::elu:  // f'(z) = exp(z) = y + 1 where z <= 0
        return ei::pselect(ei::pcmp_lt(set(0.0f), y), set(1.0f), ei::padd(y, set(1.0f)));
      case Activation::silu: {
        const P s = sigmoid(z);
        return ei::pmul(s, ei::pmadd(z, ei::psub(set(1.0f), s), set(1.0f)));
      }
      case Activation::softplus:
        return sigmoid(z);
      default:
        return set(1.0f);
    }
  }

  // out[i] = f(packets of in...[i]) over n values; the tail goes through one zero-padded packet on
  // the stack, so every value takes the same packet code wherever it sits.
  template <class F, class... In>
  static inline void map(float* out, int64_t n, F f, const In*... in) {
    int64_t i = 0;
    for (; i + N <= n; i += N) ei::pstoreu(out + i, f(ei::ploadu<P>(in + i)...));
    if (i == n) return;
    const auto rest = static_cast<size_t>(n - i);
    auto padded = [&](const float* p) {
      alignas(64) float b[N] = {};
      std::memcpy(b, p + i, rest * sizeof(float));
      return ei::pload<P>(b);
    };
    alignas(64) float o[N];
    ei::pstore(o, f(padded(in)...));
    std::memcpy(out + i, o, rest * sizeof(float));
  }

  FITCORE_VECMATH_ENTRY void activation_forward(Activation a, const float* z, float* y, int64_t n) {
    switch (a) {  // one loop per activation, the switch out of it
#define FITCORE_CASE(A) \
  case Activation::A:   \
    return map(y, n, [](const P& v) { return forward(Activation::A, v); }, z);
      FITCORE_CASE(relu)
      FITCORE_CASE(sigmoid)
      FITCORE_CASE(tanh)
      FITCORE_CASE(gelu)
      FITCORE_CASE(elu)
      FITCORE_CASE(silu)
      FITCORE_CASE(softplus)
#undef FITCORE_CASE
      default:
        if (y != z) std::memmove(y, z, static_cast<size_t>(n) * sizeof(float));
    }
  }

  FITCORE_VECMATH_ENTRY void activation_backward(Activation a, const float* z, const float* y, float* g, int64_t n) {
    switch (a) {
      case Activation::relu:  // passes where y > 0 (NaN and negatives stop)
        return map(g, n, [](const P& gv, const P& yv) { return ei::pand(gv, ei::pcmp_lt(set(0.0f), yv)); }, g, y);
      case Activation::sigmoid:
      case Activation::tanh:
      case Activation::elu:  // from y alone
#define FITCORE_CASE(A) \
  if (a == Activation::A) \
    return map(g, n, [](const P& gv, const P& yv) { return ei::pmul(gv, derivative(Activation::A, yv, yv)); }, g, y);
        FITCORE_CASE(sigmoid)
        FITCORE_CASE(tanh)
        FITCORE_CASE(elu)
#undef FITCORE_CASE
        return;
      case Activation::gelu:
      case Activation::silu:
      case Activation::softplus:  // from z
#define FITCORE_CASE(A) \
  if (a == Activation::A) \
    return map(g, n, [](const P& gv, const P& zv) { return ei::pmul(gv, derivative(Activation::A, zv, zv)); }, g, z);
        FITCORE_CASE(gelu)
        FITCORE_CASE(silu)
        FITCORE_CASE(softplus)
#undef FITCORE_CASE
        return;
      default:
        return;
    }
  }

  static inline float row_max(const float* z, int64_t n) {
    int64_t i = 0;
    float m = -__builtin_inff();
    if (n >= N) {
      P v = ei::ploadu<P>(z);
      for (i = N; i + N <= n; i += N) v = ei::pmax(v, ei::ploadu<P>(z + i));
      m = ei::predux_max(v);
    }
    for (; i < n; ++i) m = z[i] > m ? z[i] : m;
    return m;
  }

  // Sum of exp(z - shift) over n values, each also written to y when y is given.
  static inline float exp_sum(const float* z, float shift, float* y, int64_t n) {
    const P s = set(shift);
    P acc = set(0.0f);
    int64_t i = 0;
    for (; i + N <= n; i += N) {
      const P e = exp(ei::psub(ei::ploadu<P>(z + i), s));
      if (y) ei::pstoreu(y + i, e);
      acc = ei::padd(acc, e);
    }
    float sum = ei::predux(acc);
    if (i < n) {
      alignas(64) float b[N] = {};
      std::memcpy(b, z + i, static_cast<size_t>(n - i) * sizeof(float));
      ei::pstore(b, exp(ei::psub(ei::pload<P>(b), s)));
      for (int64_t k = 0; k < n - i; ++k) sum += b[k];
      if (y) std::memcpy(y + i, b, static_cast<size_t>(n - i) * sizeof(float));
    }
    return sum;
  }

  FITCORE_VECMATH_ENTRY void softmax_row(const float* z, float* y, int64_t n) {
    const float m = row_max(z, n);
    const float inv = 1.0f / exp_sum(z, m, y, n);
    map(y, n, [inv](const P& v) { return ei::pmul(v, set(inv)); }, y);
  }

  FITCORE_VECMATH_ENTRY float log_sum_exp(const float* z, int64_t n) {
    const float m = row_max(z, n);
    return m + __builtin_logf(exp_sum(z, m, nullptr, n));
  }

  FITCORE_VECMATH_ENTRY void exp_shifted(const float* z, float shift, float* y, int64_t n) {
    map(y, n, [shift](const P& v) { return exp(ei::psub(v, set(shift))); }, z);
  }

  // Dropout on GCC vector extensions (integer hashing needs 64-bit lanes; the compiler lowers the
  // multiplies to each level's instructions). Same arithmetic as random.hpp's mix64 / random_bits.
  using U64 = typename LaneVectors<N>::U64;
  using I32 = typename LaneVectors<N>::I32;
  using Words = typename LaneVectors<N>::Words;
  using F32 = typename LaneVectors<N>::F32;

  static inline U64 mix(U64 x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
  }

  using U8 = typename LaneVectors<N>::U8;
  using I32Bytes = typename LaneVectors<N>::I32Bytes;

  // Lane k's lowest byte, and back (zero-extended): byte shuffles, where __builtin_convertvector
  // between 32- and 8-bit lanes went lane by lane through general registers.
  template <size_t... K>
  static inline U8 low_bytes(const I32& v, std::index_sequence<K...>) {
    const I32Bytes b = (I32Bytes)v;
    return __builtin_shufflevector(b, b, (4 * K)...);
  }
  // bytes[0, count) zero-extended to lanes, loaded as 64-bit words into a register first. Copied into
  // a zeroed vector instead, they went through the stack and the reload waited on both stores (half
  // of dropout_backward's samples).
  template <size_t... W, size_t... K>
  static inline I32 widen_bytes(const uint8_t* bytes, size_t count, std::index_sequence<W...>,
                                std::index_sequence<K...>) {
    uint64_t words[sizeof...(W)] = {};
    std::memcpy(words, bytes, count);
    const I32Bytes b = (I32Bytes)Words{words[W]...};
    return (I32)__builtin_shufflevector(b, I32Bytes{}, (K % 4 == 0 ? K / 4 : 4 * N)...);
  }

  // All ones in the lanes the counters' hashes keep, else zero.
  static inline I32 keep_lanes(uint64_t key, const U64& counter, uint32_t threshold) {
    // 24 bits: narrowed to 32-bit lanes before comparing (an unsigned 64-bit compare has no vector
    // instruction below AVX-512, and GCC scalarised even that one).
    const I32 bits = __builtin_convertvector(mix(mix(counter) ^ key) >> 40, I32);
    return bits >= (I32{} + static_cast<int32_t>(threshold));
  }

  // x * scale in the kept lanes, x * +0 elsewhere (a NaN stays NaN, as in the scalar path).
  static inline F32 scale_kept(const I32& kept, float scale, F32 x) {
    return x * (F32)(kept & (I32)(F32{} + scale));
  }

  FITCORE_VECMATH_ENTRY void dropout(uint64_t key, uint64_t first, uint32_t threshold, float scale, const float* x,
                                     float* y, uint8_t* keep, int64_t n) {
    // Lane k's counter at i is first + k + i, from lanes built once: a counter stepped in the loop
    // lived on the stack, and its reload waited on the previous iteration's store (42 % of the
    // kernel's samples in perf).
    U64 lanes;
    for (int64_t k = 0; k < N; ++k) lanes[k] = first + static_cast<uint64_t>(k);
    // count values from i; the tail runs on a zero-padded copy through the same packet code.
    const auto step = [&](int64_t i, size_t count) {
      F32 v{};
      std::memcpy(&v, x + i, count * sizeof(float));
      const I32 kept = keep_lanes(key, lanes + static_cast<uint64_t>(i), threshold);
      v = scale_kept(kept, scale, v);
      std::memcpy(y + i, &v, count * sizeof(float));
      if (keep) {
        const U8 bytes = low_bytes(kept & 1, std::make_index_sequence<N>{});
        std::memcpy(keep + i, &bytes, count);
      }
    };
    int64_t i = 0;
    for (; i + N <= n; i += N) step(i, N);
    if (i < n) step(i, static_cast<size_t>(n - i));
  }

  FITCORE_VECMATH_ENTRY void dropout_backward(const uint8_t* keep, float scale, float* g, int64_t n) {
    const auto step = [&](int64_t i, size_t count) {
      F32 v{};
      std::memcpy(&v, g + i, count * sizeof(float));
      const I32 kept = widen_bytes(keep + i, count, std::make_index_sequence<N / 2>{}, std::make_index_sequence<4 * N>{});
      v = scale_kept(-kept, scale, v);  // 1 -> all ones
      std::memcpy(g + i, &v, count * sizeof(float));
    };
    int64_t i = 0;
    for (; i + N <= n; i += N) step(i, N);
    if (i < n) step(i, static_cast<size_t>(n - i));
  }

  // Runs step(w, g, m, v) on packets at i over n values; the tail on zero-padded stack copies.
  template <class Step>
  static inline void sweep(float* w, const float* g, float* m, float* v, int64_t n, Step step) {
    int64_t i = 0;
    for (; i + N <= n; i += N) step(w + i, g + i, m + i, v ? v + i : nullptr);
    if (i == n) return;
    const size_t bytes = static_cast<size_t>(n - i) * sizeof(float);
    alignas(64) float bw[N] = {}, bg[N] = {}, bm[N] = {}, bv[N] = {};
    std::memcpy(bw, w + i, bytes);
    std::memcpy(bg, g + i, bytes);
    std::memcpy(bm, m + i, bytes);
    if (v) std::memcpy(bv, v + i, bytes);
    step(bw, bg, bm, v ? bv : nullptr);
    std::memcpy(w + i, bw, bytes);
    std::memcpy(m + i, bm, bytes);
    if (v) std::memcpy(v + i, bv, bytes);
  }

  FITCORE_VECMATH_ENTRY void adam(float* w, const float* g, float* m, float* v, int64_t n, float alpha, float a1,
                                  float a2, float eps) {
    sweep(w, g, m, v, n, [=](float* pw, const float* pg, float* pm, float* pv) {
      const P gv = ei::ploadu<P>(pg);
      P mv = ei::ploadu<P>(pm), vv = ei::ploadu<P>(pv);
      mv = ei::pmadd(ei::psub(gv, mv), set(a1), mv);
      vv = ei::pmadd(ei::psub(ei::pmul(gv, gv), vv), set(a2), vv);
      const P step = ei::pdiv(ei::pmul(mv, set(alpha)), ei::padd(sqrt_exact_p(vv), set(eps)));
      ei::pstoreu(pm, mv);
      ei::pstoreu(pv, vv);
      ei::pstoreu(pw, ei::psub(ei::ploadu<P>(pw), step));
    });
  }

  FITCORE_VECMATH_ENTRY void sgd_momentum(float* w, const float* g, float* m, int64_t n, float lr, float mu,
                                          bool nesterov) {
    auto run = [&](auto nesterov_step) {
      sweep(w, g, m, nullptr, n, [=](float* pw, const float* pg, float* pm, float*) {
        const P lg = ei::pmul(set(lr), ei::ploadu<P>(pg));
        const P mv = ei::psub(ei::pmul(set(mu), ei::ploadu<P>(pm)), lg);
        ei::pstoreu(pm, mv);
        const P wv = ei::ploadu<P>(pw);
        if constexpr (decltype(nesterov_step)::value) {
          ei::pstoreu(pw, ei::padd(wv, ei::psub(ei::pmul(set(mu), mv), lg)));
        } else {
          ei::pstoreu(pw, ei::padd(wv, mv));
        }
      });
    };
    if (nesterov) run(std::true_type{});
    else run(std::false_type{});
  }

  FITCORE_VECMATH_ENTRY void rmsprop(float* w, const float* g, float* v, float* a, float* m, int64_t n, float lr,
                                     float rho, float mu, float eps) {
    // One loop per variant (centered, momentum), the tests out of it. The tail runs on zero-padded
    // copies through the same packet code, so a value's bits do not depend on where a chunk ends.
    auto run = [&](auto centered, auto with_momentum) {
      constexpr bool kCentered = decltype(centered)::value, kMomentum = decltype(with_momentum)::value;
      auto step = [=](float* pw, const float* pg, float* pv, float* pa, float* pm) {
        const P gv = ei::ploadu<P>(pg);
        const P vv = ei::padd(ei::pmul(set(rho), ei::ploadu<P>(pv)), ei::pmul(ei::pmul(set(1.0f - rho), gv), gv));
        ei::pstoreu(pv, vv);
        P denominator = vv;
        if constexpr (kCentered) {
          const P av = ei::padd(ei::pmul(set(rho), ei::ploadu<P>(pa)), ei::pmul(set(1.0f - rho), gv));
          ei::pstoreu(pa, av);
          denominator = ei::psub(vv, ei::pmul(av, av));
        }
        const P increment = ei::pdiv(ei::pmul(set(lr), gv), sqrt_exact_p(ei::padd(denominator, set(eps))));
        if constexpr (kMomentum) {
          const P mv = ei::padd(ei::pmul(set(mu), ei::ploadu<P>(pm)), increment);
          ei::pstoreu(pm, mv);
          ei::pstoreu(pw, ei::psub(ei::ploadu<P>(pw), mv));
        } else {
          ei::pstoreu(pw, ei::psub(ei::ploadu<P>(pw), increment));
        }
      };
      int64_t i = 0;
      for (; i + N <= n; i += N) step(w + i, g + i, v + i, kCentered ? a + i : nullptr, kMomentum ? m + i : nullptr);
      if (i == n) return;
      const size_t bytes = static_cast<size_t>(n - i) * sizeof(float);
      alignas(64) float bw[N] = {}, bg[N] = {}, bv[N] = {}, ba[N] = {}, bm[N] = {};
      std::memcpy(bw, w + i, bytes);
      std::memcpy(bg, g + i, bytes);
      std::memcpy(bv, v + i, bytes);
      if constexpr (kCentered) std::memcpy(ba, a + i, bytes);
      if constexpr (kMomentum) std::memcpy(bm, m + i, bytes);
      step(bw, bg, bv, ba, bm);
      std::memcpy(w + i, bw, bytes);
      std::memcpy(v + i, bv, bytes);
      if constexpr (kCentered) std::memcpy(a + i, ba, bytes);
      if constexpr (kMomentum) std::memcpy(m + i, bm, bytes);
    };
    using yes = std::true_type;
    using no = std::false_type;
    if (a && m) run(yes{}, yes{});
    else if (a) run(yes{}, no{});
    else if (m) run(no{}, yes{});
    else run(no{}, no{});
  }

  FITCORE_VECMATH_ENTRY void adagrad(float* w, const float* g, float* a, int64_t n, float lr, float eps) {
    sweep(w, g, a, nullptr, n, [=](float* pw, const float* pg, float* pa, float*) {
      const P gv = ei::ploadu<P>(pg);
      const P av = ei::padd(ei::ploadu<P>(pa), ei::pmul(gv, gv));
      ei::pstoreu(pa, av);
      const P step = ei::pdiv(ei::pmul(set(lr), gv), sqrt_exact_p(ei::padd(av, set(eps))));
      ei::pstoreu(pw, ei::psub(ei::ploadu<P>(pw), step));
    });
  }

  FITCORE_VECMATH_ENTRY void scale_ratio(float* g, int64_t n, float c, float d) {
    map(g, n, [c, d](const P& v) { return ei::pdiv(ei::pmul(v, set(c)), set(d)); }, g);
  }

  FITCORE_VECMATH_ENTRY void clip_value(float* g, int64_t n, float v) {
    // min(max(g, -v), v) with std::min/std::max's NaN rule: a NaN g stays NaN.
    map(g, n, [v](const P& x) {
      const P clipped = ei::pmin(ei::pmax(x, set(-v)), set(v));
      return keep_nan(x, clipped);
    }, g);
  }

  FITCORE_VECMATH_ENTRY void add_rows(const float* x, int64_t x_stride, float* y, int64_t y_stride, int64_t rows,
                                      int64_t n) {
    for (int64_t r = 0; r < rows; ++r) {
      float* yr = y + r * y_stride;
      map(yr, n, [](const P& a, const P& b) { return ei::padd(a, b); }, static_cast<const float*>(yr), x + r * x_stride);
    }
  }

  FITCORE_VECMATH_ENTRY double sum_of_squares(const float* g, int64_t n) {
    // The 16 lanes as 16 / ND vectors of the level's double width (a wider generic vector would go
    // through memory). Each lane is one chain of dependent adds: 16 of them keep 2 (AVX-512) to 8
    // (SSE2) vector adds in flight, enough to stream from memory.
    constexpr int64_t kLanes = 16, K = kLanes / ND;
    using D = typename LaneVectors<ND>::F64;
    using H = typename LaneVectors<ND>::F32;
    D lane[K] = {};
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int64_t k = 0; k < K; ++k) {
        H x;
        std::memcpy(&x, g + i + k * ND, sizeof x);
        const D d = __builtin_convertvector(x, D);
        lane[k] += d * d;  // exact products, so a fused multiply-add rounds the same
      }
    }
    double s = lane[0][0];
    for (; i < n; ++i) s += static_cast<double>(g[i]) * g[i];  // the tail goes to lane 0
    for (int64_t k = 1; k < kLanes; ++k) s += lane[k / ND][k % ND];
    return s;
  }

  // --- GaussianNoise ----------------------------------------------------------------------------
  // Double packets of half the float lanes: the generator's log and cos run in double and round
  // once to float, so every level and the scalar random.cpp give the same bits (the float results
  // are the correctly rounded ones wherever a double result within a few ulp rounds the same, which
  // tests/test_vecmath.py checks over the whole 2^24-point grid of each uniform).
  using PD = typename HalfWidthDouble<N>::type;
  static constexpr int64_t ND = ei::unpacket_traits<PD>::size;
  static_assert(2 * ND == N, "a double packet holds half the float lanes");
  using F64 = typename LaneVectors<N>::F64;
  static inline PD setd(double v) { return ei::pset1<PD>(v); }

  // cos(t) for t in [0, 8): t - j pi/2 (Cody-Waite, fdlibm's three-part pi/2: j pio2_1 is exact),
  // then fdlibm's __kernel_sin / __kernel_cos polynomials on [-pi/4, pi/4], by quadrant j mod 4.
  static inline PD cos_double(const PD& t) {
    const PD j = ei::pfloor(ei::pmadd(t, setd(6.36619772367581382433e-01), setd(0.5)));
    PD r = ei::psub(t, ei::pmul(j, setd(1.57079632673412561417e+00)));
    r = ei::psub(r, ei::pmul(j, setd(6.07710050630396597660e-11)));
    r = ei::psub(r, ei::pmul(j, setd(2.02226624879595063154e-21)));
    const PD z = ei::pmul(r, r);
    PD ps = ei::pmadd(z, setd(1.58969099521155010221e-10), setd(-2.50507602534068634195e-08));
    ps = ei::pmadd(z, ps, setd(2.75573137070700676789e-06));
    ps = ei::pmadd(z, ps, setd(-1.98412698298579493134e-04));
    ps = ei::pmadd(z, ps, setd(8.33333333332248946124e-03));
    ps = ei::pmadd(z, ps, setd(-1.66666666666666324348e-01));
    const PD sin_r = ei::pmadd(ei::pmul(z, r), ps, r);
    PD pc = ei::pmadd(z, setd(-1.13596475577881948265e-11), setd(2.08757232129817482790e-09));
    pc = ei::pmadd(z, pc, setd(-2.75573143513906633035e-07));
    pc = ei::pmadd(z, pc, setd(2.48015872894767294178e-05));
    pc = ei::pmadd(z, pc, setd(-1.38888888888741095749e-03));
    pc = ei::pmadd(z, pc, setd(4.16666666666666019037e-02));
    const PD cos_r = ei::padd(ei::psub(setd(1.0), ei::pmul(setd(0.5), z)), ei::pmul(ei::pmul(z, z), pc));
    const PD q = ei::psub(j, ei::pmul(setd(4.0), ei::pfloor(ei::pmul(j, setd(0.25)))));  // j mod 4, exact
    const PD odd = ei::por(ei::pcmp_eq(q, setd(1.0)), ei::pcmp_eq(q, setd(3.0)));
    const PD negative = ei::por(ei::pcmp_eq(q, setd(1.0)), ei::pcmp_eq(q, setd(2.0)));
    const PD c = ei::pselect(odd, sin_r, cos_r);
    return ei::pselect(negative, ei::pnegate(c), c);
  }

  // f(double packet) over the N lanes of x, as two halves, rounded to float.
  template <class F>
  static inline F32 in_double(const F64& x, F f) {
    alignas(64) double in[N], out[N];
    std::memcpy(in, &x, sizeof in);
    for (int64_t h = 0; h < N; h += ND) ei::pstore(out + h, f(ei::pload<PD>(in + h)));
    F64 o;
    std::memcpy(&o, out, sizeof o);
    return __builtin_convertvector(o, F32);
  }

  // IEEE sqrt, correctly rounded (Eigen's psqrt on float packets is, under EIGEN_FAST_MATH, an
  // rsqrt estimate and one Newton step, 1-2 bits short); -fno-math-errno lets the lane loop
  // compile to the level's sqrtps.
  static inline F32 sqrt_exact(const F32& x) {
    F32 r;
    for (int64_t k = 0; k < N; ++k) r[k] = __builtin_sqrtf(x[k]);
    return r;
  }
  // The same on Eigen's packets: the level's own sqrtps on the register (a round trip through the
  // stack would make the reload wait on the store).
  static inline P sqrt_exact_p(const P& x) {
#if defined(__AVX512F__)
    if constexpr (N == 16) return _mm512_sqrt_ps(x);
#endif
#if defined(__AVX__)
    if constexpr (N == 8) return _mm256_sqrt_ps(x);
#endif
#if defined(__SSE2__)
    if constexpr (N == 4) return _mm_sqrt_ps(x);
#endif
    alignas(64) float b[N];
    ei::pstore(b, x);
    for (int64_t k = 0; k < N; ++k) b[k] = __builtin_sqrtf(b[k]);
    return ei::pload<P>(b);
  }

  // Box-Muller from the 24-bit draws k1, k2 (u1 = 1 - k1 2^-24 in (0, 1], u2 = k2 2^-24), as
  // random.cpp's standard_normal: sqrt(-2 log u1) cos(6.2831855f u2), log and cos rounded to float.
  static inline F32 box_muller_packet(const I32& k1, const I32& k2) {
    const F64 u1 = 1.0 - __builtin_convertvector(k1, F64) * 0x1.0p-24;  // exact
    const F32 t = __builtin_convertvector(k2, F32) * 0x1.0p-24f * 6.283185307179586f;  // rounded in float
    const F32 log_u1 = in_double(u1, [](const PD& u) { return ei::plog(u); });
    const F32 cos_t = in_double(__builtin_convertvector(t, F64), [](const PD& v) { return cos_double(v); });
    return sqrt_exact(-2.0f * log_u1) * cos_t;
  }

  // Keeps x + s * z two roundings, as the scalar code: with -mfma the compiler would fuse them.
  static inline F32 add_unfused(const F32& x, F32 product) {
#if defined(__x86_64__)
    __asm__("" : "+v"(product));
#elif defined(__aarch64__)
    __asm__("" : "+w"(product));
#endif
    return x + product;
  }

  FITCORE_VECMATH_ENTRY void gaussian_noise(uint64_t key, uint64_t first, float stddev, const float* x, float* y,
                                            int64_t n) {
    U64 lanes;  // the even counters 2 (first + i) draw u1, the odd ones u2; built once (see dropout)
    for (int64_t k = 0; k < N; ++k) lanes[k] = 2 * (first + static_cast<uint64_t>(k));
    int64_t i = 0;
    auto packet = [&](const F32& xv) {
      const U64 counter = lanes + 2 * static_cast<uint64_t>(i);
      const I32 k1 = __builtin_convertvector(mix(mix(counter) ^ key) >> 40, I32);
      const I32 k2 = __builtin_convertvector(mix(mix(counter + 1) ^ key) >> 40, I32);
      return add_unfused(xv, stddev * box_muller_packet(k1, k2));
    };
    F32 v;
    for (; i + N <= n; i += N) {
      std::memcpy(&v, x + i, sizeof v);
      v = packet(v);
      std::memcpy(y + i, &v, sizeof v);
    }
    if (i == n) return;
    const auto rest = static_cast<size_t>(n - i);
    v = F32{};
    std::memcpy(&v, x + i, rest * sizeof(float));
    v = packet(v);
    std::memcpy(y + i, &v, rest * sizeof(float));
  }

  FITCORE_VECMATH_ENTRY void box_muller(const float* u1, const float* u2, float* z, int64_t n) {
    for (int64_t i = 0; i < n; i += N) {
      const auto count = static_cast<size_t>(n - i < N ? n - i : N);
      F32 a = F32{} + 1.0f, b = F32{};
      std::memcpy(&a, u1 + i, count * sizeof(float));
      std::memcpy(&b, u2 + i, count * sizeof(float));
      const I32 k1 = __builtin_convertvector((1.0f - a) * 16777216.0f, I32);  // exact on the grid
      const I32 k2 = __builtin_convertvector(b * 16777216.0f, I32);
      const F32 r = box_muller_packet(k1, k2);
      std::memcpy(z + i, &r, count * sizeof(float));
    }
  }

  FITCORE_VECMATH_ENTRY float fma_loop(int64_t iterations) {
    // 12 independent chains (enough to cover the multiply-add latency on two pipes), as named
    // registers: an array would live on the stack and the loop would time loads and stores.
    const P a = set(0.999999f), b = set(1e-7f);
    P c0 = set(0.0f), c1 = set(0.1f), c2 = set(0.2f), c3 = set(0.3f), c4 = set(0.4f), c5 = set(0.5f);
    P c6 = set(0.6f), c7 = set(0.7f), c8 = set(0.8f), c9 = set(0.9f), c10 = set(1.0f), c11 = set(1.1f);
    for (int64_t it = 0; it < iterations; ++it) {
#define FITCORE_STEP(c) c = ei::pmadd(c, a, b);
      FITCORE_STEP(c0) FITCORE_STEP(c1) FITCORE_STEP(c2) FITCORE_STEP(c3) FITCORE_STEP(c4) FITCORE_STEP(c5)
      FITCORE_STEP(c6) FITCORE_STEP(c7) FITCORE_STEP(c8) FITCORE_STEP(c9) FITCORE_STEP(c10) FITCORE_STEP(c11)
#undef FITCORE_STEP
#if defined(__x86_64__)  // opaque to the optimiser, so the chains stay multiply-adds in registers
      __asm__ volatile("" : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5));
      __asm__ volatile("" : "+v"(c6), "+v"(c7), "+v"(c8), "+v"(c9), "+v"(c10), "+v"(c11));
#endif
    }
    const P first = ei::padd(ei::padd(ei::padd(c0, c1), ei::padd(c2, c3)), ei::padd(ei::padd(c4, c5), ei::padd(c6, c7)));
    const P sum = ei::padd(first, ei::padd(ei::padd(c8, c9), ei::padd(c10, c11)));
    return ei::predux(sum);
  }

  static VecMath table() {
    return VecMath{&activation_forward, &activation_backward, &softmax_row, &log_sum_exp,
                   &exp_shifted,        &dropout,             &dropout_backward,    &adam,        &sgd_momentum,
                   &rmsprop,            &adagrad,             &scale_ratio, &clip_value,  &add_rows,
                   &sum_of_squares,     &gaussian_noise,      &box_muller,  &fma_loop,
                   static_cast<int>(N)};
  }
};

}  // namespace
}  // namespace fitcore::kernels

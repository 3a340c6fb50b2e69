#pragma once
// Counter-based random numbers: a draw depends only on (key, counter), so the
// results do not depend on the number of threads or the order they run in.
#include <cstdint>
#include <vector>

#include "fitcore/config.hpp"

namespace fitcore {

inline uint64_t mix64(uint64_t x) {  // splitmix64's finaliser
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline uint64_t derive_key(uint64_t key, uint64_t a, uint64_t b = 0) {
  return mix64(mix64(key ^ mix64(a)) ^ mix64(b + 0x632BE59BD9B4E019ull));
}

inline uint64_t random_bits(uint64_t key, uint64_t counter) { return mix64(key ^ mix64(counter)); }

// Uniform in [0, 1) with 24 bits, exactly representable as float.
inline float uniform01(uint64_t key, uint64_t counter) {
  return static_cast<float>(random_bits(key, counter) >> 40) * 0x1.0p-24f;
}

// Standard normal by Box-Muller over two independent uniforms (u1 = 1 - uniform01(key, 2 counter),
// u2 = uniform01(key, 2 counter + 1)): sqrt(-2 log u1) cos(6.2831855f u2) in float, with log and cos
// computed in double and rounded once to float.
float standard_normal(uint64_t key, uint64_t counter);

// A uniformly random permutation of 0..n-1 (Fisher-Yates).
void random_permutation(uint64_t key, int64_t n, std::vector<int64_t>& out);

// The row order of a shuffled pass: pass `pass` (0, 1, ...) of the run of passes that began at
// `epoch`. One definition for arrays the core batches and for lazily read arrays batched in Python,
// so both see the same batches.
void epoch_permutation(uint64_t seed, int64_t epoch, int64_t pass, int64_t n, std::vector<int64_t>& out);

// A random layer's stream: the pass key, salted with the layer's `seed` setting when it has one.
class LayerSeed {
 public:
  explicit LayerSeed(const Config& config)
      : seeded_(config.numbers.count("seed") > 0), salt_(static_cast<uint64_t>(config.number("seed", 0.0))) {}
  uint64_t key(uint64_t pass_key) const { return seeded_ ? derive_key(pass_key, salt_) : pass_key; }

 private:
  bool seeded_;
  uint64_t salt_;
};

}  // namespace fitcore

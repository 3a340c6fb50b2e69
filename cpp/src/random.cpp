#include "fitcore/random.hpp"

#include <cmath>

namespace fitcore {

float standard_normal(uint64_t key, uint64_t counter) {
  // Two uniforms from counters 2c and 2c+1; u1 in (0, 1] keeps log finite. log and cos run in
  // double and round once to float: float results that do not depend on the libm's float functions
  // (glibc's logf / cosf are off by one ulp on ~1 % of these inputs), which the vector kernel
  // (kernels::VecMath::gaussian_noise) reproduces bit for bit at every instruction-set level.
  const float u1 = 1.0f - uniform01(key, 2 * counter);
  const float u2 = uniform01(key, 2 * counter + 1);
  const auto log_u1 = static_cast<float>(std::log(static_cast<double>(u1)));
  const auto cos_t = static_cast<float>(std::cos(static_cast<double>(6.283185307179586f * u2)));
  return std::sqrt(-2.0f * log_u1) * cos_t;
}

void random_permutation(uint64_t key, int64_t n, std::vector<int64_t>& out) {
  out.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    // Lemire's multiply-shift maps 64 random bits onto [0, i] without a division.
    const unsigned __int128 wide =
        static_cast<unsigned __int128>(random_bits(key, static_cast<uint64_t>(i))) * static_cast<uint64_t>(i + 1);
    const int64_t j = static_cast<int64_t>(wide >> 64);
    std::swap(out[static_cast<size_t>(i)], out[static_cast<size_t>(j)]);
  }
}

void epoch_permutation(uint64_t seed, int64_t epoch, int64_t pass, int64_t n, std::vector<int64_t>& out) {
  random_permutation(derive_key(seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(pass)), n, out);
}

}  // namespace fitcore

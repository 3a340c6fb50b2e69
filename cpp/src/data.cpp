#include "fitcore/data.hpp"

#include <algorithm>
#include <cstring>

#include "fitcore/buffer.hpp"
#include "fitcore/parallel.hpp"

namespace fitcore {

void gather_rows(const ArrayRef& src, const int64_t* index, int64_t first, int64_t count, float* dst) {
  const int64_t w = src.width;
  const auto bytes = static_cast<size_t>(w) * sizeof(float);
  if (!index) {
    std::memcpy(dst, src.data + first * w, bytes * static_cast<size_t>(count));
    return;
  }
  constexpr int64_t kRows = 64;  // rows per task
  parallel_for((count + kRows - 1) / kRows, count * w > kParallelGrain, [&](int64_t t) {
    for (int64_t r = t * kRows; r < std::min(count, (t + 1) * kRows); ++r)
      std::memcpy(dst + r * w, src.data + index[first + r] * w, bytes);
  });
}

}  // namespace fitcore

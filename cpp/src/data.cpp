#include "fitcore/data.hpp"

#include <cstring>

#include "fitcore/buffer.hpp"

namespace fitcore {

void gather_rows(const ArrayRef& src, const int64_t* index, int64_t first, int64_t count, float* dst) {
  const int64_t w = src.width;
  const auto bytes = static_cast<size_t>(w) * sizeof(float);
  if (!index) {
    std::memcpy(dst, src.data + first * w, bytes * static_cast<size_t>(count));
    return;
  }
#pragma omp parallel for schedule(static) if (count * w > kParallelGrain)
  for (int64_t r = 0; r < count; ++r) std::memcpy(dst + r * w, src.data + index[first + r] * w, bytes);
}

}  // namespace fitcore

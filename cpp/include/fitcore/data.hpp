#pragma once
// In-memory data as the core sees it: float32 C-contiguous arrays, one row per sample.
#include <cstdint>
#include <vector>

namespace fitcore {

struct ArrayRef {
  const float* data = nullptr;  // null: absent (e.g. no sample weights)
  int64_t rows = 0;
  int64_t width = 0;            // floats per sample
};

struct Arrays {
  std::vector<ArrayRef> inputs;   // one per model input
  std::vector<ArrayRef> targets;  // one per model output (may be empty for predict)
  std::vector<ArrayRef> weights;  // one per model output, each possibly absent
  int64_t rows() const { return inputs.empty() ? 0 : inputs.front().rows; }
};

// dst[r] = src[index[r]] for r < count, or src[first + r] when index is null.
void gather_rows(const ArrayRef& src, const int64_t* index, int64_t first, int64_t count, float* dst);

}  // namespace fitcore

#pragma once
// In-memory data as the core sees it: C-contiguous arrays, one row per sample. Inputs and weights
// are float32; targets may also be int32 / int64, so class ids stay exact (float32 rounds them
// beyond 2^24).
#include <cstdint>
#include <string>
#include <vector>

namespace fitcore {

enum class DType : uint8_t { float32, int32, int64 };

struct ArrayRef {
  const void* data = nullptr;   // null: absent (e.g. no sample weights)
  int64_t rows = 0;
  int64_t width = 0;            // values per sample
  DType dtype = DType::float32;
};

// Where predict writes one model output: rows x width floats.
struct MutableArrayRef {
  float* data = nullptr;
  int64_t rows = 0;
  int64_t width = 0;
};

struct Arrays {
  std::vector<ArrayRef> inputs;   // one per model input
  std::vector<ArrayRef> targets;  // one per model output (may be empty for predict)
  std::vector<ArrayRef> weights;  // one per model output, each possibly absent
  int64_t rows() const { return inputs.empty() ? 0 : inputs.front().rows; }
};

// dst[r] = src[index[r]] for r < count, or src[first + r] when index is null; integer sources
// are converted to float. The caller guarantees the rows exist (check_rows below).
void gather_rows(const ArrayRef& src, const int64_t* index, int64_t first, int64_t count, float* dst);

// The same rows as class ids in [0, classes); throws std::invalid_argument naming `what` for any
// other value (a negative, too large or fractional id, NaN).
void gather_labels(const ArrayRef& src, const int64_t* index, int64_t first, int64_t count, int64_t classes,
                   int64_t* dst, const std::string& what);

// Every value of `a` is a class id in [0, classes), or std::invalid_argument naming `what`.
void check_labels(const ArrayRef& a, int64_t classes, const std::string& what);

// `a` is present with `rows` rows of `width` values (float32 unless `any_dtype`), or
// std::invalid_argument naming `what` and both shapes.
void check_array(const ArrayRef& a, int64_t rows, int64_t width, bool any_dtype, const std::string& what);

}  // namespace fitcore

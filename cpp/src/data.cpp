#include "fitcore/data.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "fitcore/buffer.hpp"
#include "fitcore/parallel.hpp"

namespace fitcore {
namespace {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::float32: return "float32";
    case DType::int32: return "int32";
    case DType::int64: return "int64";
  }
  return "?";
}

// f(r, row) for each gathered row, with `row` pointing at the source row of element type T.
template <class T, class F>
void for_rows(const ArrayRef& src, const int64_t* index, int64_t first, int64_t count, const F& f) {
  const T* base = static_cast<const T*>(src.data);
  constexpr int64_t kRows = 64;  // rows per task
  parallel_for((count + kRows - 1) / kRows, index && count * src.width > kParallelGrain, [&](int64_t t) {
    for (int64_t r = t * kRows; r < std::min(count, (t + 1) * kRows); ++r)
      f(r, base + (index ? index[first + r] : first + r) * src.width);
  });
}

template <class T>
void convert_rows(const ArrayRef& src, const int64_t* index, int64_t first, int64_t count, float* dst) {
  const int64_t w = src.width;
  for_rows<T>(src, index, first, count, [&](int64_t r, const T* row) {
    for (int64_t j = 0; j < w; ++j) dst[r * w + j] = static_cast<float>(row[j]);
  });
}

// The class id `v` (any source type), or -1 when it is not one in [0, classes).
inline int64_t as_label(float v, int64_t classes) {
  // Compared as double before the cast: a float outside int64's range must never be cast (UB).
  const double d = v;
  return d >= 0.0 && d < static_cast<double>(classes) && d == std::floor(d) ? static_cast<int64_t>(d) : -1;
}
inline int64_t as_label(int64_t v, int64_t classes) { return v >= 0 && v < classes ? v : -1; }
inline int64_t as_label(int32_t v, int64_t classes) { return as_label(static_cast<int64_t>(v), classes); }

template <class T>
void labels_of(const ArrayRef& src, const int64_t* index, int64_t first, int64_t count, int64_t classes,
               int64_t* dst, const std::string& what) {
  const int64_t w = src.width;
  std::atomic<bool> bad{false};  // thrown after the loop: an exception must not leave an OpenMP region
  for_rows<T>(src, index, first, count, [&](int64_t r, const T* row) {
    for (int64_t j = 0; j < w; ++j) {
      const int64_t label = as_label(row[j], classes);
      if (label < 0) bad.store(true, std::memory_order_relaxed);
      if (dst) dst[r * w + j] = label;
    }
  });
  if (!bad.load()) return;
  for (int64_t r = 0; r < count; ++r) {  // the first offender, for the message
    const T* row = static_cast<const T*>(src.data) + (index ? index[first + r] : first + r) * w;
    for (int64_t j = 0; j < w; ++j)
      if (as_label(row[j], classes) < 0)
        throw std::invalid_argument(what + " holds class ids outside [0, " + std::to_string(classes) +
                                    ") (or non-integers): e.g. " + std::to_string(row[j]));
  }
}

}  // namespace

void gather_rows(const ArrayRef& src, const int64_t* index, int64_t first, int64_t count, float* dst) {
  const int64_t w = src.width;
  switch (src.dtype) {
    case DType::int32: return convert_rows<int32_t>(src, index, first, count, dst);
    case DType::int64: return convert_rows<int64_t>(src, index, first, count, dst);
    case DType::float32: break;
  }
  const auto bytes = static_cast<size_t>(w) * sizeof(float);
  const float* data = static_cast<const float*>(src.data);
  if (!index) {
    std::memcpy(dst, data + first * w, bytes * static_cast<size_t>(count));
    return;
  }
  for_rows<float>(src, index, first, count, [&](int64_t r, const float* row) { std::memcpy(dst + r * w, row, bytes); });
}

void gather_labels(const ArrayRef& src, const int64_t* index, int64_t first, int64_t count, int64_t classes,
                   int64_t* dst, const std::string& what) {
  switch (src.dtype) {
    case DType::float32: return labels_of<float>(src, index, first, count, classes, dst, what);
    case DType::int32: return labels_of<int32_t>(src, index, first, count, classes, dst, what);
    case DType::int64: return labels_of<int64_t>(src, index, first, count, classes, dst, what);
  }
}

void check_labels(const ArrayRef& a, int64_t classes, const std::string& what) {
  gather_labels(a, nullptr, 0, a.rows, classes, nullptr, what);
}

void check_array(const ArrayRef& a, int64_t rows, int64_t width, bool any_dtype, const std::string& what) {
  if (!a.data) throw std::invalid_argument(what + " is missing");
  if (!any_dtype && a.dtype != DType::float32)
    throw std::invalid_argument(what + " must be float32, got " + dtype_name(a.dtype));
  if (a.rows != rows || (rows > 0 && a.width != width))
    throw std::invalid_argument(what + " must have " + std::to_string(rows) + " rows of " + std::to_string(width) +
                                " values, got " + std::to_string(a.rows) + " rows of " + std::to_string(a.width));
}

}  // namespace fitcore

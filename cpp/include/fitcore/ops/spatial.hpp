#pragma once
// Per-sample feature maps, channels last: a (t, c) sequence is read as a (1, t, c) image, so every
// spatial op has one 2-D code path and its 1-D layers are the same op with a height of 1.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "fitcore/graph.hpp"

namespace fitcore {

struct FeatureMap {
  int64_t height = 1, width = 1, channels = 1;
  int64_t positions() const { return height * width; }
  int64_t size() const { return height * width * channels; }
};

// The slot's per-sample shape as (height, width, channels); `what` names the op in errors.
inline FeatureMap feature_map(const GraphSpec& graph, int slot, const char* what) {
  const std::vector<int64_t>& s = graph.slot_shapes.at(static_cast<size_t>(slot));
  FeatureMap m;
  if (s.size() == 2) {
    m.width = s[0], m.channels = s[1];
  } else if (s.size() == 3) {
    m.height = s[0], m.width = s[1], m.channels = s[2];
  } else {
    throw std::invalid_argument(std::string(what) + ": expects (steps, channels) or (height, width, channels)");
  }
  if (m.height < 1 || m.width < 1 || m.channels < 1)
    throw std::invalid_argument(std::string(what) + ": empty feature map");
  return m;
}

// A config integer that must be at least `least`.
inline int64_t config_int(const Config& config, const char* key, int64_t least, const char* what) {
  const double v = config.number(key);
  if (!(v >= static_cast<double>(least)) || v > 1e9 || v != static_cast<double>(static_cast<int64_t>(v)))
    throw std::invalid_argument(std::string(what) + ": bad setting '" + key + "'");
  return static_cast<int64_t>(v);
}

// Samples per task for per-sample loops: a fixed split by size only, so results never depend on
// the thread count, with tasks of at least ~`grain` values each.
inline int64_t samples_per_task(int64_t sample_values, int64_t grain = int64_t{1} << 14) {
  const int64_t s = grain / (sample_values > 0 ? sample_values : 1);
  return s < 1 ? 1 : s;
}

}  // namespace fitcore

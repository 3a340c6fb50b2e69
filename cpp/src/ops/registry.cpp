// The one place op kinds are named. Adding a layer: its op file plus one line here.
#include <map>
#include <stdexcept>

#include "fitcore/ops/activation.hpp"
#include "fitcore/ops/add.hpp"
#include "fitcore/ops/batch_normalization.hpp"
#include "fitcore/ops/concatenate.hpp"
#include "fitcore/ops/dense.hpp"
#include "fitcore/ops/dropout.hpp"
#include "fitcore/ops/embedding.hpp"
#include "fitcore/ops/flatten.hpp"
#include "fitcore/ops/gaussian_noise.hpp"
#include "fitcore/ops/average.hpp"
#include "fitcore/ops/dot.hpp"
#include "fitcore/ops/maximum.hpp"
#include "fitcore/ops/minimum.hpp"
#include "fitcore/ops/multiply.hpp"
#include "fitcore/ops/permute.hpp"
#include "fitcore/ops/repeat_vector.hpp"
#include "fitcore/ops/rescaling.hpp"
#include "fitcore/ops/subtract.hpp"
#include "fitcore/ops/conv.hpp"
#include "fitcore/ops/global_pooling.hpp"
#include "fitcore/ops/pooling.hpp"
#include "fitcore/ops/upsampling.hpp"
#include "fitcore/ops/zero_padding.hpp"

namespace fitcore {
namespace {

template <class T>
std::unique_ptr<Op> create(const OpSpec& spec, const GraphSpec& graph) {
  return std::make_unique<T>(spec, graph);
}

using Factory = std::unique_ptr<Op> (*)(const OpSpec&, const GraphSpec&);

const std::map<std::string, Factory>& registry() {
  static const std::map<std::string, Factory> kOps = {
      {"dense", &create<Dense>},
      {"activation", &create<ActivationOp>},
      {"dropout", &create<Dropout>},
      {"gaussian_noise", &create<GaussianNoise>},
      {"flatten", &create<Flatten>},
      {"concatenate", &create<Concatenate>},
      {"add", &create<Add>},
      {"batch_normalization", &create<BatchNormalization>},
      {"embedding", &create<Embedding>},
      {"subtract", &create<Subtract>},
      {"multiply", &create<Multiply>},
      {"average", &create<Average>},
      {"maximum", &create<Maximum>},
      {"minimum", &create<Minimum>},
      {"dot", &create<Dot>},
      {"rescaling", &create<Rescaling>},
      {"repeat_vector", &create<RepeatVector>},
      {"permute", &create<Permute>},
      {"conv", &create<Conv>},
      {"pooling", &create<Pooling>},
      {"global_pooling", &create<GlobalPooling>},
      {"zero_padding", &create<ZeroPadding>},
      {"upsampling", &create<UpSampling>},
      {"reshape", &create<Flatten>},  // row-major values are already in place: a copy, as Flatten
  };
  return kOps;
}

}  // namespace

std::unique_ptr<Op> make_op(const OpSpec& spec, const GraphSpec& graph) {
  auto it = registry().find(spec.kind);
  if (it == registry().end()) throw std::invalid_argument("unknown op kind '" + spec.kind + "'");
  return it->second(spec, graph);
}

}  // namespace fitcore

#pragma once
#include <cstdint>
#include <vector>

#include "fitcore/op.hpp"
#include "fitcore/random.hpp"

namespace fitcore {

// Inverted dropout, in training only: each kept value is scaled by 1 / (1 - rate). The mask is
// drawn from (pass key, element index), so backward redraws it instead of storing it.
// noise_shape broadcasts the mask over per-sample axes of size 1 (and over the batch).
class Dropout final : public Op {
 public:
  Dropout(const OpSpec& spec, const GraphSpec& graph);
  void forward(Pass& p) override;
  void backward(Pass& p) override;
  void reserve(int64_t rows) override;

 private:
  uint64_t key(const Pass& p) const { return seed_.key(p.key); }

  LayerSeed seed_;
  // Whether the draw for element j of batch row `row` keeps it.
  bool kept(const Pass& p, int64_t row, int64_t j) const;
  // y = x * scale where kept, x * 0 elsewhere, over the batch (x and y may alias): forward on
  // values, backward on gradients.
  // Where `keep` is not null (stores_mask()), also keep[i] = 1 where element i is kept, else 0.
  void apply_mask(const Pass& p, const float* x, float* y, uint8_t* keep) const;
  // Per-sample masks without broadcast axes are kept from the forward pass for the backward (a
  // byte a value, against hashing every counter again); the others are drawn again.
  bool stores_mask() const { return contiguous_ && !shared_batch_; }

  float rate_;
  bool shared_batch_;                 // one mask for every sample
  int64_t mask_width_;                // mask values per sample
  std::vector<int64_t> mask_index_;   // per-sample element -> its mask value
  bool contiguous_ = false;           // mask_index_[j] == j: no broadcast axis
  std::vector<uint8_t> keep_;         // the last training forward's mask, where stores_mask()
};

}  // namespace fitcore

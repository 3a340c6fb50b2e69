import math
import numbers

from fitcore.layers.dropout import check_seed, seed_config
from fitcore.layers.layer import Layer


class GaussianNoise(Layer):
    """Adds N(0, stddev^2) noise in training only."""

    kind = "gaussian_noise"

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, numbers.Real) or not math.isfinite(stddev) \
                or stddev < 0:
            raise ValueError(f"GaussianNoise: `stddev` must be a non-negative float, got {stddev!r}")
        self.stddev = float(stddev)
        self.seed = check_seed("GaussianNoise", seed)

    def op_config(self):
        return {"stddev": self.stddev, **seed_config(self.seed)}, {}

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}

from fitcore.data.validation import check_int, check_real
from fitcore.layers.dropout import seed_config
from fitcore.layers.layer import Layer


class GaussianNoise(Layer):
    """Adds zero-mean Gaussian noise in training only; inference passes inputs through.

    Args:
        stddev: float, the noise's standard deviation.
        seed: int or None, mixed into the model's random stream for this layer.
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`; on a Sequential's first
            layer also `input_shape` / `input_dim`).

    Returns:
        Called on a tensor, a tensor of the same shape."""

    kind = "gaussian_noise"

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = check_real("stddev", stddev, low=0, owner="GaussianNoise")
        self.seed = check_int("seed", seed, low=0, allow_none=True, owner="GaussianNoise")

    def op_config(self):
        return {"stddev": self.stddev, **seed_config(self.seed)}, {}

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}

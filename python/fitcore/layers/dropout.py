import numbers

from fitcore.data.validation import check_int, check_real
from fitcore.layers.layer import Layer


def seed_config(seed):
    """The op mixes a layer seed into its random key (exact in a double below 2**53)."""
    return {} if seed is None else {"seed": float(seed % 2**53)}


class Dropout(Layer):
    """Inverted dropout, in training only: zeroes a `rate` fraction of the inputs and scales the
    rest by 1 / (1 - rate); inference passes inputs through.

    Args:
        rate: float in [0, 1], the fraction of inputs to drop.
        noise_shape: the mask's shape with the batch axis first (None for "as the input"); an axis
            of size 1 shares one mask along it.
        seed: int or None, mixed into the model's random stream for this layer.
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`; on a Sequential's first
            layer also `input_shape` / `input_dim`).

    Returns:
        Called on a tensor, a tensor of the same shape."""

    kind = "dropout"

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.rate = check_real("rate", rate, low=0, high=1, owner=owner)
        if noise_shape is not None and (not isinstance(noise_shape, (tuple, list)) or not all(
                d is None or (isinstance(d, numbers.Integral) and not isinstance(d, bool) and d > 0)
                for d in noise_shape)):
            raise ValueError(f"Dropout: `noise_shape` must be None or a tuple of positive ints / None "
                             f"(batch axis first), got {noise_shape!r}")
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = check_int("seed", seed, low=0, allow_none=True, owner=owner)
        self._mask_shape = None

    def build(self, input_shape):
        if self.noise_shape is None:
            return
        if len(self.noise_shape) != len(input_shape) + 1:
            raise ValueError(f"{self.name}: `noise_shape` {self.noise_shape} must have rank "
                             f"{len(input_shape) + 1} (batch axis first) for inputs of shape (None, "
                             f"{', '.join(map(str, input_shape))})")
        mask = tuple(d if n is None else n for n, d in zip(self.noise_shape[1:], input_shape))
        if any(m not in (1, d) for m, d in zip(mask, input_shape)):
            raise ValueError(f"{self.name}: each `noise_shape` entry must be None, 1 or the input's size; "
                             f"got {self.noise_shape} for inputs of shape (None, {', '.join(map(str, input_shape))})")
        self._mask_shape = mask

    def op_config(self):
        numbers_ = {"rate": self.rate, **seed_config(self.seed)}
        strings = {}
        if self._mask_shape is not None:
            numbers_["shared_batch"] = float(self.noise_shape[0] == 1)
            strings["noise_shape"] = ",".join(map(str, self._mask_shape))
        return numbers_, strings

    def get_config(self):
        return {**super().get_config(), "rate": self.rate,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape), "seed": self.seed}

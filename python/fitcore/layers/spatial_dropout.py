"""SpatialDropout1D/2D: dropout of whole channels of feature maps (the core's `dropout` op with a
mask shared over the spatial axes)."""
from fitcore.data.validation import check_data_format
from fitcore.layers.dropout import Dropout
from fitcore.layers.spatial import check_rank, keras_name


class SpatialDropout1D(Dropout):
    """Drops whole channels of a sequence, (None, steps, channels), in training only: each sample
    keeps or zeroes a channel at every step together, kept values scaled by 1 / (1 - rate).

    Args:
        rate: the fraction of channels to drop, a float in [0, 1].
        seed: None or a non-negative int seeding the masks.
        **kwargs: `name`, `trainable`.

    Returns:
        A layer without weights.
    """

    rank = 1

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **keras_name(kwargs, type(self)))

    def build(self, input_shape):
        check_rank(self, input_shape, self.rank)
        self.noise_shape = (None,) + (1,) * self.rank + (None,)
        super().build(input_shape)

    def get_config(self):
        config = super().get_config()
        del config["noise_shape"]
        return config


class SpatialDropout2D(SpatialDropout1D):
    """Drops whole channels of an image, (None, height, width, channels), in training only: each
    sample keeps or zeroes a channel at every position together, kept values scaled by 1 / (1 - rate).

    Args:
        rate: the fraction of channels to drop, a float in [0, 1].
        data_format: None or "channels_last" (the only layout supported).
        seed: None or a non-negative int seeding the masks.
        **kwargs: `name`, `trainable`.

    Returns:
        A layer without weights.
    """

    rank = 2

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = check_data_format(data_format, owner="SpatialDropout2D")

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}

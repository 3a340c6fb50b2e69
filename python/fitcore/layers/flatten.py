import numpy as np

from fitcore.data.validation import check_data_format
from fitcore.layers.layer import Layer


class Flatten(Layer):
    """Flattens each sample to one axis: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...).

    Args:
        data_format: accepted for Keras compatibility (channels_last).
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`; on a Sequential's first
            layer also `input_shape` / `input_dim`).

    Returns:
        Called on a tensor, the flattened tensor."""

    kind = "flatten"

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        check_data_format(data_format, owner="Flatten")
        self.data_format = data_format

    def compute_output_shape(self, input_shape):
        return (int(np.prod(input_shape, dtype=np.int64)),)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}

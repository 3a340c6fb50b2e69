import numpy as np

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
        if data_format not in (None, "channels_last"):
            raise ValueError(f"Flatten: only data_format=None or 'channels_last' is supported, got {data_format!r}")
        self.data_format = data_format

    def compute_output_shape(self, input_shape):
        return (int(np.prod(input_shape, dtype=np.int64)),)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}

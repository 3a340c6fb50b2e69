import numpy as np

from fitcore.layers.layer import Layer


class Flatten(Layer):
    """(None, d1, d2, ...) -> (None, d1 * d2 * ...)."""

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

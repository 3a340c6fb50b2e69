"""Symbolic tensors and `Input`: how functional models are described before they are lowered."""
import numpy as np

from fitcore.data.validation import check_layer_fits
from fitcore.layers.layer import Layer, _exact_size, unique_name

_DTYPES = ("float32", "float64", "float16", "int32", "int64")


class SymbolicTensor:
    """A placeholder for a batch: its shape (batch axis first, None) and the layer call that makes it."""

    def __init__(self, shape, layer, inputs=(), dtype="float32"):
        self.shape = tuple(shape)
        self.layer = layer
        self.inputs = list(inputs)
        self.dtype = dtype

    @property
    def name(self):
        return self.layer.name

    def __repr__(self):
        return f"<SymbolicTensor shape={self.shape} from={self.layer.name}>"


class InputLayer(Layer):
    """Where data enters; it has no op of its own."""

    def __init__(self, shape, name=None, dtype="float32"):
        super().__init__(name=name or unique_name("input_layer"))
        self.shape = shape
        self.dtype = dtype
        self.built = True

    def get_config(self):
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}


def Input(shape, name=None, dtype="float32"):
    """A model input of per-sample `shape` (a tuple without the batch axis)."""
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    if not isinstance(shape, (tuple, list)) or not shape or not all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in shape):
        raise ValueError(f"Input: `shape` must be a non-empty tuple of positive ints (no batch axis), got {shape!r}")
    if dtype not in _DTYPES:
        raise ValueError(f"Input: `dtype` must be one of {', '.join(_DTYPES)}, got {dtype!r}")
    layer = InputLayer(tuple(int(d) for d in shape), name=name, dtype=dtype)
    check_layer_fits(f"Input '{layer.name}' of `shape` {tuple(layer.shape)}", 0, _exact_size(layer.shape))
    return SymbolicTensor((None,) + layer.shape, layer=layer, dtype=dtype)

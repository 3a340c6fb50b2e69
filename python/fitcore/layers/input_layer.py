"""Symbolic tensors and `Input`: how functional models are described before they are lowered."""
import numbers

import numpy as np

from fitcore.data.validation import (check_batch_shape, check_choice, check_layer_fits, check_positive_int,
                                     check_sample_shape)
from fitcore.layers.layer import Layer, _exact_size, unique_name

_DTYPES = ("float32", "float64", "float16", "int32", "int64")


class SymbolicTensor:
    """A placeholder for a batch in a functional graph: its shape (batch axis first, None) and
    the layer call that makes it. `+`, `-`, `*` with another tensor of the same shape are the Add,
    Subtract and Multiply layers; with a number (and unary -, / by a number), a Rescaling.

    Args:
        shape: the shape with the batch axis first (None).
        layer: the layer whose call produces this tensor.
        inputs: the tensors that call read.
        dtype: the declared dtype of an input (values reach the core as float32)."""

    def __init__(self, shape, layer, inputs=(), dtype="float32"):
        self.shape = tuple(shape)
        self.layer = layer
        self.inputs = list(inputs)
        self.dtype = dtype

    @property
    def name(self):
        """The name of the layer that produces this tensor.

        Returns:
            A string."""
        return self.layer.name

    def __repr__(self):
        return f"<SymbolicTensor shape={self.shape} from={self.layer.name}>"

    # numpy defers to these operators (np.float64(2) * x is a Rescaling, an array + x a TypeError)
    # instead of broadcasting the tensor as an object array.
    __array_ufunc__ = None

    # Arithmetic, as on Keras tensors: with another tensor of the same shape it is the Add, Subtract
    # or Multiply layer; with a Python number it is a Rescaling (scale * x + offset).
    def _merged(self, other, layer_class, reflected=False):
        if isinstance(other, SymbolicTensor):
            return layer_class()([other, self] if reflected else [self, other])
        return NotImplemented

    def _rescaled(self, scale, offset=0.0):
        from fitcore.layers.rescaling import Rescaling

        return Rescaling(scale, offset)(self)

    def __add__(self, other):
        from fitcore.layers.add import Add

        return self._rescaled(1.0, float(other)) if _is_number(other) else self._merged(other, Add)

    def __radd__(self, other):
        return self.__add__(other)

    def __sub__(self, other):
        from fitcore.layers.elementwise import Subtract

        return self._rescaled(1.0, -float(other)) if _is_number(other) else self._merged(other, Subtract)

    def __rsub__(self, other):
        return self._rescaled(-1.0, float(other)) if _is_number(other) else NotImplemented

    def __mul__(self, other):
        from fitcore.layers.elementwise import Multiply

        return self._rescaled(float(other)) if _is_number(other) else self._merged(other, Multiply)

    def __rmul__(self, other):
        return self.__mul__(other)

    def __truediv__(self, other):
        if _is_number(other) and other != 0:
            return self._rescaled(1.0 / float(other))
        return NotImplemented

    def __neg__(self):
        return self._rescaled(-1.0)

    def __pos__(self):
        return self


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)


class InputLayer(Layer):
    """The layer behind an fc.Input(...) tensor: where data enters the model; it has no op.

    Args:
        shape: the per-sample shape (no batch axis).
        name: the input's name (unique by default).
        dtype: the declared dtype."""

    def __init__(self, shape, name=None, dtype="float32"):
        super().__init__(name=name or unique_name("input_layer"))
        self.shape = shape
        self.dtype = dtype
        self.built = True

    def get_config(self):
        """The layer's configuration, JSON-able.

        Returns:
            A dict with name, shape and dtype."""
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}


def Input(shape=None, batch_size=None, dtype="float32", batch_shape=None, name=None):
    """A symbolic model input, as `keras.Input`.

    Args:
        shape: the per-sample shape, a tuple without the batch axis (an int means a 1-tuple).
        batch_size: accepted as Keras does; fitcore models take batches of any size.
        dtype: one of float32, float64, float16, int32, int64 (values reach the core as float32).
        batch_shape: the shape with the batch axis first, e.g. (None, 784); instead of `shape`.
        name: the input's name (inputs by name in dict data); unique by default.

    Returns:
        A SymbolicTensor of shape (None,) + shape.
    """
    if batch_shape is not None:
        if shape is not None:
            raise ValueError(f"Input: pass `shape` or `batch_shape`, not both; got shape={shape!r}, "
                             f"batch_shape={batch_shape!r}")
        shape = check_batch_shape("batch_shape", batch_shape, owner="Input")
    check_positive_int("batch_size", batch_size, allow_none=True, owner="Input")
    if shape is None:
        raise ValueError("Input: pass `shape` (per-sample, e.g. (784,)) or `batch_shape` (e.g. (None, 784))")
    shape = check_sample_shape("shape", shape, owner="Input")
    check_choice("dtype", dtype, _DTYPES, owner="Input")
    layer = InputLayer(shape, name=name, dtype=dtype)
    check_layer_fits(f"Input '{layer.name}' of `shape` {tuple(layer.shape)}", 0, _exact_size(layer.shape))
    tensor = SymbolicTensor((None,) + layer.shape, layer=layer, dtype=dtype)
    layer._first_call = (tensor, tensor)  # an input layer's input and output are its tensor
    return tensor

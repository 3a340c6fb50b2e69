"""Reshaping layers over channels_last feature maps: ZeroPadding1D/2D (the core's `zero_padding`
op), UpSampling1D/2D (`upsampling`) and Reshape (`reshape`, a copy: values stay in row-major order)."""
import numbers

import numpy as np

from fitcore.data.validation import check_choice, check_data_format, check_int_tuple, check_positive_int
from fitcore.layers.layer import Layer
from fitcore.layers.spatial import check_rank, height_first, keras_name


def _shape_text(shape):
    return "(None, " + ", ".join(map(str, shape)) + ")"


class ZeroPadding1D(Layer):
    """Zeros before and after a sequence: (None, steps, channels) -> (None, steps + before + after, channels).

    Args:
        padding: an int (both sides) or a tuple (before, after) of non-negative ints. Default 1.
        data_format: None or "channels_last" (the only layout supported).
        **kwargs: `name`, `trainable`.

    Returns:
        A layer without weights.
    """

    kind = "zero_padding"
    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**keras_name(kwargs, type(self)))
        self.padding = check_int_tuple("padding", padding, 2, low=0, owner=type(self).__name__)
        self.data_format = check_data_format(data_format, owner=type(self).__name__)

    def _pads(self):
        """((top, bottom), (left, right)) of the height-first map."""
        return ((0, 0), self.padding)

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self.rank)
        spatial = input_shape[:-1]
        pads = self._pads()[2 - self.rank:]
        return tuple(d + a + b for d, (a, b) in zip(spatial, pads)) + (input_shape[-1],)

    def op_config(self):
        (top, _), (left, _) = self._pads()
        return {"pad_top": top, "pad_left": left}, {}

    def get_config(self):
        padding = [list(p) if isinstance(p, tuple) else p for p in self.padding]  # as its JSON reads back
        return {**super().get_config(), "padding": padding, "data_format": self.data_format}


class ZeroPadding2D(ZeroPadding1D):
    """Zeros around an image: (None, height, width, channels) -> (None, padded_h, padded_w, channels).

    Args:
        padding: an int (all sides), a tuple of two ints (symmetric height and width padding) or
            ((top, bottom), (left, right)). Default (1, 1).
        data_format: None or "channels_last" (the only layout supported).
        **kwargs: `name`, `trainable`.

    Returns:
        A layer without weights.
    """

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        Layer.__init__(self, **keras_name(kwargs, type(self)))
        cls = type(self).__name__
        if isinstance(padding, (tuple, list)) and len(padding) == 2 and all(
                isinstance(p, (tuple, list)) for p in padding):
            self.padding = tuple(check_int_tuple("padding", p, 2, low=0, owner=cls) for p in padding)
        else:
            height, width = check_int_tuple("padding", padding, 2, low=0, owner=cls)
            self.padding = ((height, height), (width, width))
        self.data_format = check_data_format(data_format, owner=cls)

    def _pads(self):
        return self.padding


class UpSampling1D(Layer):
    """Repeats each step `size` times: (None, steps, channels) -> (None, steps * size, channels).

    Args:
        size: a positive int. Default 2.
        **kwargs: `name`, `trainable`.

    Returns:
        A layer without weights.
    """

    kind = "upsampling"
    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(**keras_name(kwargs, type(self)))
        self.size = check_positive_int("size", size, owner="UpSampling1D")

    def _sizes(self):
        return (self.size,)

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self.rank)
        return tuple(d * s for d, s in zip(input_shape[:-1], self._sizes())) + (input_shape[-1],)

    def op_config(self):
        size_h, size_w = height_first(self._sizes(), self.rank, 1)
        return {"size_h": size_h, "size_w": size_w}, {}

    def get_config(self):
        return {**super().get_config(), "size": list(self.size) if isinstance(self.size, tuple) else self.size}


class UpSampling2D(UpSampling1D):
    """Repeats each row and column of an image: (None, h, w, channels) -> (None, h * size[0], w * size[1], channels).

    Args:
        size: an int or a tuple (rows, columns) of positive ints. Default (2, 2).
        data_format: None or "channels_last" (the only layout supported).
        interpolation: "nearest" (the only one supported).
        **kwargs: `name`, `trainable`.

    Returns:
        A layer without weights.
    """

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        Layer.__init__(self, **keras_name(kwargs, type(self)))
        self.size = check_int_tuple("size", size, 2, owner="UpSampling2D")
        self.data_format = check_data_format(data_format, owner="UpSampling2D")
        self.interpolation = check_choice("interpolation", interpolation, ("nearest",), owner="UpSampling2D",
                                          fold_case=True)

    def _sizes(self):
        return self.size

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "interpolation": self.interpolation}


class Reshape(Layer):
    """Gives each sample a new shape with the same number of values, in the same row-major order.

    Args:
        target_shape: the per-sample shape (no batch axis), a tuple of positive ints with at most
            one -1 (inferred from the input's size).
        **kwargs: `name`, `trainable`.

    Returns:
        A layer without weights.
    """

    kind = "reshape"

    def __init__(self, target_shape, **kwargs):
        super().__init__(**keras_name(kwargs, type(self)))
        if not isinstance(target_shape, (tuple, list)) or not target_shape or not all(
                isinstance(d, numbers.Integral) and not isinstance(d, bool) and (d > 0 or d == -1)
                for d in target_shape) or list(target_shape).count(-1) > 1:
            raise ValueError(f"Reshape: `target_shape` must be a non-empty tuple of positive ints with at most one "
                             f"-1, got {target_shape!r}")
        self.target_shape = tuple(int(d) for d in target_shape)

    def compute_output_shape(self, input_shape):
        size = int(np.prod(input_shape, dtype=np.int64))
        known = int(np.prod([d for d in self.target_shape if d != -1], dtype=np.int64))
        shape = tuple(size // known if d == -1 else d for d in self.target_shape)
        if int(np.prod(shape, dtype=np.int64)) != size:
            raise ValueError(f"{self.name}: cannot reshape inputs of shape {_shape_text(input_shape)} ({size} values "
                             f"per sample) to `target_shape` {self.target_shape}")
        return shape

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}

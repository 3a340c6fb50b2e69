"""Argument checks and shape arithmetic shared by the convolution, pooling and reshaping layers
(channels_last feature maps: (steps, channels) or (height, width, channels) per sample)."""
import numbers
import re

from fitcore.layers.layer import unique_name


def keras_name(kwargs, cls):
    """kwargs with Keras's automatic layer name when none was given: Keras's snake case keeps a
    digit with its neighbours ("conv2d", "max_pooling2d", not "conv2_d")."""
    if kwargs.get("name") is None:
        base = re.sub("([a-z])([A-Z])", r"\1_\2", re.sub("(.)([A-Z][a-z]+)", r"\1_\2", cls.__name__)).lower()
        kwargs = {**kwargs, "name": unique_name(base)}
    return kwargs


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def int_tuple(cls, arg, value, n, minimum=1):
    """`value` (an int, or a tuple/list of `n` ints) as a tuple of `n` ints, each at least `minimum`;
    ValueError naming the argument otherwise."""
    items = (value,) * n if _is_int(value) else value
    if not isinstance(items, (tuple, list)) or len(items) != n or not all(
            _is_int(v) and v >= minimum for v in items):
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{cls}: `{arg}` must be a {kind} int or a tuple of {n} {kind} ints, got {value!r}")
    return tuple(int(v) for v in items)


def check_padding(cls, padding, allowed=("valid", "same")):
    """'valid' / 'same' (any case, as Keras), or one of `allowed`."""
    if not isinstance(padding, str) or padding.lower() not in allowed:
        raise ValueError(f"{cls}: `padding` must be one of {', '.join(repr(a) for a in allowed)}, got {padding!r}")
    return padding.lower()


def check_data_format(cls, data_format):
    """Only channels_last feature maps are supported (Keras's default)."""
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{cls}: only `data_format` None or 'channels_last' is supported, got {data_format!r}")
    return "channels_last"


def check_rank(layer, input_shape, rank):
    """Per-sample inputs of `rank` spatial axes plus channels; ValueError naming the layer otherwise."""
    expected = "(None, steps, channels)" if rank == 1 else "(None, height, width, channels)"
    if not isinstance(input_shape, tuple) or len(input_shape) != rank + 1:
        got = input_shape if not isinstance(input_shape, tuple) else "(None, " + ", ".join(map(str, input_shape)) + ")"
        raise ValueError(f"{layer.name}: expects inputs of shape {expected}, got {got}")


def window_output(size, window, stride, dilation, padding):
    """Output length and padding before, as Keras (and XLA's 'SAME'): 'valid' keeps whole windows,
    'same' gives ceil(size / stride) with the padding split evenly, the extra one after; 'causal'
    pads before only."""
    span = (window - 1) * dilation + 1
    if padding == "valid":
        return (size - span) // stride + 1 if size >= span else 0, 0
    if padding == "causal":
        return (size - 1) // stride + 1, span - 1
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return out, total // 2


def spatial_output(layer, input_shape, windows, strides, dilations, padding, what):
    """(output spatial shape, padding before per axis); ValueError when an axis would be empty."""
    sizes, pads = [], []
    for axis, (size, window, stride, dilation) in enumerate(zip(input_shape[:-1], windows, strides, dilations)):
        out, pad = window_output(size, window, stride, dilation, padding)
        if out < 1:
            raise ValueError(f"{layer.name}: the {what} {tuple(windows)} (dilation {tuple(dilations)}) does not fit "
                             f"inputs of shape (None, {', '.join(map(str, input_shape))}) with padding='{padding}': "
                             f"axis {axis + 1} would have size {out}")
        sizes.append(out)
        pads.append(pad)
    return tuple(sizes), tuple(pads)


def height_first(values, rank, fill):
    """Per-axis settings as (height, width): a 1-D layer works on a height-1 map."""
    return (fill,) + tuple(values) if rank == 1 else tuple(values)

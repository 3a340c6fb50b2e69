"""Shape arithmetic shared by the convolution, pooling and reshaping layers (channels_last feature
maps: (steps, channels) or (height, width, channels) per sample); their argument checks are in
fitcore.data.validation."""
import re

from fitcore.layers.layer import unique_name


def keras_name(kwargs, cls):
    """kwargs with Keras's automatic layer name when none was given: Keras's snake case keeps a
    digit with its neighbours ("conv2d", "max_pooling2d", not "conv2_d")."""
    if kwargs.get("name") is None:
        base = re.sub("([a-z])([A-Z])", r"\1_\2", re.sub("(.)([A-Z][a-z]+)", r"\1_\2", cls.__name__)).lower()
        kwargs = {**kwargs, "name": unique_name(base)}
    return kwargs


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

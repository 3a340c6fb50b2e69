import numbers

from fitcore.layers.merging import Merge, _shown


class Dot(Merge):
    """The dot product of two inputs along one axis of each, per sample (Keras's Dot / batch_dot).

    With inputs of shapes (batch, 5) and (batch, 5) and axes=1 the output is (batch, 1); with
    (batch, 3, 5) and (batch, 10, 3) and axes=(1, 2) it is (batch, 5, 10): the first input's
    remaining axes, then the second's. Inputs have per-sample rank 1 or 2.

    Args:
        axes: an int, or a pair (axis of the first input, axis of the second), counting the batch
            axis as 0 (negative values count from the end).
        normalize: L2-normalize each input along its axis first (as Keras: scaled by
            min(1/||v||, 1e7)), so the output holds cosine similarities.
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`).

    Returns:
        Called on a list of two tensors, their dot product.
    """

    kind = "dot"

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        pair = list(axes) if isinstance(axes, (list, tuple)) else None
        if pair is None and not _is_int(axes):
            raise TypeError(f"Invalid type for argument `axes`: it should be a list or an int. Received: axes={axes}")
        if pair is not None and len(pair) != 2:
            raise ValueError(f"Invalid format for argument `axes`: it should contain two elements. Received: "
                             f"axes={axes}")
        if pair is not None and not all(_is_int(a) for a in pair):
            raise ValueError(f"Invalid format for argument `axes`: list elements should be integers. Received: "
                             f"axes={axes}")
        self.axes = int(axes) if pair is None else [int(a) for a in pair]
        self.normalize = bool(normalize)

    def _sample_axes(self, shapes):
        """Each input's contraction axis within its per-sample shape (Keras's axes count the batch)."""
        pair = self.axes if isinstance(self.axes, list) else [self.axes, self.axes]
        resolved = []
        for a, shape in zip(pair, shapes):
            full_rank = len(shape) + 1
            full = a % full_rank if a < 0 else a
            if not 1 <= full < full_rank:
                raise ValueError(f"{self.name}: Dot(axes={self.axes}) is outside the input of shape {_shown(shape)} "
                                 f"(axis 0 is the batch)")
            resolved.append(full - 1)
        return resolved

    def _merged_shape(self, shapes):
        if len(shapes) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: "
                             f"{len(shapes)} inputs")
        if any(len(s) not in (1, 2) for s in shapes):
            raise ValueError(f"{self.name}: fitcore's Dot takes inputs of per-sample rank 1 or 2, got "
                             f"{', '.join(_shown(s) for s in shapes)}")
        a0, a1 = self._sample_axes(shapes)
        if shapes[0][a0] != shapes[1][a1]:
            raise ValueError(f"Incompatible input shapes: axis values {shapes[0][a0]} (at axis {a0 + 1}) != "
                             f"{shapes[1][a1]} (at axis {a1 + 1}). Full input shapes: "
                             f"{_shown(shapes[0])}, {_shown(shapes[1])}")
        out = shapes[0][:a0] + shapes[0][a0 + 1:] + shapes[1][:a1] + shapes[1][a1 + 1:]
        return out or (1,)

    def op_config(self):
        a0, a1 = self._sample_axes(self.input_shape)
        return {"axis_0": float(a0), "axis_1": float(a1), "normalize": float(self.normalize)}, {}

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)

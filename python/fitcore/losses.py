"""Losses: Python classes hold configuration and check targets; the math is the core's
(cpp/src/losses.cpp). Reduction is Keras 3's sum_over_batch_size: the sum of weighted
per-element losses divided by the number of elements."""
import numpy as np

from fitcore.data.validation import check_core_computed, python_defined


class Loss:
    """Base class. `core_name` names the core kernel; `sparse` losses take integer class ids."""

    core_name = None
    sparse = False

    def __init__(self, name=None, from_logits=False, reduction="sum_over_batch_size"):
        if python_defined(type(self), "call"):  # at construction: the user's call() would never run
            check_core_computed(self, "loss", _BY_NAME)
        if reduction != "sum_over_batch_size":
            raise ValueError(f"{type(self).__name__}: only reduction='sum_over_batch_size' is supported, "
                             f"got {reduction!r}")
        self.name = name or self.core_name
        self.from_logits = bool(from_logits)

    def core_config(self):
        return {"from_logits": float(self.from_logits)}

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits}

    def target_width(self, output_shape):
        """Floats per sample in this loss's targets for a per-sample output shape."""
        width = int(np.prod(output_shape))
        return width // output_shape[-1] if self.sparse else width

    def check_targets(self, y, output_shape, arg, output_name):
        """Returns y (n, ...) matching the output (class ids for sparse losses), or raises ValueError naming `arg`."""
        expected = tuple(output_shape[:-1]) if self.sparse else tuple(output_shape)
        got = tuple(y.shape[1:])
        squeezable = got == expected + (1,) or (got == () and expected == (1,)) or (
            self.sparse and got == () and expected == ())
        if got != expected and not squeezable:
            shown = expected + (1,) if self.sparse else expected
            raise ValueError(f"`{arg}` for output '{output_name}' ({type(self).__name__}) must have shape "
                             f"(n, {', '.join(map(str, shown))}) to match the model output of shape "
                             f"(None, {', '.join(map(str, output_shape))}); got {y.shape}")
        if self.sparse:
            classes = output_shape[-1]
            bad = (y < 0) | (y >= classes)
            if y.dtype.kind == "f":
                bad |= y != np.floor(y)
            if np.any(bad):
                raise ValueError(f"`{arg}` for output '{output_name}' holds labels outside [0, {classes}) "
                                 f"(or non-integers): e.g. {y[bad].flat[0]!r}")
        return y


class MeanSquaredError(Loss):
    core_name = "mean_squared_error"

    def __init__(self, name="mean_squared_error", reduction="sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)

    def get_config(self):
        return {"name": self.name}


class MeanAbsoluteError(Loss):
    core_name = "mean_absolute_error"

    def __init__(self, name="mean_absolute_error", reduction="sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)

    def get_config(self):
        return {"name": self.name}


class Huber(Loss):
    """Keras's Huber: 0.5 d^2 where |d| <= delta, else delta * (|d| - 0.5 delta); mean over the last axis."""

    core_name = "huber"

    def __init__(self, delta=1.0, name="huber_loss", reduction="sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)
        if isinstance(delta, bool) or not isinstance(delta, (int, float, np.floating)) or not delta > 0 \
                or not np.isfinite(delta):
            raise ValueError(f"Huber: `delta` must be a positive float, got {delta!r}")
        self.delta = float(delta)

    def core_config(self):
        return {"delta": self.delta}

    def get_config(self):
        return {"name": self.name, "delta": self.delta}


class _SmoothedCrossentropy(Loss):
    def __init__(self, from_logits=False, label_smoothing=0.0, name=None, reduction="sum_over_batch_size"):
        super().__init__(name=name, from_logits=from_logits, reduction=reduction)
        if not 0.0 <= float(label_smoothing) <= 1.0:
            raise ValueError(f"{type(self).__name__}: `label_smoothing` must be in [0, 1], got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)

    def core_config(self):
        return {**super().core_config(), "label_smoothing": self.label_smoothing}

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


class BinaryCrossentropy(_SmoothedCrossentropy):
    core_name = "binary_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0, name="binary_crossentropy", **kwargs):
        super().__init__(from_logits, label_smoothing, name, **kwargs)


class CategoricalCrossentropy(_SmoothedCrossentropy):
    core_name = "categorical_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0, name="categorical_crossentropy", **kwargs):
        super().__init__(from_logits, label_smoothing, name, **kwargs)


class SparseCategoricalCrossentropy(Loss):
    core_name = "sparse_categorical_crossentropy"
    sparse = True

    def __init__(self, from_logits=False, name="sparse_categorical_crossentropy", **kwargs):
        super().__init__(name=name, from_logits=from_logits, **kwargs)


_BY_NAME = {
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "huber": Huber,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
_BY_CLASS_NAME = {cls.__name__: cls for cls in _BY_NAME.values()}


def get(identifier):
    """A Loss from a name (Keras's function or class names), a Loss class or a Loss instance.

    Args:
        identifier: the name, class or instance.

    Returns:
        A Loss the core computes.

    Raises:
        ValueError: an unknown name.
        TypeError: a Python-defined loss (a function, a subclass with call()), which the core cannot differentiate.
    """
    if isinstance(identifier, Loss):
        check_core_computed(identifier, "loss", _BY_NAME)
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier) or _BY_CLASS_NAME.get(identifier)
        if cls is not None:
            return cls()
    valid = sorted(set(_BY_NAME) | set(_BY_CLASS_NAME))
    if callable(identifier) and not isinstance(identifier, type):
        raise TypeError(f"Unknown loss {identifier!r}: fitcore losses run in the C++ core, which computes their "
                        f"gradients; Python-defined loss functions are not supported. Use one of: {', '.join(valid)}")
    raise ValueError(f"Unknown loss {identifier!r}; valid losses are: {', '.join(valid)}")

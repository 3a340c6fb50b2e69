"""Losses: Python classes hold configuration and check targets; the math is the core's
(cpp/src/losses.cpp). Reduction is Keras 3's sum_over_batch_size: the sum of weighted
per-element losses divided by the number of elements."""
import numpy as np

from fitcore.data.validation import check_core_computed, check_real, python_defined


class Loss:
    """Base class of the losses. `core_name` names the core kernel (the loss's math and its
    gradient); the class holds configuration and checks targets. Reduction is Keras 3's
    sum_over_batch_size. A Python subclass with its own `call` cannot train: the core cannot
    differentiate it.

    Args:
        name: the loss's name.
        from_logits: whether predictions are logits (where the loss has the option).
        reduction: only "sum_over_batch_size" (Keras's default)."""

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
        """The core kernel's numeric settings.

        Returns:
            A dict of floats."""
        return {"from_logits": float(self.from_logits)}

    def get_config(self):
        """The loss's configuration, JSON-able: `type(loss)(**loss.get_config())` rebuilds it.

        Returns:
            A dict."""
        return {"name": self.name, "from_logits": self.from_logits}

    def target_width(self, output_shape):
        """Floats per sample in this loss's targets for a per-sample output shape.

        Args:
            output_shape: the output's per-sample shape.

        Returns:
            An int (class ids for sparse losses: one per prediction row)."""
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
    """Mean of squares of errors between labels and predictions over the last axis.

    Args:
        name: the loss's name.
        reduction: only "sum_over_batch_size" (Keras's default)."""
    core_name = "mean_squared_error"

    def __init__(self, name="mean_squared_error", reduction="sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)

    def get_config(self):
        return {"name": self.name}


class MeanAbsoluteError(Loss):
    """Mean of absolute errors between labels and predictions over the last axis.

    Args:
        name: the loss's name.
        reduction: only "sum_over_batch_size" (Keras's default)."""
    core_name = "mean_absolute_error"

    def __init__(self, name="mean_absolute_error", reduction="sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)

    def get_config(self):
        return {"name": self.name}


class Huber(Loss):
    """Keras's Huber loss: 0.5 d^2 where |d| <= delta, else delta * (|d| - 0.5 delta); mean over
    the last axis.

    Args:
        delta: positive float, where the loss turns from quadratic to linear.
        name: the loss's name.
        reduction: only "sum_over_batch_size" (Keras's default)."""

    core_name = "huber"

    def __init__(self, delta=1.0, name="huber_loss", reduction="sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)
        self.delta = check_real("delta", delta, low=0, low_open=True, owner="Huber")

    def core_config(self):
        return {"delta": self.delta}

    def get_config(self):
        return {"name": self.name, "delta": self.delta}


class _SmoothedCrossentropy(Loss):
    def __init__(self, from_logits=False, label_smoothing=0.0, name=None, reduction="sum_over_batch_size"):
        super().__init__(name=name, from_logits=from_logits, reduction=reduction)
        self.label_smoothing = check_real("label_smoothing", label_smoothing, low=0, high=1,
                                          owner=type(self).__name__)

    def core_config(self):
        return {**super().core_config(), "label_smoothing": self.label_smoothing}

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


class BinaryCrossentropy(_SmoothedCrossentropy):
    """Cross-entropy of 0/1 labels and probabilities (or logits), mean over the last axis;
    probabilities are clipped to [1e-7, 1 - 1e-7] as Keras does.

    Args:
        from_logits: whether predictions are logits.
        label_smoothing: float in [0, 1]: labels move towards 0.5 by this much.
        name: the loss's name.
        **kwargs: `reduction` (only "sum_over_batch_size")."""
    core_name = "binary_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0, name="binary_crossentropy", **kwargs):
        super().__init__(from_logits, label_smoothing, name, **kwargs)


class CategoricalCrossentropy(_SmoothedCrossentropy):
    """Cross-entropy of one-hot labels and a probability distribution (or logits) over the last
    axis; probabilities are renormalised and clipped as Keras does.

    Args:
        from_logits: whether predictions are logits.
        label_smoothing: float in [0, 1]: labels move towards uniform by this much.
        name: the loss's name.
        **kwargs: `reduction` (only "sum_over_batch_size")."""
    core_name = "categorical_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0, name="categorical_crossentropy", **kwargs):
        super().__init__(from_logits, label_smoothing, name, **kwargs)


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy of integer class ids and a probability distribution (or logits) over the
    last axis.

    Args:
        from_logits: whether predictions are logits.
        name: the loss's name.
        **kwargs: `reduction` (only "sum_over_batch_size")."""
    core_name = "sparse_categorical_crossentropy"
    sparse = True

    def __init__(self, from_logits=False, name="sparse_categorical_crossentropy", **kwargs):
        super().__init__(name=name, from_logits=from_logits, **kwargs)


class _PlainLoss(Loss):
    """A loss configured by its name alone (Keras's LossFunctionWrapper around a loss function)."""

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name or self.core_name, reduction=reduction)

    def core_config(self):
        return {}

    def get_config(self):
        return {"name": self.name}


class MeanAbsolutePercentageError(_PlainLoss):
    """Keras's mean absolute percentage error: `100 * mean(abs((y_true - y_pred) / max(abs(y_true), 1e-7)))`
    over the last axis.

    Args:
        reduction: only "sum_over_batch_size" (Keras's default).
        name: the loss's name.
        dtype: accepted for Keras compatibility (the core computes in float32).
    """

    core_name = "mean_absolute_percentage_error"


class MeanSquaredLogarithmicError(_PlainLoss):
    """Keras's mean squared logarithmic error: `mean(square(log(max(y_pred, 1e-7) + 1) -
    log(max(y_true, 1e-7) + 1)))` over the last axis.

    Args:
        reduction: only "sum_over_batch_size" (Keras's default).
        name: the loss's name.
        dtype: accepted for Keras compatibility.
    """

    core_name = "mean_squared_logarithmic_error"


class CosineSimilarity(_PlainLoss):
    """Keras's cosine similarity loss: `-sum(l2_normalize(y_true) * l2_normalize(y_pred))` over the
    last axis (l2_normalize scales by min(1/||v||, 1e7)); -1 for identical directions.

    Args:
        axis: only -1, the last axis.
        reduction: only "sum_over_batch_size" (Keras's default).
        name: the loss's name.
        dtype: accepted for Keras compatibility.
    """

    core_name = "cosine_similarity"

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(name=name, reduction=reduction)
        if axis != -1:
            raise ValueError(f"CosineSimilarity: fitcore supports axis=-1 (the last axis), got axis={axis!r}")
        self.axis = -1

    def get_config(self):
        return {"name": self.name, "axis": self.axis}


class LogCosh(_PlainLoss):
    """Keras's log-cosh loss: `mean(x + softplus(-2x) - log(2))` with `x = y_pred - y_true`, over the
    last axis (log(cosh(x)), computed without overflow).

    Args:
        reduction: only "sum_over_batch_size" (Keras's default).
        name: the loss's name.
        dtype: accepted for Keras compatibility.
    """

    core_name = "log_cosh"


class KLDivergence(_PlainLoss):
    """Keras's Kullback-Leibler divergence: `sum(y_true * log(y_true / y_pred))` over the last axis,
    both clipped to [1e-7, 1].

    Args:
        reduction: only "sum_over_batch_size" (Keras's default).
        name: the loss's name.
        dtype: accepted for Keras compatibility.
    """

    core_name = "kl_divergence"


class Poisson(_PlainLoss):
    """Keras's Poisson loss: `mean(y_pred - y_true * log(y_pred + 1e-7))` over the last axis.

    Args:
        reduction: only "sum_over_batch_size" (Keras's default).
        name: the loss's name.
        dtype: accepted for Keras compatibility.
    """

    core_name = "poisson"


class Hinge(_PlainLoss):
    """Keras's hinge loss: `mean(maximum(1 - y_true * y_pred, 0))` over the last axis. Targets are
    -1 or 1; when every target of a batch is 0 or 1 they are taken as {0, 1} labels and mapped to
    {-1, 1}, as Keras does.

    Args:
        reduction: only "sum_over_batch_size" (Keras's default).
        name: the loss's name.
        dtype: accepted for Keras compatibility.
    """

    core_name = "hinge"


class SquaredHinge(_PlainLoss):
    """Keras's squared hinge loss: `mean(square(maximum(1 - y_true * y_pred, 0)))` over the last
    axis, with Hinge's {0, 1} -> {-1, 1} label mapping.

    Args:
        reduction: only "sum_over_batch_size" (Keras's default).
        name: the loss's name.
        dtype: accepted for Keras compatibility.
    """

    core_name = "squared_hinge"


class CategoricalHinge(_PlainLoss):
    """Keras's categorical hinge loss: `maximum(neg - pos + 1, 0)` with `pos = sum(y_true * y_pred)`
    and `neg = max((1 - y_true) * y_pred)` over the last axis (one-hot targets).

    Args:
        reduction: only "sum_over_batch_size" (Keras's default).
        name: the loss's name.
        dtype: accepted for Keras compatibility.
    """

    core_name = "categorical_hinge"


_BY_NAME = {
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "huber": Huber,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError, "mape": MeanAbsolutePercentageError,
    "MAPE": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError, "msle": MeanSquaredLogarithmicError,
    "MSLE": MeanSquaredLogarithmicError,
    "cosine_similarity": CosineSimilarity, "log_cosh": LogCosh, "logcosh": LogCosh,
    "kl_divergence": KLDivergence, "kld": KLDivergence, "KLD": KLDivergence,
    "kullback_leibler_divergence": KLDivergence, "poisson": Poisson,
    "hinge": Hinge, "squared_hinge": SquaredHinge, "categorical_hinge": CategoricalHinge,
    "MSE": MeanSquaredError, "MAE": MeanAbsoluteError,
}
_BY_CLASS_NAME = {cls.__name__: cls for cls in _BY_NAME.values()}


def get(identifier, owner=None):
    """A Loss from a name (Keras's function or class names), a Loss class or a Loss instance: the one
    place every loss passes (compile too) before the core computes it.

    Args:
        identifier: the name, class or instance.
        owner: the function whose argument it is (e.g. "compile"), prefixed to a TypeError's message.

    Returns:
        A Loss the core computes.

    Raises:
        ValueError: an unknown name.
        TypeError: a Python-defined loss (a function, a subclass with call() or naming no core kernel),
            which the core cannot differentiate.
    """
    valid = sorted(set(_BY_NAME) | set(_BY_CLASS_NAME))
    if isinstance(identifier, Loss) or (isinstance(identifier, type) and issubclass(identifier, Loss)):
        cls = identifier if isinstance(identifier, type) else type(identifier)
        if getattr(identifier, "core_name", None) is None or python_defined(cls, "call"):
            what = f"the Loss subclass {cls.__name__}"
        else:
            return identifier() if isinstance(identifier, type) else identifier
    elif isinstance(identifier, str):
        cls = _BY_NAME.get(identifier) or _BY_CLASS_NAME.get(identifier)
        if cls is None:
            raise ValueError(f"Unknown loss {identifier!r}; valid losses are: {', '.join(valid)}")
        return cls()
    elif callable(identifier) and not isinstance(identifier, type):
        what = f"the Python function {getattr(identifier, '__name__', type(identifier).__name__)!r}"
    else:
        raise ValueError(f"Unknown loss {identifier!r}; valid losses are: {', '.join(valid)}")
    raise TypeError(f"{f'{owner}: ' if owner else ''}`loss` is {what}; fitcore's core computes the gradients of its "
                    f"own losses only and cannot differentiate Python code. Available losses: {', '.join(valid)}. "
                    f"(Python-defined *metrics* work: they need no gradient.)")

"""MonitorCallback: "is this value an improvement" for the callbacks that watch a logged quantity
(EarlyStopping, ModelCheckpoint, ReduceLROnPlateau), written once as Keras 3's MonitorCallback.
The direction comes from `mode` and, for "auto", from the quantity's metric or name."""
import warnings

from fitcore.callbacks.callback import Callback
from fitcore.data.validation import check_real

_MODES = ("auto", "min", "max")
# Name fragments of quantities that improve downwards / upwards, for mode="auto".
_DOWN = ("loss", "error", "crossentropy", "hinge", "poisson", "divergence", "logcosh", "mse", "mae", "mape",
         "msle")
_UP = ("acc", "auc", "precision", "recall", "iou", "f1", "fbeta", "r2")


def check_mode(owner, mode):
    """`mode` if it is "auto", "min" or "max", else ValueError naming the callback.

    Args:
        owner: the callback's class name.
        mode: its `mode` argument.

    Returns:
        `mode`.
    """
    if mode not in _MODES:
        raise ValueError(f"{owner}: `mode` must be 'auto', 'min' or 'max', got {mode!r}")
    return mode


def _compiled_metric(model, name):
    config = getattr(model, "_compile_config", None)
    for group in (getattr(config, "metrics", []) or []) + (getattr(config, "weighted_metrics", []) or []):
        for metric in group:
            if getattr(metric, "name", None) == name:
                return metric
    return None


def direction(owner, model, monitor, mode):
    """Which way `monitor` improves.

    Args:
        owner: the callback's class name (for the error).
        model: the model (its compiled metrics may declare a direction).
        monitor: the log key.
        mode: "min", "max" or "auto": from a compiled metric's `direction` attribute if it has
            one, else from the name (losses and errors go down, accuracies up), as Keras.

    Returns:
        "min" or "max"; ValueError when "auto" cannot tell.
    """
    if mode != "auto":
        return mode
    name = monitor[4:] if monitor.startswith("val_") else monitor
    metric = _compiled_metric(model, name)
    declared = getattr(metric, "direction", None) or getattr(metric, "_direction", None)
    if declared in ("up", "down"):
        return "max" if declared == "up" else "min"
    lowered = name.lower()
    if any(part in lowered for part in _DOWN):
        return "min"
    if any(part in lowered for part in _UP):
        return "max"
    raise ValueError(f"{owner}: cannot tell whether `monitor`={monitor!r} should be minimized or maximized; "
                     "pass mode='min' or mode='max'")


def monitored_value(owner, logs, monitor):
    """The monitored value from the epoch logs.

    Args:
        owner: the callback's class name (for the warning).
        logs: the epoch's logs.
        monitor: the log key.

    Returns:
        The value, or None with a warning naming the available keys.
    """
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(f"{owner} is conditioned on `{monitor}`, which is not in the logs; available: "
                      f"{', '.join(logs or {})}", stacklevel=3)
    return value


class MonitorCallback(Callback):
    """Base class of the callbacks that watch a logged quantity and act when it improves (or not).

    Args:
        monitor: the log key to watch ("val_loss", "accuracy", ...).
        mode: "min", "max" or "auto" (from the quantity: losses and errors go down, accuracies up).
        baseline: the reference the first value must beat, or None (the first value is the best).
        min_delta: how much better than the reference a value must be to count (its absolute
            value is used); a tie is never an improvement.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        owner = type(self).__name__
        if not isinstance(monitor, str):
            raise TypeError(f"{owner}: `monitor` must be a log key (str), got {monitor!r}")
        self.monitor = monitor
        self.mode = check_mode(owner, mode)
        self.best = check_real("baseline", baseline, allow_none=True, owner=owner)
        self.min_delta = abs(check_real("min_delta", min_delta, owner=owner))
        self._increasing = None

    @property
    def increasing(self):
        """True when larger values of the monitored quantity are better (resolved on first use)."""
        if self._increasing is None:
            self._increasing = direction(type(self).__name__, self.model, self.monitor, self.mode) == "max"
        return self._increasing

    def _is_improvement(self, value, reference):
        """Whether `value` beats `reference` (None: anything does) by more than min_delta.

        Args:
            value: the monitored quantity now.
            reference: the best so far, a baseline, or None.

        Returns:
            True for an improvement.
        """
        increasing = self.increasing  # resolved even against None, so a bad `monitor` fails at once
        if reference is None:
            return True
        return value - self.min_delta > reference if increasing else value + self.min_delta < reference

    def _monitored(self, logs):
        """The monitored value from the epoch logs, or None with a warning naming the available keys."""
        return monitored_value(type(self).__name__, logs, self.monitor)

"""Which way a monitored quantity should go (shared by EarlyStopping, ModelCheckpoint and
ReduceLROnPlateau), decided once from `mode` and, for "auto", from the quantity's name."""
import warnings

_MODES = ("auto", "min", "max")
# Name fragments of quantities that improve downwards / upwards, for mode="auto".
_DOWN = ("loss", "error", "crossentropy", "hinge", "poisson", "divergence", "logcosh", "mse", "mae", "mape",
         "msle")
_UP = ("acc", "auc", "precision", "recall", "iou", "f1", "fbeta", "r2")


def check_mode(owner, mode):
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
    """'min' or 'max' for `monitor`; for mode='auto' from a compiled metric's `direction` attribute
    if it has one, else from its name (losses and errors go down, accuracies up), as Keras."""
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
    """The monitored value from the epoch logs, or None with a warning naming the available keys."""
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(f"{owner} is conditioned on `{monitor}`, which is not in the logs; available: "
                      f"{', '.join(logs or {})}", stacklevel=3)
    return value

"""Metrics written in Python: computed on numpy arrays, batch by batch, beside the core's own.

Two kinds, as Keras accepts them in `compile(metrics=...)`:
- a subclass of `fc.metrics.Metric` implementing `update_state(y_true, y_pred, sample_weight=None)`,
  `result()` and `reset_state()` (state in plain attributes or in `self.add_variable(...)`);
- a function `fn(y_true, y_pred)` returning a value per sample (or per element), averaged over the
  epoch with the sample weights as Keras's MeanMetricWrapper does; it logs under `fn.__name__`.

They see each batch's targets and the model's predictions for it (float32 numpy arrays). The core
cannot run them inside its long runs of steps, so a fit that has one goes step by step in Python:
slower, with the same batches in the same order. In training, the predictions are the model's
inference-mode outputs for the batch just before its update (dropout and noise off), where Keras
uses the training pass's own outputs; models without dropout, noise or BatchNormalization get the
same values.
"""
import numpy as np

from fitcore import metrics as metrics_module
from fitcore.layers.layer import snake_case


class MetricVariable(np.ndarray):
    """A Python metric's state: a numpy array with Keras's variable methods."""

    @classmethod
    def create(cls, shape, initializer, dtype, name):
        """A new variable.

        Args:
            shape: its shape.
            initializer: "zeros", "ones" or a number.
            dtype: numpy dtype (None: float64).
            name: its name.

        Returns:
            The variable, holding its initial value.
        """
        if isinstance(initializer, str):
            if initializer not in ("zeros", "ones"):
                raise ValueError(f"add_variable: `initializer` must be 'zeros', 'ones' or a number, "
                                 f"got {initializer!r}")
            initializer = 0.0 if initializer == "zeros" else 1.0
        variable = np.full(shape, initializer, dtype or np.float64).view(cls)
        variable.initial, variable.name = float(initializer), name
        return variable

    def __array_finalize__(self, obj):
        self.initial = getattr(obj, "initial", 0.0)
        self.name = getattr(obj, "name", None)

    def assign(self, value):
        """Sets the value.

        Args:
            value: a number or array of the variable's shape.

        Returns:
            The variable.
        """
        self[...] = value
        return self

    def assign_add(self, value):
        """Adds to the value.

        Args:
            value: a number or array of the variable's shape.

        Returns:
            The variable.
        """
        self[...] += np.asarray(value)
        return self

    def assign_sub(self, value):
        """Subtracts from the value.

        Args:
            value: a number or array of the variable's shape.

        Returns:
            The variable.
        """
        self[...] -= np.asarray(value)
        return self

    @property
    def value(self):
        """The value as a plain numpy array."""
        return np.asarray(self)

    def numpy(self):
        """The value.

        Returns:
            A plain numpy array (a copy).
        """
        return np.array(self)

    def reset(self):
        """Back to the initial value."""
        self[...] = self.initial


def is_python_metric(metric):
    """True for a metric the core cannot compute: a user's `fc.metrics.Metric` subclass (no core
    kernel, its own `update_state`) or a plain function.

    Args:
        metric: what compile() was given (after names were not found).

    Returns:
        True or False.
    """
    if isinstance(metric, type) and issubclass(metric, metrics_module.Metric):
        return metric.core_name is None and callable(getattr(metric, "update_state", None))
    if isinstance(metric, metrics_module.Metric):
        return type(metric).core_name is None and callable(getattr(metric, "update_state", None))
    return callable(metric) and not isinstance(metric, (str, dict))


def wrap(metric):
    """The compile-time form of a Python metric.

    Args:
        metric: a `fc.metrics.Metric` subclass (or instance) with `update_state`, or a function
            `fn(y_true, y_pred)`.

    Returns:
        A `PythonMetric` whose `name` is what History logs: the metric's `name` (by default its
        class name in snake_case, as Keras), or the function's `__name__`.
    """
    if isinstance(metric, type):
        metric = metric()
    if isinstance(metric, metrics_module.Metric):
        if not getattr(metric, "name", None):  # also when the subclass skipped super().__init__()
            metric.name = snake_case(type(metric).__name__)
        return PythonMetric(metric)
    return PythonMetric(MeanMetricWrapper(metric))


class MeanMetricWrapper:
    """Keras's MeanMetricWrapper on numpy: the weighted mean, over the samples seen, of a function's
    per-sample values (values beyond the weights' rank are averaged first).

    Args:
        fn: `fn(y_true, y_pred)` returning an array with a batch axis, or a scalar (one value for
            the batch, weighing as one sample).
        name: the logged name (default: the function's `__name__`).
    """

    def __init__(self, fn, name=None):
        self.fn = fn
        self.name = name or getattr(fn, "__name__", None) or snake_case(type(fn).__name__)
        self.reset_state()

    def reset_state(self):
        """Forgets every batch seen."""
        self.total, self.count = 0.0, 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds one batch's values.

        Args:
            y_true: the batch's targets.
            y_pred: the model's predictions for them.
            sample_weight: per-sample (n,) or per-timestep (n, T) weights, or None.
        """
        values = np.asarray(self.fn(y_true, y_pred), np.float64)
        weights = None if sample_weight is None else np.asarray(sample_weight, np.float64)
        if weights is not None:
            if weights.ndim > values.ndim and weights.shape[-1] == 1:
                weights = weights[..., 0]
            if values.ndim > weights.ndim:
                values = values.mean(axis=tuple(range(weights.ndim, values.ndim)))
            weights = np.broadcast_to(weights, values.shape)
            values = values * weights
            if weights.ndim > 1:
                weights = weights.mean(axis=tuple(range(1, weights.ndim)))
        if values.ndim > 1:
            values = values.mean(axis=tuple(range(1, values.ndim)))
        self.total += float(np.sum(values))
        self.count += float(np.sum(weights)) if weights is not None else (values.shape[0] if values.ndim else 1.0)

    def result(self):
        """The weighted mean so far.

        Returns:
            A float (0 before any weight).
        """
        return self.total / self.count if self.count else 0.0


class PythonMetric:
    """One compiled Python metric: what it is, how it logs, and whether weights apply.

    Args:
        metric: an object with `update_state`, `result`, `reset_state` and `name`.
    """

    core_name = None  # computed outside the core

    def __init__(self, metric):
        self.metric = metric
        self.name = metric.name

    def check_shapes(self, target_shape, output_shape, output_name):
        """Nothing to check before the first batch: the metric's own code reads the arrays.

        Args:
            target_shape: the targets' per-sample shape.
            output_shape: the output's per-sample shape.
            output_name: the output's name.
        """

    def reset_state(self):
        """Clears the metric's state (an epoch, an evaluation, one batch's logs)."""
        self.metric.reset_state()

    def update(self, y_true, y_pred, sample_weight):
        """Feeds one batch to the metric.

        Args:
            y_true: the targets of the metric's output (float32, as the core reads them).
            y_pred: the model's predictions for that output.
            sample_weight: the weights when the metric is a weighted metric, else None.
        """
        try:
            self.metric.update_state(y_true, y_pred, sample_weight=sample_weight)
        except TypeError:
            if sample_weight is not None:
                raise
            self.metric.update_state(y_true, y_pred)  # an update_state(y_true, y_pred) without weights

    def result(self):
        """The metric's current value.

        Returns:
            A float.
        """
        return float(np.asarray(self.metric.result(), np.float64))


class PythonMetrics:
    """The Python metrics of a compiled model, fed from each batch the trainer runs.

    Args:
        entries: `(output_index, weighted, PythonMetric)` in compile order.
        positions: where each entry's value goes among the logged names (loss first).
    """

    def __init__(self, entries, positions=()):
        self.entries = entries
        self.positions = list(positions)

    def __bool__(self):
        return bool(self.entries)

    def reset(self):
        """Clears every metric."""
        for _, _, metric in self.entries:
            metric.reset_state()

    def update(self, outputs, targets, weights):
        """Feeds one batch to every metric.

        Args:
            outputs: the model's predictions, one array per output.
            targets: the batch's targets, one array per output.
            weights: the batch's sample weights, one (or None) per output.
        """
        for output, weighted, metric in self.entries:
            metric.update(targets[output], outputs[output], weights[output] if weighted else None)

    def results(self):
        """The current values.

        Returns:
            A list of floats, in compile order.
        """
        return [metric.result() for _, _, metric in self.entries]

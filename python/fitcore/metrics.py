"""Metrics: streaming epoch values computed in the core (cpp/src/metrics.cpp, cpp/src/metrics/).
Mean metrics average a per-element value with the element weights (Keras's MeanMetricWrapper);
AUC, Precision and Recall accumulate weighted confusion counts over the epoch. A metric named by
a string logs under that string, as in Keras ("mse" logs "mse"); "accuracy" is resolved per output
from the target and prediction shapes, as Keras 3 does."""
import numbers

import numpy as np

from fitcore.data.validation import check_int, check_positive_int, check_real
from fitcore.saving.serialization import serialize  # noqa: F401 (fc.metrics.serialize, as in Keras)

EPSILON = 1e-7  # Keras's backend epsilon: AUC's end thresholds lie just outside [0, 1]


class Metric:
    """Base class of the metrics: streaming values accumulated in the core over an epoch.
    `core_name` names the core kernel; `targets` says what targets it reads.

    Args:
        name: the metric's name (what it logs as).
        dtype: accepted for Keras compatibility (the core accumulates in double)."""

    core_name = None
    targets = "same"

    def __init__(self, name=None, dtype=None):
        self.name = name or self.core_name
        self.dtype = dtype  # accepted for Keras compatibility; the core accumulates in double

    def core_config(self):
        """The core kernel's numeric settings.

        Returns:
            A dict of floats."""
        return {}

    def core_strings(self):
        """The core kernel's string settings.

        Returns:
            A dict of strings."""
        return {}

    def get_config(self):
        """JSON-able; `type(self)(**get_config())` rebuilds an equivalent metric."""
        return {"name": self.name}

    def check_shapes(self, target_shape, output_shape, output_name):
        """Checks that an output's targets suit the metric, before any step.

        Args:
            target_shape: the targets' per-sample shape.
            output_shape: the output's per-sample shape.
            output_name: the output's name for the error message."""
        width = int(np.prod(output_shape))
        want = width if self.targets == "same" else width // output_shape[-1]
        if int(np.prod(target_shape)) != want:
            form = "the output's shape" if self.targets == "same" else "one class id per prediction"
            shown = ", ".join(map(str, output_shape if self.targets == "same" else output_shape[:-1]))
            raise ValueError(f"`metrics`: '{self.name}' ({type(self).__name__}) for output '{output_name}' needs `y` "
                             f"with {form}, (n, {shown}); the targets have per-sample shape {tuple(target_shape)}")

    def __repr__(self):
        return f"<{type(self).__name__} {self.get_config()}>"

    # A user's Python metric (a subclass with update_state / result, see trainers/python_metrics.py)
    # keeps its state in plain attributes or in Keras-style variables:
    def add_variable(self, shape=(), initializer="zeros", dtype=None, name=None):
        """A numpy-backed state variable (`assign`, `assign_add`, `assign_sub`, arithmetic), reset
        to its initial value by the default `reset_state`.

        Args:
            shape: the variable's shape.
            initializer: "zeros", "ones" or a number.
            dtype: numpy dtype (default float64).
            name: the variable's name.

        Returns:
            The variable (a numpy array subclass).
        """
        from fitcore.trainers.python_metrics import MetricVariable

        variable = MetricVariable.create(shape, initializer, dtype, name)
        self.__dict__.setdefault("_variables", []).append(variable)
        return variable

    def reset_state(self):
        """Puts every variable made by `add_variable` back to its initial value."""
        for variable in self.__dict__.get("_variables", []):
            variable.reset()


class SparseCategoricalAccuracy(Metric):
    """How often the largest prediction's index equals the integer label.

    Args:
        name: the metric's name.
        dtype: accepted for Keras compatibility."""
    core_name = "sparse_categorical_accuracy"
    targets = "sparse"

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(name, dtype)


class CategoricalAccuracy(Metric):
    """How often the largest prediction's index equals the one-hot label's.

    Args:
        name: the metric's name.
        dtype: accepted for Keras compatibility."""
    core_name = "categorical_accuracy"

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(name, dtype)


class BinaryAccuracy(Metric):
    """How often predictions above `threshold` match 0/1 labels (mean over the last axis).

    Args:
        name: the metric's name.
        dtype: accepted for Keras compatibility.
        threshold: float, the decision threshold."""
    core_name = "binary_accuracy"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(name, dtype)
        self.threshold = check_real("threshold", threshold, owner=type(self).__name__)

    def core_config(self):
        return {"threshold": self.threshold}

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


class TopKCategoricalAccuracy(Metric):
    """Whether the one-hot target's class is among the k largest predictions (ties count as hits).

    Args:
        k: positive int.
        name: the metric's name.
        dtype: accepted for Keras compatibility."""

    core_name = "top_k_categorical_accuracy"

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(name, dtype)
        self.k = check_positive_int("k", k, owner="TopKCategoricalAccuracy")

    def core_config(self):
        return {"k": float(self.k)}

    def get_config(self):
        return {**super().get_config(), "k": self.k}


class MeanSquaredError(Metric):
    """The weighted mean over elements of the mean squared error over the last axis.

    Args:
        name: the metric's name.
        dtype: accepted for Keras compatibility."""
    core_name = "mean_squared_error"

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(name, dtype)


class MeanAbsoluteError(Metric):
    """The weighted mean over elements of the mean absolute error over the last axis.

    Args:
        name: the metric's name.
        dtype: accepted for Keras compatibility."""
    core_name = "mean_absolute_error"

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(name, dtype)


class RootMeanSquaredError(Metric):
    """The square root of the weighted mean over elements of the mean squared error.

    Args:
        name: the metric's name.
        dtype: accepted for Keras compatibility."""

    core_name = "root_mean_squared_error"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype)


def _thresholds_config(thresholds):
    cfg = {"num_thresholds": float(len(thresholds))}
    cfg.update({f"threshold_{i}": float(t) for i, t in enumerate(thresholds)})
    return cfg


def _one_threshold(thresholds, owner):
    """Precision's, Recall's and the condition counts' `thresholds` (None: 0.5), one number in [0, 1]
    (Keras's message for values outside).

    Args:
        thresholds: the argument: a number or a one-entry list.
        owner: the metric class's name.

    Returns:
        The threshold as a float.
    """
    given = 0.5 if thresholds is None else thresholds
    listed = list(given) if isinstance(given, (list, tuple, np.ndarray)) else [given]
    if len(listed) != 1:
        raise ValueError(f"{owner}: fitcore logs one value per metric, so `thresholds` must be one number; "
                         f"got {thresholds!r} (use one {owner} per threshold)")
    invalid = [t for t in listed if t is None or isinstance(t, bool) or not isinstance(t, numbers.Real)
               or not 0 <= t <= 1]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return float(listed[0])


class _ConfusionMetric(Metric):
    """Precision and Recall: weighted counts over every prediction entry, positive when > threshold,
    labels positive when nonzero; `class_id` restricts both to one column of the last axis."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name, dtype)
        owner = type(self).__name__
        if top_k is not None:
            raise ValueError(f"{owner}: `top_k` is not supported by fitcore; got top_k={top_k!r}")
        self.thresholds = _one_threshold(thresholds, owner)
        self.class_id = check_int("class_id", class_id, low=0, allow_none=True, owner=owner)

    def core_config(self):
        cfg = _thresholds_config([self.thresholds])
        if self.class_id is not None:
            cfg["class_id"] = float(self.class_id)
        return cfg

    def check_shapes(self, target_shape, output_shape, output_name):
        super().check_shapes(target_shape, output_shape, output_name)
        if self.class_id is not None and self.class_id >= output_shape[-1]:
            raise ValueError(f"Metric '{self.name}': `class_id`={self.class_id} is outside the {output_shape[-1]} "
                             f"columns of output '{output_name}'")

    def get_config(self):
        return {"name": self.name, "thresholds": self.thresholds, "top_k": None, "class_id": self.class_id}


class Precision(_ConfusionMetric):
    """true positives / (true positives + false positives) over the epoch (0 when nothing is
    predicted positive); a prediction is positive above `thresholds`, a label when nonzero.

    Args:
        thresholds: one float in [0, 1] (default 0.5).
        top_k: only None.
        class_id: restrict to one column of the last axis, or None.
        name: the metric's name.
        dtype: accepted for Keras compatibility."""

    core_name = "precision"


class Recall(_ConfusionMetric):
    """true positives / (true positives + false negatives) over the epoch (0 when no label is
    positive); a prediction is positive above `thresholds`, a label when nonzero.

    Args:
        thresholds: one float in [0, 1] (default 0.5).
        top_k: only None.
        class_id: restrict to one column of the last axis, or None.
        name: the metric's name.
        dtype: accepted for Keras compatibility."""

    core_name = "recall"


class _ConditionCount(Metric):
    """A weighted count of one confusion-matrix condition over the epoch: a prediction is positive
    when > `thresholds`, a label when nonzero (Keras's _ConfusionMatrixConditionCount, one threshold)."""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name or self.core_name, dtype)
        self.thresholds = _one_threshold(thresholds, type(self).__name__)
        self.init_thresholds = thresholds

    def core_config(self):
        return _thresholds_config([self.thresholds])

    def get_config(self):
        return {"name": self.name, "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    """The weighted number of true positives over the epoch.

    Args:
        thresholds: one float in [0, 1] (default 0.5); a prediction above it is positive.
        name: the metric's name (default "true_positives").
        dtype: accepted for Keras compatibility.
    """

    core_name = "true_positives"


class FalsePositives(_ConditionCount):
    """The weighted number of false positives over the epoch.

    Args:
        thresholds: one float in [0, 1] (default 0.5); a prediction above it is positive.
        name: the metric's name (default "false_positives").
        dtype: accepted for Keras compatibility.
    """

    core_name = "false_positives"


class TrueNegatives(_ConditionCount):
    """The weighted number of true negatives over the epoch.

    Args:
        thresholds: one float in [0, 1] (default 0.5); a prediction above it is positive.
        name: the metric's name (default "true_negatives").
        dtype: accepted for Keras compatibility.
    """

    core_name = "true_negatives"


class FalseNegatives(_ConditionCount):
    """The weighted number of false negatives over the epoch.

    Args:
        thresholds: one float in [0, 1] (default 0.5); a prediction above it is positive.
        name: the metric's name (default "false_negatives").
        dtype: accepted for Keras compatibility.
    """

    core_name = "false_negatives"


class MeanAbsolutePercentageError(Metric):
    """The weighted mean over elements of fc.losses.MeanAbsolutePercentageError's value.

    Args:
        name: the metric's name.
        dtype: accepted for Keras compatibility.
    """

    core_name = "mean_absolute_percentage_error"

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(name, dtype)


class MeanSquaredLogarithmicError(Metric):
    """The weighted mean over elements of fc.losses.MeanSquaredLogarithmicError's value.

    Args:
        name: the metric's name.
        dtype: accepted for Keras compatibility.
    """

    core_name = "mean_squared_logarithmic_error"

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(name, dtype)


class CosineSimilarity(Metric):
    """The weighted mean of `sum(l2_normalize(y_true) * l2_normalize(y_pred))` over the last axis
    (the negative of the cosine_similarity loss; 1 for identical directions).

    Args:
        name: the metric's name.
        dtype: accepted for Keras compatibility.
        axis: only -1, the last axis.
    """

    core_name = "cosine_similarity"

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(name, dtype)
        if axis != -1:
            raise ValueError(f"CosineSimilarity: fitcore supports axis=-1 (the last axis), got axis={axis!r}")
        self.axis = -1

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class LogCoshError(Metric):
    """The weighted mean over elements of fc.losses.LogCosh's value.

    Args:
        name: the metric's name (Keras's default "logcosh").
        dtype: accepted for Keras compatibility.
    """

    core_name = "log_cosh"

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(name, dtype)


class KLDivergence(Metric):
    """The weighted mean over elements of fc.losses.KLDivergence's value.

    Args:
        name: the metric's name.
        dtype: accepted for Keras compatibility.
    """

    core_name = "kl_divergence"

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(name, dtype)


class Poisson(Metric):
    """The weighted mean over elements of fc.losses.Poisson's value.

    Args:
        name: the metric's name.
        dtype: accepted for Keras compatibility.
    """

    core_name = "poisson"

    def __init__(self, name="poisson", dtype=None):
        super().__init__(name, dtype)


_CURVES = {"roc": "ROC", "ROC": "ROC", "pr": "PR", "PR": "PR"}
_SUMMATIONS = {"interpolation": "interpolation", "Interpolation": "interpolation", "majoring": "majoring",
               "Majoring": "majoring", "minoring": "minoring", "Minoring": "minoring"}


MAX_THRESHOLDS = 2**20  # far past any useful resolution (Keras's default is 200); bounds a hostile config


class AUC(Metric):
    """Area under the ROC or PR curve over confusion counts at fixed thresholds, accumulated over
    the epoch. Thresholds are Keras's: i / (num_thresholds - 1) inside, -1e-7 and 1 + 1e-7 at the
    ends (or the given `thresholds` with those ends).

    Args:
        num_thresholds: int > 1 (at most 2**20).
        curve: "ROC" or "PR".
        summation_method: "interpolation", "majoring" or "minoring".
        name: the metric's name.
        dtype: accepted for Keras compatibility.
        thresholds: a list of inner thresholds instead of num_thresholds.
        multi_label: only False.
        num_labels: only None.
        label_weights: only None.
        from_logits: apply a sigmoid to predictions first."""

    core_name = "auc"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        super().__init__(name, dtype)
        if curve not in _CURVES:
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC"]')
        if summation_method not in _SUMMATIONS:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". Expected values are '
                             '["interpolation", "majoring", "minoring"]')
        if multi_label or num_labels is not None or label_weights is not None:
            raise ValueError("AUC: fitcore supports multi_label=False without num_labels or label_weights; got "
                             f"multi_label={multi_label!r}, num_labels={num_labels!r}, label_weights={label_weights!r}")
        if thresholds is not None:
            thresholds = list(thresholds)
            if len(thresholds) + 2 > MAX_THRESHOLDS:
                raise ValueError(f"AUC: `thresholds` may list at most {MAX_THRESHOLDS - 2} values, got "
                                 f"{len(thresholds)}")
            inner = sorted(check_real("thresholds", t, owner="AUC") for t in thresholds)
            self.num_thresholds = len(inner) + 2
            self._given_thresholds = inner
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, numbers.Integral) \
                    or num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: "
                                 f"num_thresholds={num_thresholds}")
            if num_thresholds > MAX_THRESHOLDS:  # the thresholds are built as lists: refuse before allocating
                raise ValueError(f"AUC: `num_thresholds` must be in [2, 2**20 = {MAX_THRESHOLDS}], got "
                                 f"{num_thresholds}")
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) * 1.0 / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
            self._given_thresholds = None
        self.thresholds = [0.0 - EPSILON] + inner + [1.0 + EPSILON]
        self.curve = _CURVES[curve]
        self.summation_method = _SUMMATIONS[summation_method]
        self.from_logits = bool(from_logits)

    def core_config(self):
        return {**_thresholds_config(self.thresholds), "from_logits": float(self.from_logits)}

    def core_strings(self):
        """The curve and summation method for the core.

        Returns:
            A dict of strings."""
        return {"curve": self.curve, "summation_method": self.summation_method}

    def get_config(self):
        cfg = {"name": self.name, "num_thresholds": self.num_thresholds, "curve": self.curve,
               "summation_method": self.summation_method, "multi_label": False, "num_labels": None,
               "label_weights": None, "from_logits": self.from_logits}
        if self._given_thresholds is not None:
            cfg["thresholds"] = list(self._given_thresholds)
        return cfg


class Accuracy(Metric):
    """Keras's "accuracy": binary, sparse categorical or categorical, chosen per output from the
    target and prediction shapes.

    Args:
        name: the metric's name.
        dtype: accepted for Keras compatibility."""

    core_name = None

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(name, dtype)

    def resolve(self, target_shape, output_shape):
        """The concrete accuracy metric for these shapes (Keras 3's rule).

        Args:
            target_shape: the targets' per-sample shape.
            output_shape: the output's per-sample shape.

        Returns:
            A BinaryAccuracy, SparseCategoricalAccuracy or CategoricalAccuracy named as this one."""
        if output_shape[-1] == 1:
            cls = BinaryAccuracy
        elif len(target_shape) < len(output_shape) or target_shape[-1:] == (1,):
            cls = SparseCategoricalAccuracy
        else:
            cls = CategoricalAccuracy
        return cls(name=self.name)


_CLASSES = (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
            MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError, AUC, Precision, Recall)
_CLASSES += (TruePositives, FalsePositives, TrueNegatives, FalseNegatives, MeanAbsolutePercentageError,
             MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, KLDivergence, Poisson)
_BY_NAME = {"accuracy": Accuracy, "acc": Accuracy, "mse": MeanSquaredError, "MSE": MeanSquaredError,
            "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError, "auc": AUC, "binary_accuracy": BinaryAccuracy,
            "categorical_accuracy": CategoricalAccuracy, "sparse_categorical_accuracy": SparseCategoricalAccuracy,
            "top_k_categorical_accuracy": TopKCategoricalAccuracy, "mean_squared_error": MeanSquaredError,
            "mean_absolute_error": MeanAbsoluteError, "root_mean_squared_error": RootMeanSquaredError,
            "precision": Precision, "recall": Recall}
_BY_NAME.update({"true_positives": TruePositives, "false_positives": FalsePositives, "true_negatives": TrueNegatives,
                 "false_negatives": FalseNegatives, "mean_absolute_percentage_error": MeanAbsolutePercentageError,
                 "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
                 "mean_squared_logarithmic_error": MeanSquaredLogarithmicError, "msle": MeanSquaredLogarithmicError,
                 "MSLE": MeanSquaredLogarithmicError, "cosine_similarity": CosineSimilarity,
                 "log_cosh_error": LogCoshError, "logcosh": LogCoshError, "kl_divergence": KLDivergence,
                 "poisson": Poisson})
_BY_NAME.update({cls.__name__: cls for cls in _CLASSES})


def deserialize(config):
    """A Metric from serialize()'s form.

    Args:
        config: {"class_name": ..., "config": ...}.

    Returns:
        The Metric; ValueError listing the known class names otherwise."""
    if not isinstance(config, dict) or not {"class_name", "config"} <= set(config):
        raise ValueError(f"A serialized metric is a dict with 'class_name' and 'config', got {config!r}")
    cls = {c.__name__: c for c in _CLASSES}.get(config["class_name"])
    if cls is None:
        raise ValueError(f"Unknown metric class {config['class_name']!r}; known classes are: "
                         f"{', '.join(sorted(c.__name__ for c in _CLASSES))}")
    return cls(**config["config"])


def get(identifier):
    """A Metric from an identifier, as keras.metrics.get.

    Args:
        identifier: a Metric instance or class, serialize()'s dict, or a name (logged under that
            name, as Keras's compile does).

    Returns:
        A Metric; ValueError listing the valid names otherwise."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        cls = Accuracy if identifier.lower() in ("accuracy", "acc") else _BY_NAME.get(identifier)
        if cls is not None:
            return cls(name=identifier)
    raise ValueError(f"Unknown metric {identifier!r}; valid metrics are: {', '.join(sorted(_BY_NAME))}")

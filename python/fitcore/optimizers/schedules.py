"""Learning-rate schedules (keras.optimizers.schedules). The Python classes hold the configuration
and evaluate the formula in numpy for users; the core evaluates the same formula (cpp/src/
schedules.cpp) at every step, at the optimizer's iteration count before the step's increment."""
import numpy as np

from fitcore.data.validation import check_real
from fitcore.saving.serialization import serialize  # noqa: F401 (fc.optimizers.schedules.serialize)


def _number(owner, name, value, positive=False, low=None):
    """A schedule's numeric setting, checked by `check_real` (a positive one with Keras's message).

    Args:
        owner: the schedule's class name.
        name: the argument's name.
        value: its value (returned as given: an int stays an int).
        positive: it must be > 0.
        low: the least value allowed, or None.

    Returns:
        `value`.
    """
    number = check_real(name, value, low=low, owner=owner)
    if positive and not number > 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value!r}")
    return value


class LearningRateSchedule:
    """Base class. A schedule the core can run names its formula by its class name (`core_name`)
    and sends its settings as numbers (`core_config`)."""

    core_name = None

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override "
                                  "`__call__(self, step)`.")

    def get_config(self):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override "
                                  "`get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config):
        """The schedule `get_config()` describes.

        Args:
            config: `get_config()`'s dict.

        Returns:
            A new schedule.
        """
        return cls(**config)

    def core_config(self):
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__} {self.get_config()}>"


class ExponentialDecay(LearningRateSchedule):
    """initial_learning_rate * decay_rate ** (step / decay_steps), as Keras's.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: steps per factor of `decay_rate`, > 0.
        decay_rate: the factor.
        staircase: floor the exponent (the rate changes every `decay_steps` steps).
        name: the schedule's name.
    """

    core_name = "ExponentialDecay"

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        self.initial_learning_rate = _number(type(self).__name__, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _number(type(self).__name__, "decay_steps", decay_steps, positive=True)
        self.decay_rate = _number(type(self).__name__, "decay_rate", decay_rate)
        self.staircase = bool(staircase)
        self.name = name

    def __call__(self, step):
        p = np.asarray(step, np.float64) / self.decay_steps
        if self.staircase:
            p = np.floor(p)
        return np.float32(self.initial_learning_rate * np.power(float(self.decay_rate), p))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}

    def core_config(self):
        return {"initial_learning_rate": float(self.initial_learning_rate), "decay_steps": float(self.decay_steps),
                "decay_rate": float(self.decay_rate), "staircase": float(self.staircase)}


class PiecewiseConstantDecay(LearningRateSchedule):
    """A piecewise constant rate, as Keras's: values[0] while step <= boundaries[0], values[i]
    while boundaries[i-1] < step <= boundaries[i], values[-1] after the last boundary.

    Args:
        boundaries: increasing step numbers.
        values: one more rate than boundaries.
        name: the schedule's name.
    """

    core_name = "PiecewiseConstantDecay"

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError("The length of boundaries should be 1 less than the length of values. Received: "
                             f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of length "
                             f"{len(values)}.")
        for b in boundaries:
            _number(type(self).__name__, "boundaries", b)
        for v in values:
            _number(type(self).__name__, "values", v)
        if sorted(boundaries) != boundaries:
            raise ValueError(f"PiecewiseConstantDecay: `boundaries` must be increasing, got {boundaries}")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        index = np.searchsorted(np.asarray(self.boundaries, np.float64), np.asarray(step, np.float64), side="left")
        return np.float32(np.asarray(self.values, np.float64)[index])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}

    def core_config(self):
        cfg = {"num_values": float(len(self.values))}
        cfg.update({f"value_{i}": float(v) for i, v in enumerate(self.values)})
        cfg.update({f"boundary_{i}": float(b) for i, b in enumerate(self.boundaries)})
        return cfg


class CosineDecay(LearningRateSchedule):
    """Cosine decay, as Keras's: an optional linear warmup from initial_learning_rate to
    warmup_target over warmup_steps, then a cosine decay over decay_steps down to alpha times the
    rate it starts from.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: the length of the decay, > 0.
        alpha: the final rate as a fraction of the decay's starting rate.
        name: the schedule's name.
        warmup_target: the rate the warmup reaches, or None (no warmup).
        warmup_steps: the length of the warmup, >= 0.
    """

    core_name = "CosineDecay"

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        owner = type(self).__name__
        self.initial_learning_rate = _number(owner, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _number(owner, "decay_steps", decay_steps, positive=True)
        self.alpha = _number(owner, "alpha", alpha)
        self.name = name
        self.warmup_target = None if warmup_target is None else _number(owner, "warmup_target", warmup_target)
        self.warmup_steps = _number(owner, "warmup_steps", warmup_steps, low=0)

    def _decay(self, step, start):
        cosine = 0.5 * (1.0 + np.cos(np.pi * step / self.decay_steps))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        step = np.asarray(step, np.float64)
        if self.warmup_target is None:
            return np.float32(self._decay(np.minimum(step, self.decay_steps), self.initial_learning_rate))
        step = np.minimum(step, self.decay_steps + self.warmup_steps)
        with np.errstate(divide="ignore", invalid="ignore"):
            warm = (self.warmup_target - self.initial_learning_rate) * (step / self.warmup_steps) \
                + self.initial_learning_rate
        return np.float32(np.where(step < self.warmup_steps, warm,
                                   self._decay(step - self.warmup_steps, self.warmup_target)))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}

    def core_config(self):
        cfg = {"initial_learning_rate": float(self.initial_learning_rate), "decay_steps": float(self.decay_steps),
               "alpha": float(self.alpha), "warmup_steps": float(self.warmup_steps)}
        if self.warmup_target is not None:
            cfg["warmup_target"] = float(self.warmup_target)
        return cfg


_BY_NAME = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay, CosineDecay)}


def serialize(schedule):
    """A schedule as JSON-able data.

    Args:
        schedule: a schedule from this module.

    Returns:
        `{"class_name": ..., "config": ...}`.
    """
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config):
    """A schedule from `serialize()`'s form.

    Args:
        config: `{"class_name": ..., "config": ...}`.

    Returns:
        The schedule; ValueError lists the known class names.
    """
    if not isinstance(config, dict) or not {"class_name", "config"} <= set(config):
        raise ValueError(f"A serialized learning rate schedule is a dict with 'class_name' and 'config', got {config!r}")
    cls = _BY_NAME.get(config["class_name"])
    if cls is None:
        raise ValueError(f"Unknown learning rate schedule {config['class_name']!r}; known schedules are: "
                         f"{', '.join(sorted(_BY_NAME))}")
    return cls.from_config(dict(config["config"]))


__all__ = ["CosineDecay", "ExponentialDecay", "LearningRateSchedule", "PiecewiseConstantDecay", "deserialize",
           "serialize"]

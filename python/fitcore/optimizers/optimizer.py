"""The optimizer protocol: configuration here, the update rule in the core."""
import numbers
import re
import warnings

from fitcore import _core
from fitcore.data.validation import check_real
from fitcore.optimizers import schedules


def check_number(owner, name, value, low=None, high=None, low_open=False):
    """A numeric hyper-parameter checked by `fitcore.data.validation.check_real` (owner first, as
    the optimizers call it).

    Args:
        owner: the optimizer's class name, prefixed to the message.
        name: the argument's name.
        value: its value.
        low: the least value allowed, or None.
        high: the greatest value allowed, or None.
        low_open: `low` itself is refused.

    Returns:
        `value` as a float.
    """
    return check_real(name, value, low=low, high=high, low_open=low_open, owner=owner)


_KERAS_ONLY = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
               "gradient_accumulation_steps": None}

_SCHEDULE_NOT_SETTABLE = (
    "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` constructor argument, "
    "hence its learning rate is not settable. If you need the learning rate to be settable, you should instantiate "
    "the optimizer with a float `learning_rate` argument.")


class Optimizer:
    """Base class. `core_name` names the core update rule; `_hyper` holds its settings.

    Keras's base-optimizer arguments apply to every rule, in Keras's order at each step: the
    gradients are clipped (`clipnorm`: each weight's gradient by its own L2 norm; `global_clipnorm`:
    all together by their joint norm; `clipvalue`: each entry; at most one of the three), then
    every trainable weight not excluded by exclude_from_weight_decay() decays,
    w -= w * weight_decay * lr (this step's rate), then the rule updates.

    `learning_rate` is a float or a schedule from `fc.optimizers.schedules`. It may be read at any
    time (a schedule reads at the current iteration count) and set at any time, also by callbacks
    during fit(); as in Keras, a float cannot replace a schedule given to the constructor.

    Args:
        learning_rate: a float >= 0 or a schedule from `fc.optimizers.schedules`.
        name: the optimizer's name.
        weight_decay: decoupled weight decay rate (w -= w * weight_decay * lr), or None.
        clipnorm: clip each weight's gradient to this L2 norm, or None.
        clipvalue: clip each gradient entry to [-clipvalue, clipvalue], or None.
        global_clipnorm: clip all gradients together to this joint L2 norm, or None.
        **kwargs: Keras's `use_ema`, `ema_momentum`, `ema_overwrite_frequency`,
            `loss_scale_factor`, `gradient_accumulation_steps` at their defaults (anything else is
            refused); `decay` is ignored with a warning, as Keras.
    """

    core_name = None

    def __init__(self, learning_rate, name=None, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, **kwargs):
        owner = type(self).__name__
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.", stacklevel=3)
        for arg, default in _KERAS_ONLY.items():  # Keras's other base arguments, accepted at their defaults
            if arg in kwargs and kwargs.pop(arg) != default:
                raise ValueError(f"{owner}: `{arg}` is not supported by fitcore; leave it at {default!r}")
        if kwargs:
            raise TypeError(f"{owner}: unexpected keyword argument(s) {sorted(kwargs)}")
        given = {k: v for k, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                   ("global_clipnorm", global_clipnorm)) if v is not None}
        if len(given) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                             f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}")
        self.name = name or self.core_name
        self._base = {k: None if v is None else check_number(owner, k, v, 0.0)
                      for k, v in (("weight_decay", weight_decay), ("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                   ("global_clipnorm", global_clipnorm))}
        self._schedule = None
        self._learning_rate = 0.0
        self._hyper = {}
        self._core = None  # the core trainer running this optimizer, once compiled
        self._exclude_ids, self._exclude_pattern = set(), None
        if isinstance(learning_rate, dict):  # a schedule as get_config() nests it
            learning_rate = schedules.deserialize(learning_rate)
        self.learning_rate = learning_rate

    @property
    def weight_decay(self):
        """The decoupled weight decay rate, or None."""
        return self._base["weight_decay"]

    @property
    def clipnorm(self):
        """Each weight's gradient is clipped to this L2 norm, or None."""
        return self._base["clipnorm"]

    @property
    def clipvalue(self):
        """Each gradient entry is clipped to [-clipvalue, clipvalue], or None."""
        return self._base["clipvalue"]

    @property
    def global_clipnorm(self):
        """All gradients together are clipped to this joint L2 norm, or None."""
        return self._base["global_clipnorm"]

    def _attach(self, core_trainer, model=None):
        self._core = core_trainer
        if self._schedule is not None:
            self._send_schedule()
        if model is not None and (self._exclude_ids or self._exclude_pattern is not None):
            # names match as Keras's variable.name: the weight's own ("kernel"), not "dense/kernel"
            core_trainer.exclude_from_weight_decay([
                _core.ParamSpec(model._weight_offset(w), w.size)
                for w in model.trainable_weights
                if id(w) in self._exclude_ids or (self._exclude_pattern is not None
                                                  and self._exclude_pattern.search(w.name.rsplit("/", 1)[-1]))])

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Keras's: weight decay skips the weights in `var_list` and those whose own name ("kernel",
        "bias", ..., not the layer's path) contains any of `var_names` (e.g. ["bias"]). Call it before
        the optimizer is built (before the first fit).

        Args:
            var_list: weights (`model.weights` entries) to exclude.
            var_names: name fragments; a weight whose own name contains one is excluded.
        """
        if self._core is not None:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built.")
        self._exclude_ids = {id(v) for v in var_list or []}
        self._exclude_pattern = re.compile("|".join(sorted(set(var_names)))) if var_names else None

    def _send_schedule(self):
        s = self._schedule
        self._core.set_schedule(s.core_name, _core.Config(s.core_config(), {}))

    @property
    def learning_rate(self):
        """The current learning rate (a schedule's value at the current step); settable to a float
        (callbacks do) or to a schedule from `fc.optimizers.schedules` before training."""
        if self._core is not None:
            return float(self._core.learning_rate)
        if self._schedule is not None:
            return float(self._schedule(0))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        """Sets the rate.

        Args:
            value: a float >= 0, or a schedule from `fc.optimizers.schedules` (before training).
        """
        owner = type(self).__name__
        if isinstance(value, schedules.LearningRateSchedule):
            if value.core_name is None:  # a user's own formula: the core could not run it
                raise TypeError(f"{owner}: `learning_rate` schedules must be one of fc.optimizers.schedules' "
                                f"({', '.join(sorted(schedules._BY_NAME))}): the core evaluates them at every step "
                                f"without Python; got {type(value).__name__}")
            self._schedule = value
            if self._core is not None:
                self._send_schedule()
            return
        if self._schedule is not None:
            raise TypeError(_SCHEDULE_NOT_SETTABLE)
        if callable(value) and not isinstance(value, numbers.Real):
            raise TypeError(f"{owner}: `learning_rate` must be a float or a schedule from fc.optimizers.schedules, "
                            f"got {value!r}")
        self._learning_rate = check_number(owner, "learning_rate", value, 0.0)
        if self._core is not None:
            self._core.learning_rate = self._learning_rate

    @property
    def iterations(self):
        """The number of updates applied so far."""
        return int(self._core.iterations) if self._core is not None else 0

    def core_config(self):
        cfg = {"learning_rate": self.learning_rate}
        cfg.update({k: float(v) for k, v in self._hyper.items()})
        cfg.update({k: v for k, v in self._base.items() if v is not None})
        return cfg

    def get_config(self):
        """JSON-able; `type(self)(**get_config())` rebuilds an equivalent optimizer (a schedule nests as
        {"class_name": ..., "config": ...}).

        Returns:
            The configuration dict.
        """
        lr = schedules.serialize(self._schedule) if self._schedule is not None else self._learning_rate
        return {"name": self.name, "learning_rate": lr, **self._base, **self._hyper}

    @classmethod
    def from_config(cls, config):
        """The optimizer `get_config()` describes.

        Args:
            config: `get_config()`'s dict.

        Returns:
            A new optimizer.
        """
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} {self.get_config()}>"

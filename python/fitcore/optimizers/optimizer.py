"""The optimizer protocol: configuration here, the update rule in the core."""
import numbers


def check_number(owner, name, value, low=None, high=None, low_open=False):
    """Validates a numeric hyper-parameter, naming it in the error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: `{name}` must be a number, got {value!r}")
    value = float(value)
    if value != value or (low is not None and (value < low or (low_open and value == low))) or (
            high is not None and value > high):
        bounds = f"{'(' if low_open else '['}{low}, {high if high is not None else 'inf'}]"
        raise ValueError(f"{owner}: `{name}` must be in {bounds}, got {value!r}")
    return value


class Optimizer:
    """Base class. `core_name` names the core update rule; `_hyper` holds its settings.

    `learning_rate` may be read and set at any time, also by callbacks during fit().
    """

    core_name = None

    def __init__(self, learning_rate, name=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(kwargs)}")
        self.name = name or self.core_name
        self._learning_rate = check_number(type(self).__name__, "learning_rate", learning_rate, 0.0)
        self._hyper = {}
        self._core = None  # the core trainer running this optimizer, once compiled

    def _attach(self, core_trainer):
        self._core = core_trainer

    @property
    def learning_rate(self):
        return float(self._core.learning_rate) if self._core is not None else self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = check_number(type(self).__name__, "learning_rate", value, 0.0)
        if self._core is not None:
            self._core.learning_rate = self._learning_rate

    @property
    def iterations(self):
        return int(self._core.iterations) if self._core is not None else 0

    def core_config(self):
        return {"learning_rate": self._learning_rate, **self._hyper}

    def get_config(self):
        return {"name": self.name, "learning_rate": self.learning_rate, **self._hyper}

    def __repr__(self):
        return f"<{type(self).__name__} {self.get_config()}>"

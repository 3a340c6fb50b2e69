"""Optimizers: Keras's update rules, run by the core over the flat parameter buffer."""
from fitcore.optimizers import schedules
from fitcore.optimizers.optimizer import Optimizer
from fitcore.optimizers.adagrad import Adagrad
from fitcore.optimizers.adam import Adam
from fitcore.optimizers.adamw import AdamW
from fitcore.optimizers.rmsprop import RMSprop
from fitcore.optimizers.sgd import SGD

_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}


def get(identifier):
    """An Optimizer from a name (case-insensitive) or an instance; ValueError lists the valid names."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"Unknown optimizer {identifier!r}; valid optimizers are: {', '.join(sorted(_BY_NAME))}")


__all__ = ["Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "get", "schedules"]

"""Optimizers: Keras's update rules, run by the core over the flat parameter buffer."""
from fitcore.optimizers import schedules
from fitcore.optimizers.optimizer import Optimizer
from fitcore.optimizers.adagrad import Adagrad
from fitcore.optimizers.adam import Adam
from fitcore.optimizers.adamw import AdamW
from fitcore.optimizers.rmsprop import RMSprop
from fitcore.optimizers.sgd import SGD
from fitcore.saving.serialization import serialize  # fc.optimizers.serialize, as in Keras

_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}


def deserialize(config):
    """An optimizer from `serialize()`'s form.

    Args:
        config: `{"class_name": ..., "config": ...}`.

    Returns:
        The optimizer; ValueError lists the known class names.
    """
    if not isinstance(config, dict) or not {"class_name", "config"} <= set(config):
        raise ValueError(f"A serialized optimizer is a dict with 'class_name' and 'config', got {config!r}")
    cls = {c.__name__: c for c in _BY_NAME.values()}.get(config["class_name"])
    if cls is None:
        raise ValueError(f"Unknown optimizer class {config['class_name']!r}; known classes are: "
                         f"{', '.join(sorted(c.__name__ for c in _BY_NAME.values()))}")
    return cls.from_config(dict(config["config"]))


def get(identifier):
    """The optimizer `compile(optimizer=...)` means.

    Args:
        identifier: a name ("sgd", "adam", "adamw", "rmsprop", "adagrad"; case-insensitive), an
            optimizer class or instance, or `serialize()`'s dict.

    Returns:
        An Optimizer; ValueError lists the valid names.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"Unknown optimizer {identifier!r}; valid optimizers are: {', '.join(sorted(_BY_NAME))}")


__all__ = ["Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "deserialize", "get", "schedules", "serialize"]

"""Weight regularizers: Keras's penalties l1 * sum|w| + l2 * sum w^2 (no 1/2). The core adds them
to the training loss and their gradients to the weights' gradients (cpp/src/network.cpp)."""
import numpy as np

from fitcore.data.validation import check_real
from fitcore.saving import serialization


class Regularizer:
    l1 = 0.0
    l2 = 0.0

    def __call__(self, x):
        """The penalty for weight values x (float64 numpy, for reference and inspection)."""
        x = np.asarray(x, dtype=np.float64)
        return self.l1 * np.abs(x).sum() + self.l2 * np.square(x).sum()

    def get_config(self):
        return {}

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self.get_config().items())})"


class L1(Regularizer):
    def __init__(self, l1=0.01):
        self.l1 = check_real("l1", l1, low=0, owner="L1")

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    def __init__(self, l2=0.01):
        self.l2 = check_real("l2", l2, low=0, owner="L2")

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = check_real("l1", l1, low=0, owner="L1L2")
        self.l2 = check_real("l2", l2, low=0, owner="L1L2")

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


_BY_NAME = {"l1": L1, "l2": L2, "l1l2": L1L2, "l1_l2": L1L2}
_BY_CLASS_NAME = {"L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier, arg="regularizer"):
    """None, a Regularizer, a name ("l1", "l2", "l1l2", or the class name) or serialize()'s dict."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, dict) and set(identifier) == {"class_name", "config"}:
        cls = _BY_CLASS_NAME.get(identifier["class_name"]) or _BY_NAME.get(identifier["class_name"])
        if cls is not None and isinstance(identifier["config"], dict):
            return cls(**identifier["config"])
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower()) or _BY_CLASS_NAME.get(identifier)
        if cls is not None:
            return cls()
    raise ValueError(f"Unknown `{arg}` {identifier!r}; expected None, an fc.regularizers.L1/L2/L1L2 instance "
                     f"or one of the names: {', '.join(_BY_NAME)}")


def serialize(regularizer):
    """None for no regularizer, else {"class_name", "config"} (the one serialize of fitcore objects).

    Args:
        regularizer: an fc.regularizers object or None.

    Returns:
        A JSON-able dict, or None.
    """
    return None if regularizer is None else serialization.serialize(regularizer)

"""Weight initializers, Keras's formulas, drawing from fitcore's seeded generator."""
import numpy as np

from fitcore.utils.random import generator


def _fans(shape):
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    def __call__(self, shape):
        raise NotImplementedError

    def get_config(self):
        return {}


class Zeros(Initializer):
    def __call__(self, shape):
        return np.zeros(shape, np.float32)


class Ones(Initializer):
    def __call__(self, shape):
        return np.ones(shape, np.float32)


class GlorotUniform(Initializer):
    """Uniform in [-limit, limit], limit = sqrt(6 / (fan_in + fan_out))."""

    def __call__(self, shape):
        fan_in, fan_out = _fans(shape)
        limit = np.sqrt(6.0 / max(1.0, fan_in + fan_out))
        return generator().uniform(-limit, limit, size=shape).astype(np.float32)


class HeNormal(Initializer):
    """Truncated normal (cut at two standard deviations), stddev sqrt(2 / fan_in) as Keras scales it."""

    def __call__(self, shape):
        fan_in, _ = _fans(shape)
        stddev = np.sqrt(2.0 / max(1.0, fan_in)) / 0.87962566103423978
        rng = generator()
        values = rng.standard_normal(size=shape)
        outside = np.abs(values) > 2.0
        while outside.any():  # redraw until every value lies within two standard deviations
            values[outside] = rng.standard_normal(size=int(outside.sum()))
            outside = np.abs(values) > 2.0
        return (values * stddev).astype(np.float32)


_BY_NAME = {"zeros": Zeros, "ones": Ones, "glorot_uniform": GlorotUniform, "he_normal": HeNormal}


def get(identifier):
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    raise ValueError(f"Unknown initializer {identifier!r}; valid initializers are: {', '.join(_BY_NAME)}")


def serialize(initializer):
    for name, cls in _BY_NAME.items():
        if type(initializer) is cls:
            return name
    raise ValueError(f"cannot serialize initializer {initializer!r}")

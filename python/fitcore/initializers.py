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


class RandomUniform(Initializer):
    """Uniform in [minval, maxval); Keras's "uniform" (Embedding's default) is -0.05..0.05."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        if not (np.isfinite(minval) and np.isfinite(maxval)) or minval >= maxval:
            raise ValueError(f"RandomUniform: need finite `minval` < `maxval`, got minval={minval!r}, "
                             f"maxval={maxval!r}")
        self.minval, self.maxval, self.seed = float(minval), float(maxval), seed

    def __call__(self, shape):
        rng = generator() if self.seed is None else np.random.default_rng(self.seed)
        return rng.uniform(self.minval, self.maxval, size=shape).astype(np.float32)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


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


_BY_NAME = {"zeros": Zeros, "ones": Ones, "glorot_uniform": GlorotUniform, "he_normal": HeNormal,
            "uniform": RandomUniform, "random_uniform": RandomUniform}
_BY_CLASS_NAME = {cls.__name__: cls for cls in _BY_NAME.values()}


def get(identifier):
    """An Initializer from an instance, a name ("glorot_uniform", "GlorotUniform") or what
    serialize() returned ({"class_name": ..., "config": {...}})."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict) and set(identifier) == {"class_name", "config"}:
        cls = _BY_NAME.get(identifier["class_name"]) or _BY_CLASS_NAME.get(identifier["class_name"])
        if cls is not None and isinstance(identifier["config"], dict):
            return cls(**identifier["config"])
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier) or _BY_CLASS_NAME.get(identifier)
        if cls is not None:
            return cls()
    raise ValueError(f"Unknown initializer {identifier!r}; valid initializers are: {', '.join(_BY_NAME)}")


def serialize(initializer):
    """JSON-able: the name alone when there is nothing to configure, else name and config."""
    for name, cls in _BY_NAME.items():
        if type(initializer) is cls:
            config = initializer.get_config()
            return {"class_name": name, "config": config} if config else name
    raise ValueError(f"cannot serialize initializer {initializer!r}")

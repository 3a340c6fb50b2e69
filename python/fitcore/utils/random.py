"""The seed behind every random choice: initial weights, and the core's shuffles, dropout and noise."""
import random

import numpy as np

_state = {"generator": np.random.default_rng()}


def set_random_seed(seed):
    """Seeds fitcore (and Python's and numpy's global generators, as Keras does).

    The same seed gives bit-identical initial weights, shuffles and History.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"set_random_seed: `seed` must be a non-negative int, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    _state["generator"] = np.random.default_rng(int(seed))


def generator():
    """The numpy Generator initializers draw from."""
    return _state["generator"]


def draw_seed():
    """A 63-bit seed for a core trainer, drawn from the seeded stream."""
    return int(_state["generator"].integers(0, 2**63 - 1))

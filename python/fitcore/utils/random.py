"""The seed behind every random choice: initial weights, and the core's shuffles, dropout and noise."""
import random

import numpy as np

from fitcore.data.validation import check_int

_state = {"generator": np.random.default_rng()}


def set_random_seed(seed):
    """Seeds fitcore (and Python's and numpy's global generators, as Keras does).

    The same seed gives bit-identical initial weights, shuffles and History.

    Args:
        seed: a non-negative int.
    """
    seed = check_int("seed", seed, low=0, owner="set_random_seed")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    _state["generator"] = np.random.default_rng(int(seed))


def reseed(seed):
    """Restarts fitcore's own stream (initial weights, core seeds) from `seed`, leaving Python's and
    numpy's global generators alone (DataParallel gives every process the same stream).

    Args:
        seed: a non-negative int.
    """
    _state["generator"] = np.random.default_rng(int(seed))


def generator():
    """The numpy Generator initializers draw from.

    Returns:
        A `np.random.Generator`.
    """
    return _state["generator"]


def draw_seed():
    """A 63-bit seed for a core trainer, drawn from the seeded stream.

    Returns:
        A non-negative int below 2**63.
    """
    return int(_state["generator"].integers(0, 2**63 - 1))

"""Initializers follow Keras's formulas: glorot_uniform's limit, he_normal's truncated normal whose
standard deviation after truncation is sqrt(2 / fan_in), zeros and ones, Dense's defaults, seeding."""
import math

import numpy as np
import pytest

import fitcore as fc
from fitcore import initializers


def _phi(z):  # standard normal density
    return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


def _mass(a):  # P(|Z| < a) for a standard normal Z
    return math.erf(a / math.sqrt(2))


# A standard normal cut at +-2 has variance 1 - 2 * 2 * phi(2) / P(|Z| < 2); Keras divides the
# requested stddev by this truncated stddev (0.8796...) so the values end with the requested one.
TRUNCATED_STD = math.sqrt(1 - 4 * _phi(2) / _mass(2))


@pytest.mark.parametrize("shape, fan_in, fan_out", [((300, 200), 300, 200), ((3, 3, 40, 20), 360, 180)])
def test_glorot_uniform_bounds_and_variance(shape, fan_in, fan_out):
    fc.utils.set_random_seed(0)
    w = initializers.get("glorot_uniform")(shape)
    limit = math.sqrt(6 / (fan_in + fan_out))
    assert w.shape == shape and w.dtype == np.float32
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit  # fills the whole range, not a narrower one
    assert abs(w.mean()) < 0.01 * limit
    np.testing.assert_allclose(w.var(), 2 / (fan_in + fan_out), rtol=0.03)  # limit**2 / 3


def test_he_normal_is_keras_truncated_normal_with_stddev_sqrt_2_over_fan_in():
    assert TRUNCATED_STD == pytest.approx(0.87962566103423978, rel=1e-12)
    fc.utils.set_random_seed(0)
    fan_in = 400
    w = initializers.get("he_normal")((fan_in, 300)).astype(np.float64)
    stddev = math.sqrt(2 / fan_in)
    sigma = stddev / TRUNCATED_STD  # the normal before truncation
    assert np.abs(w).max() <= 2 * sigma * (1 + 1e-6)  # cut at two of its standard deviations
    assert np.abs(w).max() > 0.99 * 2 * sigma
    np.testing.assert_allclose(w.std(), stddev, rtol=0.02)
    assert abs(w.mean()) < 0.02 * stddev
    # the shape of a truncated normal: the share beyond one sigma, not a uniform's or a full normal's
    beyond_one = (_mass(2) - _mass(1)) / _mass(2)  # 0.285
    assert np.mean(np.abs(w) > sigma) == pytest.approx(beyond_one, abs=0.01)


def test_zeros_and_ones():
    for name, value in (("zeros", 0.0), ("ones", 1.0)):
        w = initializers.get(name)((3, 5))
        assert w.dtype == np.float32
        np.testing.assert_array_equal(w, np.full((3, 5), value, np.float32))


def test_dense_defaults_to_glorot_uniform_kernel_and_zero_bias():
    fc.utils.set_random_seed(1)
    model = fc.Sequential([fc.Input((120,)), fc.layers.Dense(80)])
    kernel, bias = model.get_weights()
    limit = math.sqrt(6 / (120 + 80))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.99 * limit
    np.testing.assert_allclose(kernel.var(), limit ** 2 / 3, rtol=0.05)
    np.testing.assert_array_equal(bias, np.zeros(80, np.float32))
    config = model.layers[-1].get_config()
    assert config["kernel_initializer"] == "glorot_uniform" and config["bias_initializer"] == "zeros"


def _weights(seed, kernel_initializer):
    fc.utils.set_random_seed(seed)
    model = fc.Sequential([fc.Input((6,)), fc.layers.Dense(5, kernel_initializer=kernel_initializer),
                           fc.layers.Dense(2, kernel_initializer=kernel_initializer)])
    return model.get_weights()


@pytest.mark.parametrize("name", ["glorot_uniform", "he_normal", "uniform"])
def test_the_same_seed_gives_the_same_weights(name):
    first, again, other = _weights(7, name), _weights(7, name), _weights(8, name)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_unknown_initializer_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"Unknown initializer 'glorot'; valid initializers are: zeros, ones, "
                                         r"glorot_uniform, he_normal"):
        initializers.get("glorot")

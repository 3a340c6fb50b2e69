"""Every activation's and every loss's derivative in the core against the EXACT derivative,
written out in float64 (not finite differences): a backward pass replaced by a close
approximation (gelu's tanh form is off by up to 8.7e-4 near |z| = 2) fails here, where float32
central differences at rtol 1e-3 let it through.

Tolerance: rtol 1e-5, plus atol 1e-6 where the exact derivative is tiny (float32 arithmetic
cannot resolve tanh'(6) = 2.5e-5 from 1 - tanh(6)^2 to better than ~1e-7 absolute).
"""
import math

import numpy as np
import pytest
from conftest import core_gradients

import fitcore as fc
from fitcore import activations

RTOL, ATOL = 1e-5, 1e-6
_erf = np.vectorize(math.erf)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# (f, f') in float64, Keras 3's definitions (gelu: the exact erf form, Keras's default)
EXACT = {
    "linear": (lambda z: z, lambda z: np.ones_like(z)),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(np.float64)),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "gelu": (lambda z: 0.5 * z * (1.0 + _erf(z / math.sqrt(2.0))),
             lambda z: 0.5 * (1.0 + _erf(z / math.sqrt(2.0))) + z * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)),
    "elu": (lambda z: np.where(z > 0, z, np.expm1(z)), lambda z: np.where(z > 0, 1.0, np.exp(z))),
    "silu": (lambda z: z * _sigmoid(z), lambda z: _sigmoid(z) * (1.0 + z * (1.0 - _sigmoid(z)))),
    "softplus": (lambda z: np.logaddexp(0.0, z), _sigmoid),
}

# an even count: 0 (relu's kink) is not on the grid
GRID = np.linspace(-6.0, 6.0, 240).astype(np.float32)


def test_every_elementwise_activation_has_an_exact_reference():
    assert set(activations.NAMES) - {"softmax"} <= set(EXACT)


def _bias_gradient(activation, z, y, loss="mse"):
    """The core's gradient of the loss with respect to the bias of Dense(len(z)) whose
    pre-activations, for the single input 1.0, are exactly z."""
    model = fc.Sequential([fc.Input((1,)), fc.layers.Dense(len(z), activation=activation)])
    model.set_weights([z.reshape(1, -1), np.zeros(len(z), np.float32)])
    model.compile(optimizer="sgd", loss=loss)
    x = np.ones((1, 1), np.float32)
    out = model.predict(x, verbose=0).astype(np.float64)[0]
    return core_gradients(model, x, y.reshape(1, -1).astype(np.float32))[1].astype(np.float64), out


@pytest.mark.parametrize("name", sorted(EXACT))
def test_activation_derivative_is_exact_over_minus_6_to_6(name):
    f, df = EXACT[name]
    z = GRID.astype(np.float64)
    y = (f(z) - 1.0).astype(np.float32)  # a - y = 1 (up to float32 rounding, divided out below)
    grad, a = _bias_gradient(name, GRID, y)
    k = len(z)
    # MSE over k elements of one sample: dL/db_j = 2 (a_j - y_j) / k * f'(z_j)
    got = grad * k / (2.0 * (a - y.astype(np.float64)))
    np.testing.assert_allclose(got, df(z), rtol=RTOL, atol=ATOL, err_msg=name)


@pytest.mark.parametrize("seed", range(4))
def test_softmax_backward_is_its_exact_jacobian(seed):
    rng = np.random.default_rng(seed)
    z = rng.uniform(-6, 6, size=7).astype(np.float32)
    y = rng.uniform(0, 1, size=7).astype(np.float32)
    grad, _ = _bias_gradient("softmax", z, y)
    zz = z.astype(np.float64)
    a = np.exp(zz - zz.max())
    a /= a.sum()
    g = 2.0 * (a - y) / len(z)  # dL/da of the MSE
    np.testing.assert_allclose(grad, a * (g - np.sum(a * g)), rtol=RTOL, atol=1e-8)


# --- losses: d(loss)/d(prediction) or d(loss)/d(logits), one sample at a time -------------------
def _one_hot(labels, classes):
    return np.eye(classes)[labels]


def _bce_probs(p, y, ls=0.0):
    y = y * (1 - ls) + 0.5 * ls
    return (-(y / p) + (1 - y) / (1 - p)) / p.size


def _cce_probs(p, y, ls=0.0):
    """Keras normalises the probabilities to sum to 1 before the log."""
    y = y * (1 - ls) + ls / y.size
    return -y / p + y.sum() / p.sum()


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _huber(delta):
    return lambda p, y: np.where(np.abs(p - y) <= delta, p - y, delta * np.sign(p - y)) / p.size


C = 5
LOSSES = {
    # name: (loss, output activation, target kind, exact dL/d(pre-activation) of one sample)
    "mse": (fc.losses.MeanSquaredError(), "linear", "dense", lambda p, y: 2 * (p - y) / p.size),
    "mae": (fc.losses.MeanAbsoluteError(), "linear", "dense", lambda p, y: np.sign(p - y) / p.size),
    "huber": (fc.losses.Huber(), "linear", "dense", _huber(1.0)),
    "huber_delta_0.3": (fc.losses.Huber(delta=0.3), "linear", "dense", _huber(0.3)),
    "bce_probabilities": (fc.losses.BinaryCrossentropy(), "linear", "binary", _bce_probs),
    "bce_smoothed": (fc.losses.BinaryCrossentropy(label_smoothing=0.2), "linear", "binary",
                     lambda p, y: _bce_probs(p, y, 0.2)),
    "bce_logits": (fc.losses.BinaryCrossentropy(from_logits=True), "linear", "binary",
                   lambda z, y: (_sigmoid(z) - y) / z.size),
    "bce_after_sigmoid": (fc.losses.BinaryCrossentropy(), "sigmoid", "binary",
                          lambda z, y: (_sigmoid(z) - y) / z.size),
    "cce_probabilities": (fc.losses.CategoricalCrossentropy(), "linear", "onehot", _cce_probs),
    "cce_smoothed": (fc.losses.CategoricalCrossentropy(label_smoothing=0.1), "linear", "onehot",
                     lambda p, y: _cce_probs(p, y, 0.1)),
    "cce_logits": (fc.losses.CategoricalCrossentropy(from_logits=True), "linear", "onehot",
                   lambda z, y: _softmax(z) * y.sum() - y),
    "cce_after_softmax": (fc.losses.CategoricalCrossentropy(), "softmax", "onehot",
                          lambda z, y: _softmax(z) * y.sum() - y),
    "sparse_cce_probabilities": (fc.losses.SparseCategoricalCrossentropy(), "linear", "sparse",
                                 lambda p, y: _cce_probs(p, _one_hot(int(y[0]), p.size))),
    "sparse_cce_logits": (fc.losses.SparseCategoricalCrossentropy(from_logits=True), "linear", "sparse",
                          lambda z, y: _softmax(z) - _one_hot(int(y[0]), z.size)),
    "sparse_cce_after_softmax": (fc.losses.SparseCategoricalCrossentropy(), "softmax", "sparse",
                                 lambda z, y: _softmax(z) - _one_hot(int(y[0]), z.size)),
}


def test_every_loss_has_an_exact_reference():
    from test_more_losses_metrics import LOSSES as MORE_LOSSES  # the Keras-parity losses, checked exactly there

    covered = {type(entry[0]) for entry in LOSSES.values()} | {entry[0] for entry in MORE_LOSSES}
    assert {type(fc.losses.get(name)) for name in fc.losses._BY_NAME} <= covered


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_derivative_is_exact(name):
    loss, activation, kind, exact = LOSSES[name]
    rng = np.random.default_rng(sorted(LOSSES).index(name))
    for _ in range(5):  # one sample per gradient, so the bias gradient is dL/dz of that sample
        if activation == "linear" and kind != "dense" and not loss.from_logits:
            z = rng.uniform(0.05, 0.95, size=C)  # probabilities, away from the clipping epsilon
        else:
            z = rng.uniform(-3, 3, size=C)
        z = z.astype(np.float32)
        label = rng.integers(0, C)
        y = {"dense": rng.normal(size=C), "binary": rng.integers(0, 2, size=C).astype(np.float64),
             "onehot": _one_hot(label, C), "sparse": np.array([label])}[kind]
        model = fc.Sequential([fc.Input((C,)), fc.layers.Dense(C, activation=activation)])
        model.set_weights([np.eye(C, dtype=np.float32), np.zeros(C, np.float32)])  # the Dense passes z through
        model.compile(optimizer="sgd", loss=loss)
        grad = core_gradients(model, z.reshape(1, C), y.reshape(1, -1).astype(np.float32))[1]
        np.testing.assert_allclose(grad, exact(z.astype(np.float64), y), rtol=RTOL, atol=1e-7, err_msg=name)

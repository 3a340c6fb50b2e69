"""SGD (momentum, nesterov), Adam and RMSprop steps against Keras's update formulas in numpy,
on a linear model whose mse gradient is written out by hand."""
import numpy as np
import pytest

import fitcore as fc

RNG = np.random.default_rng(11)
X = RNG.normal(size=(8, 3)).astype(np.float32)
Y = RNG.normal(size=(8, 2)).astype(np.float32)


def _grads(kernel, bias):
    err = X.astype(np.float64) @ kernel + bias - Y
    scale = 2.0 / err.size
    return [scale * X.T @ err, scale * err.sum(0)]


def _keras_sgd(lr, momentum, nesterov):
    state = {}

    def step(i, w, g, t):
        if momentum == 0:
            return w - lr * g
        m = state.get(i, np.zeros_like(w))
        m = momentum * m - lr * g
        state[i] = m
        return w + momentum * m - lr * g if nesterov else w + m
    return step


def _keras_adam(lr, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False):
    state = {}

    def step(i, w, g, t):
        m, v, vh = state.get(i, (np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)))
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        vh = np.maximum(vh, v)
        state[i] = (m, v, vh)
        return w - alpha * m / (np.sqrt(vh if amsgrad else v) + eps)
    return step


def _keras_rmsprop(lr, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    state = {}

    def step(i, w, g, t):
        v, m, ag = state.get(i, (np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)))
        v = rho * v + (1 - rho) * g * g
        if centered:
            ag = rho * ag + (1 - rho) * g
            denominator = v - ag * ag
        else:
            denominator = v
        increment = lr * g / np.sqrt(denominator + eps)
        if momentum > 0:
            m = momentum * m + increment
            w = w - m
        else:
            w = w - increment
        state[i] = (v, m, ag)
        return w
    return step


@pytest.mark.parametrize("optimizer, reference", [
    (lambda: fc.optimizers.SGD(0.1), _keras_sgd(0.1, 0.0, False)),
    (lambda: fc.optimizers.SGD(0.1, momentum=0.9), _keras_sgd(0.1, 0.9, False)),
    (lambda: fc.optimizers.SGD(0.1, momentum=0.9, nesterov=True), _keras_sgd(0.1, 0.9, True)),
    (lambda: fc.optimizers.Adam(0.05), _keras_adam(0.05)),
    (lambda: fc.optimizers.Adam(0.05, beta_1=0.8, beta_2=0.99, epsilon=1e-3), _keras_adam(0.05, 0.8, 0.99, 1e-3)),
    (lambda: fc.optimizers.Adam(0.05, amsgrad=True), _keras_adam(0.05, amsgrad=True)),
    (lambda: fc.optimizers.RMSprop(0.01), _keras_rmsprop(0.01)),
    (lambda: fc.optimizers.RMSprop(0.01, momentum=0.5, centered=True), _keras_rmsprop(0.01, momentum=0.5,
                                                                                     centered=True)),
])
def test_steps_match_keras_formulas(optimizer, reference):
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    model.compile(optimizer=optimizer(), loss="mse")
    params = [w.astype(np.float64) for w in model.get_weights()]
    for t in range(1, 6):
        grads = _grads(*params)
        params = [reference(i, w, g, t) for i, (w, g) in enumerate(zip(params, grads))]
    model.fit(X, Y, batch_size=8, epochs=5, shuffle=False, verbose=0)
    for got, want in zip(model.get_weights(), params):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)
    assert model.optimizer.iterations == 5


def test_learning_rate_can_be_set_between_fits():
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    model.compile(optimizer=fc.optimizers.SGD(0.1), loss="mse")
    model.optimizer.learning_rate = 0.0
    before = model.get_weights()
    model.fit(X, Y, batch_size=8, epochs=2, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.learning_rate == 0.0

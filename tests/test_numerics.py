"""Numerical safety: overflowing logits, log(0) in the crossentropies (from_logits True and False) and
huge learning rates give the finite losses Keras 3's formulas give (tests/reference.py, float64), and
TerminateOnNaN stops cleanly where the loss cannot stay finite."""
import numpy as np
import pytest

import fitcore as fc
from reference import per_element_loss, reduced_loss

RNG = np.random.default_rng(17)
X = RNG.normal(size=(24, 4)).astype(np.float32)


def linear_model(units, activation, loss, scale):
    """One Dense layer whose pre-activations are about `scale` in size (kernel set by hand)."""
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(units, activation=activation)])
    model.compile(optimizer=fc.optimizers.SGD(learning_rate=0.01), loss=loss)
    kernel = np.random.default_rng(5).choice([-1.0, 1.0], size=(4, units)).astype(np.float32) * scale
    model.set_weights([kernel, np.zeros(units, np.float32)])
    return model


def targets(loss_name, units, n=len(X)):
    labels = np.random.default_rng(8).integers(0, max(units, 2), size=n)
    if loss_name == "sparse_categorical_crossentropy":
        return labels
    if loss_name == "categorical_crossentropy":
        return np.eye(units, dtype=np.float32)[labels]
    return np.random.default_rng(9).integers(0, 2, size=(n, units)).astype(np.float32)


CASES = [  # (loss name, units, output activation, from_logits)
    ("categorical_crossentropy", 3, "linear", True),
    ("sparse_categorical_crossentropy", 3, "linear", True),
    ("binary_crossentropy", 2, "linear", True),
    ("categorical_crossentropy", 3, "softmax", False),
    ("sparse_categorical_crossentropy", 3, "softmax", False),
    ("binary_crossentropy", 2, "sigmoid", False),
]
LOSS_CLASSES = {"categorical_crossentropy": fc.losses.CategoricalCrossentropy,
                "sparse_categorical_crossentropy": fc.losses.SparseCategoricalCrossentropy,
                "binary_crossentropy": fc.losses.BinaryCrossentropy}


@pytest.mark.parametrize("scale", [1e2, 1e4, 1e6, 1e30])
@pytest.mark.parametrize("name, units, activation, from_logits", CASES)
def test_saturated_outputs_give_keras_finite_losses(name, units, activation, from_logits, scale):
    """Logits of 1e2..1e30 (exp overflows float32; softmax/sigmoid outputs are exactly 0 and 1, so
    log(0) without Keras's clipping): the loss is finite and equals Keras's formula, and a training
    step keeps the weights finite."""
    model = linear_model(units, activation, LOSS_CLASSES[name](from_logits=from_logits), scale)
    y = targets(name, units)
    outputs = model.predict(X, verbose=0).astype(np.float64)  # the core's float32 outputs, then float64
    if not from_logits:
        assert np.any(outputs == 0.0) and np.any(outputs == 1.0)  # really saturated: log(0) territory
    want = reduced_loss(per_element_loss(name, outputs, y, from_logits=from_logits))
    got = model.evaluate(X, y, batch_size=len(X), verbose=0)
    assert np.isfinite(want) and np.isfinite(got)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    model.train_on_batch(X, y)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_log_zero_with_label_smoothing(smoothing):
    model = linear_model(3, "softmax", fc.losses.CategoricalCrossentropy(label_smoothing=smoothing), 1e4)
    y = targets("categorical_crossentropy", 3)
    outputs = model.predict(X, verbose=0).astype(np.float64)
    want = reduced_loss(per_element_loss("categorical_crossentropy", outputs, y, label_smoothing=smoothing))
    np.testing.assert_allclose(model.evaluate(X, y, verbose=0), want, rtol=1e-5)
    assert np.isfinite(want)


@pytest.mark.parametrize("optimizer", [fc.optimizers.SGD(learning_rate=1e6), fc.optimizers.Adam(learning_rate=1e6),
                                       fc.optimizers.RMSprop(learning_rate=1e6)])
def test_huge_learning_rate_with_bounded_gradients_stays_finite(optimizer):
    """Logit crossentropies have gradients bounded by |x|: with a learning rate of 1e6 the weights and
    logits become huge (~1e7..1e9) but, as in Keras, every loss stays finite and matches the formula."""
    fc.utils.set_random_seed(3)
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(3)])
    model.compile(optimizer=optimizer, loss=fc.losses.SparseCategoricalCrossentropy(from_logits=True))
    y = targets("sparse_categorical_crossentropy", 3)
    history = model.fit(X, y, batch_size=8, epochs=4, verbose=0)
    assert all(np.isfinite(history.history["loss"]))
    assert max(np.abs(w).max() for w in model.get_weights()) > 1e5  # it did blow up
    logits = model.predict(X, verbose=0).astype(np.float64)
    want = reduced_loss(per_element_loss("sparse_categorical_crossentropy", logits, y, from_logits=True))
    np.testing.assert_allclose(model.evaluate(X, y, verbose=0), want, rtol=1e-5)


def steps_until_not_finite(model, x, y, batch_size, limit=1000):
    """Trains batch by batch (unshuffled) until a batch loss is not finite; returns the step count."""
    for step in range(limit):
        first = (step * batch_size) % len(x)
        loss = model.train_on_batch(x[first:first + batch_size], y[first:first + batch_size])
        if not np.isfinite(loss):
            return step + 1
    raise AssertionError("the loss stayed finite")


def diverging_model():
    fc.utils.set_random_seed(4)
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(8, activation="relu"), fc.layers.Dense(2)])
    model.compile(optimizer=fc.optimizers.SGD(learning_rate=1e3), loss="mse")
    return model


def test_terminate_on_nan_stops_cleanly_where_the_loss_cannot_stay_finite(capsys):
    """MSE with a learning rate of 1e3 diverges to inf/NaN (Keras too): TerminateOnNaN stops fit at
    exactly that step, without an exception, and History records the epochs run."""
    y = RNG.normal(size=(len(X), 2)).astype(np.float32)
    expected_steps = steps_until_not_finite(diverging_model(), X, y, batch_size=8)
    model = diverging_model()
    start = model.get_weights()
    history = model.fit(X, y, batch_size=8, epochs=50, shuffle=False, verbose=0,
                        callbacks=[fc.callbacks.TerminateOnNaN()])
    assert model.optimizer.iterations == expected_steps
    assert model.stop_training
    assert len(history.epoch) == (expected_steps - 1) // 3 + 1 < 50  # 3 steps per epoch; the last one recorded
    assert not np.isfinite(history.history["loss"][-1])
    assert all(np.isfinite(history.history["loss"][:-1]))
    assert "Invalid loss, terminating training" in capsys.readouterr().out
    # the model is usable again: back to the start, a tame learning rate trains normally
    model.set_weights(start)
    model.compile(optimizer=fc.optimizers.SGD(learning_rate=0.01), loss="mse")
    again = model.fit(X, y, batch_size=8, epochs=3, verbose=0, callbacks=[fc.callbacks.TerminateOnNaN()])
    assert len(again.epoch) == 3 and all(np.isfinite(again.history["loss"]))


def test_inf_inputs_give_nan_and_terminate_on_nan_stops_at_the_first_step():
    """Non-finite inputs are the user's (Keras does not check x either): the loss is NaN at once and
    TerminateOnNaN stops after that single step."""
    x = X.copy()
    x[0, 0] = np.inf
    model = diverging_model()
    history = model.fit(x, RNG.normal(size=(len(X), 2)), batch_size=8, epochs=5, shuffle=False, verbose=0,
                        callbacks=[fc.callbacks.TerminateOnNaN()])
    assert model.optimizer.iterations == 1 and len(history.epoch) == 1


@pytest.mark.parametrize("bias, target", [(1.0 - 2.0 ** -23, 0.0), (1e-7, 1.0)])
def test_binary_crossentropy_clip_bounds_pass_the_gradient(bias, target):
    """An output exactly at Keras's clip bound (float32(1 - 1e-7) = 1 - 2**-23, or float32(1e-7);
    saturated sigmoids land there) still gets the unclipped formula's gradient, as torch's clamp and
    TensorFlow's clip_by_value pass it at their bounds (JAX's clip passes half)."""
    q = float(np.float32(bias))
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(1)])
    model.compile(optimizer=fc.optimizers.SGD(learning_rate=1e-9), loss="binary_crossentropy")
    model.set_weights([np.zeros((4, 1), np.float32), np.array([q], np.float32)])
    model.train_on_batch(X, np.full((len(X), 1), target, np.float32))
    dl_dp = (1 - target) / (1 - q) - target / q  # every sample's output is q: kernel 0
    kernel, b = model.get_weights()
    np.testing.assert_allclose(b, [q - 1e-9 * dl_dp], rtol=1e-6)
    np.testing.assert_allclose(kernel[:, 0], -1e-9 * dl_dp * X.astype(np.float64).mean(0), rtol=1e-4)


def test_categorical_crossentropy_clip_bound_passes_the_gradient():
    """Softmax-free probabilities whose normalised value is exactly float32(1 - 1e-7): the gradient
    is the unclipped -log(p0 / (p0 + p1)) one, as torch's clamp gives it."""
    p = np.array([1.0 - 2.0 ** -23, 2.0 ** -23], np.float32)  # sums to exactly 1
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(2)])
    model.compile(optimizer=fc.optimizers.SGD(learning_rate=1e-3), loss="categorical_crossentropy")
    model.set_weights([np.zeros((4, 2), np.float32), p])
    model.train_on_batch(X, np.tile(np.array([[1.0, 0.0]], np.float32), (len(X), 1)))
    p64 = p.astype(np.float64)
    dl_dp = np.array([-1 / p64[0], 0.0]) + 1 / p64.sum()
    np.testing.assert_allclose(model.get_weights()[1], p64 - 1e-3 * dl_dp, rtol=1e-6, atol=1e-9)


"""Learning-rate schedules: values against Keras's formulas written out by hand, the rate the core
actually uses at each step during fit, setting rules, callbacks, errors and round trips."""
import json
import math

import numpy as np
import pytest

import fitcore as fc
from fitcore.optimizers import schedules

RNG = np.random.default_rng(5)
X = RNG.normal(size=(12, 3)).astype(np.float32)
Y = RNG.normal(size=(12, 2)).astype(np.float32)


def exponential(step, initial, decay_steps, rate, staircase=False):
    p = step / decay_steps
    return initial * rate ** (math.floor(p) if staircase else p)


def piecewise(step, boundaries, values):
    for b, v in zip(boundaries, values):
        if step <= b:
            return v
    return values[-1]


def cosine(step, initial, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0):
    def decay(s, start):
        return start * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / decay_steps)) + alpha)
    if warmup_target is None:
        return decay(min(step, decay_steps), initial)
    step = min(step, decay_steps + warmup_steps)
    if step < warmup_steps:
        return initial + (warmup_target - initial) * step / warmup_steps
    return decay(step - warmup_steps, warmup_target)


CASES = [
    (lambda: schedules.ExponentialDecay(0.1, 3, 0.5), lambda s: exponential(s, 0.1, 3, 0.5)),
    (lambda: schedules.ExponentialDecay(0.1, 3, 0.5, staircase=True), lambda s: exponential(s, 0.1, 3, 0.5, True)),
    (lambda: schedules.PiecewiseConstantDecay([2, 5], [0.1, 0.05, 0.01]),
     lambda s: piecewise(s, [2, 5], [0.1, 0.05, 0.01])),
    (lambda: schedules.CosineDecay(0.1, 6), lambda s: cosine(s, 0.1, 6)),
    (lambda: schedules.CosineDecay(0.1, 6, alpha=0.2), lambda s: cosine(s, 0.1, 6, 0.2)),
    (lambda: schedules.CosineDecay(0.0, 5, alpha=0.1, warmup_target=0.2, warmup_steps=3),
     lambda s: cosine(s, 0.0, 5, 0.1, 0.2, 3)),
]
STEPS = [0, 1, 2, 3, 4, 5, 6, 7, 9, 20]


@pytest.mark.parametrize("make, formula", CASES)
def test_call_matches_keras_formula(make, formula):
    schedule = make()
    for step in STEPS:
        np.testing.assert_allclose(schedule(step), formula(step), rtol=1e-6, atol=1e-9)
    values = {float(schedule(s)) for s in STEPS}
    assert len(values) > 2  # the schedule really changes over these steps


def _step_sizes(schedule, steps):
    """Per-step learning rates the core used: SGD's update is w -= lr * g, with the mse gradient by hand."""
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    model.compile(optimizer=fc.optimizers.SGD(schedule), loss="mse")
    rates = []
    for _ in range(steps):
        kernel, bias = (w.astype(np.float64) for w in model.get_weights())
        grad_bias = 2.0 / Y.size * (X @ kernel + bias - Y).sum(0)
        model.train_on_batch(X, Y)
        rates.append(np.mean((bias - model.get_weights()[1]) / grad_bias))
    return np.array(rates), model


@pytest.mark.parametrize("make, formula", CASES)
def test_core_uses_the_schedule_at_the_iteration_count_before_the_step(make, formula):
    rates, model = _step_sizes(make(), 8)
    np.testing.assert_allclose(rates, [formula(t) for t in range(8)], rtol=2e-4, atol=1e-7)
    assert model.optimizer.iterations == 8
    np.testing.assert_allclose(model.optimizer.learning_rate, formula(8), rtol=1e-6)


def test_fit_runs_the_schedule_inside_the_core():
    # 3 epochs of 3 batches each run as long stretches of core steps; the weights must equal the
    # float64 reference that takes step t with rate schedule(t - 1).
    schedule = schedules.PiecewiseConstantDecay([2, 5], [0.3, 0.1, 0.02])
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    model.compile(optimizer=fc.optimizers.SGD(schedule, momentum=0.5), loss="mse")
    kernel, bias = (w.astype(np.float64) for w in model.get_weights())
    mk, mb = np.zeros_like(kernel), np.zeros_like(bias)
    t = 0
    for _ in range(3):
        for first in range(0, 12, 4):
            x, y = X[first:first + 4].astype(np.float64), Y[first:first + 4]
            err = x @ kernel + bias - y
            lr = piecewise(t, [2, 5], [0.3, 0.1, 0.02])
            mk = 0.5 * mk - lr * (2.0 / err.size) * x.T @ err
            mb = 0.5 * mb - lr * (2.0 / err.size) * err.sum(0)
            kernel, bias = kernel + mk, bias + mb
            t += 1
    model.fit(X, Y, batch_size=4, epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0], kernel, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(model.get_weights()[1], bias, rtol=2e-5, atol=2e-6)


def test_weight_decay_uses_the_scheduled_rate():
    schedule = schedules.ExponentialDecay(0.5, 1, 0.5)
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    model.compile(optimizer=fc.optimizers.SGD(schedule, weight_decay=0.5), loss="mse")
    kernel, bias = (w.astype(np.float64) for w in model.get_weights())
    for t in range(3):
        lr = exponential(t, 0.5, 1, 0.5)
        err = X @ kernel + bias - Y
        gk, gb = 2.0 / err.size * X.T @ err, 2.0 / err.size * err.sum(0)
        kernel, bias = kernel - kernel * 0.5 * lr - lr * gk, bias - bias * 0.5 * lr - lr * gb
    model.fit(X, Y, batch_size=12, epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0], kernel, rtol=2e-5, atol=2e-6)


def test_learning_rate_reads_the_schedule_and_a_float_cannot_replace_it():
    schedule = schedules.ExponentialDecay(0.1, 2, 0.5)
    optimizer = fc.optimizers.SGD(schedule)
    assert optimizer.learning_rate == pytest.approx(0.1)
    with pytest.raises(TypeError, match="created with a `LearningRateSchedule`.*not settable"):
        optimizer.learning_rate = 0.01
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(X, Y, batch_size=4, epochs=2, verbose=0)  # 6 steps
    assert optimizer.learning_rate == pytest.approx(exponential(6, 0.1, 2, 0.5), rel=1e-6)
    with pytest.raises(TypeError, match="not settable"):
        optimizer.learning_rate = 0.01
    # A schedule may replace a schedule at any time; the core picks it up at the current iteration.
    optimizer.learning_rate = schedules.PiecewiseConstantDecay([7], [0.5, 0.25])
    assert optimizer.learning_rate == 0.5
    rates, _ = _step_sizes(schedules.PiecewiseConstantDecay([1], [0.5, 0.25]), 3)
    np.testing.assert_allclose(rates, [0.5, 0.5, 0.25], rtol=2e-4)


def test_a_float_rate_can_become_a_schedule_mid_training():
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    model.compile(optimizer=fc.optimizers.SGD(0.1), loss="mse")
    model.fit(X, Y, batch_size=12, epochs=2, verbose=0)
    model.optimizer.learning_rate = schedules.ExponentialDecay(1.0, 1, 0.5)
    assert model.optimizer.learning_rate == pytest.approx(0.25)  # evaluated at iterations == 2


@pytest.mark.parametrize("callback", [
    lambda: fc.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5),
    lambda: fc.callbacks.ReduceLROnPlateau(monitor="loss", patience=0),
])
def test_rate_setting_callbacks_refuse_a_schedule_before_training(callback):
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    model.compile(optimizer=fc.optimizers.SGD(schedules.ExponentialDecay(0.1, 2, 0.5)), loss="mse")
    before = model.get_weights()
    with pytest.raises(TypeError, match="created with the schedule ExponentialDecay, so its learning rate is not "
                                        "settable"):
        model.fit(X, Y, epochs=2, verbose=0, callbacks=[callback()])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0


@pytest.mark.parametrize("make, error, message", [
    (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), ValueError, r"Argument `decay_steps` must be > 0. "
                                                                  r"Received: decay_steps=0"),
    (lambda: schedules.CosineDecay(0.1, -3), ValueError, "Argument `decay_steps` must be > 0"),
    (lambda: schedules.CosineDecay(0.1, 3, warmup_steps=-1), ValueError, r"`warmup_steps` must be in \[0, inf\]"),
    (lambda: schedules.ExponentialDecay("0.1", 10, 0.5), TypeError, "`initial_learning_rate` must be a number"),
    (lambda: schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2]), ValueError,
     r"The length of boundaries should be 1 less than the length of values. Received: boundaries=\[1, 2\] of length "
     r"2, and values=\[0.1, 0.2\] of length 2."),
    (lambda: schedules.PiecewiseConstantDecay([5, 2], [0.1, 0.2, 0.3]), ValueError, "`boundaries` must be increasing"),
])
def test_bad_schedule_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_a_schedule_the_core_cannot_run_is_refused_at_construction():
    class Halving(schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.1 / (step + 1)

    with pytest.raises(TypeError, match="`learning_rate` schedules must be one of"):
        fc.optimizers.Adam(Halving())
    with pytest.raises(TypeError, match="`learning_rate` must be a float or a schedule"):
        fc.optimizers.Adam(lambda: 0.1)


@pytest.mark.parametrize("make, formula", CASES)
def test_schedule_config_round_trip(make, formula):
    schedule = make()
    cfg = json.loads(json.dumps(schedule.get_config()))
    rebuilt = type(schedule)(**cfg)
    assert rebuilt.get_config() == schedule.get_config()
    for step in STEPS:
        assert rebuilt(step) == schedule(step)
    again = schedules.deserialize(json.loads(json.dumps(schedules.serialize(schedule))))
    assert type(again) is type(schedule) and again.get_config() == schedule.get_config()


def test_backup_and_restore_resumes_a_schedule_identically(tmp_path):
    from test_callbacks import Interrupt

    def run(callbacks=()):
        fc.utils.set_random_seed(3)
        model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
        model.compile(optimizer=fc.optimizers.Adam(schedules.ExponentialDecay(0.05, 2, 0.7)), loss="mse")
        return model, model.fit(X, Y, batch_size=4, epochs=4, verbose=0, callbacks=list(callbacks))

    reference, ref_history = run()
    backup = fc.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    with pytest.raises(KeyboardInterrupt):
        run([backup, Interrupt(epoch=2, batch=1)])
    model, history = run([backup])
    assert history.history == ref_history.history
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.learning_rate == reference.optimizer.learning_rate == pytest.approx(
        exponential(12, 0.05, 2, 0.7), rel=1e-6)

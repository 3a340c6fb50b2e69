"""Denormal floats during fit, evaluate and predict: flushed to zero, as inputs and as results, as XLA
computes under Keras/JAX (x86's DAZ and FTZ), on the calling thread and the core's worker threads
alike; and the caller's own floating-point mode, and its workers', are back as they were afterwards.

The references are numpy float32 evaluations of Keras's formulas with every result below the
smallest normal float set to zero (`flush`), beside the same without flushing, which the first
test also asserts differs, so it could not pass on a core that kept the denormals."""
import numpy as np
import pytest

import fitcore as fc
from fitcore import _core

f32 = np.float32
TINY = np.finfo(np.float32).tiny  # the smallest normal float32, 2^-126
# More weights than one thread's share of an optimizer sweep (parallel_chunks hands 16k-value
# chunks to both threads from 2^17 values on), so every thread's chunks are checked.
UNITS = 1 << 18


@pytest.fixture(autouse=True)
def worker_threads_started_outside_fit():
    """OpenMP's worker threads start with their creator's floating-point mode: started inside a
    flushing call they would flush without being told to. Start them first, as any earlier core call
    would, so the tests see what the core does to threads that already exist."""
    _core._activation_forward("relu", np.ones((64, 4096), np.float32))


def flush(a):
    a = np.asarray(a, dtype=np.float32)
    return np.where(np.abs(a) < TINY, f32(0), a).astype(np.float32)


def keep(a):
    return np.asarray(a, dtype=np.float32)


def adam_reference(y, decay_steps, lr, beta, eps, rounding):
    """Weights after one Adam step on the gradient -2 y / UNITS, then `decay_steps` steps on a zero
    gradient, from a zero kernel. Every operation rounds to float32 once (the multiply-add of the
    moments exactly, through float64: with beta = 0.5 the product is exact) and then goes through
    `rounding` (flush or keep). beta = 0.5 for both moments keeps beta^t exact."""
    a = f32(1) - f32(beta)
    w = np.zeros(UNITS, np.float32)
    m = np.zeros(UNITS, np.float32)
    v = np.zeros(UNITS, np.float32)
    g_first = rounding(f32(2) * (f32(0) - y) / f32(UNITS))
    for t in range(1, decay_steps + 2):
        g = g_first if t == 1 else np.zeros(UNITS, np.float32)
        alpha = rounding(f32(lr) * np.sqrt(f32(1) - f32(beta) ** t) / (f32(1) - f32(beta) ** t))
        m = rounding((g.astype(np.float64) - m) * a + m)
        v = rounding((rounding(g * g).astype(np.float64) - v) * a + v)
        w = rounding(w - rounding(rounding(m * alpha) / rounding(np.sqrt(v) + f32(eps))))
    return w


def test_adam_momentum_of_a_dead_unit_flushes_to_zero_as_under_keras_jax():
    """A unit that stops receiving gradient (a dead ReLU's weights do) has its Adam momentum halve
    each step down into the denormals. Flushed, its steps stop at the smallest normal float; kept,
    they go on (and x86 takes ~100-cycle assists on every such value: the reference MLP's update ran
    2.5x slower). The weights of every unit must equal the flushed reference bit for bit."""
    rng = np.random.default_rng(4)
    y = (10.0 ** rng.uniform(-32, -26, UNITS)).astype(np.float32)
    lr, beta, eps, steps = 1e-3, 0.5, 1e-7, 40
    model = fc.Sequential([fc.Input((1,)), fc.layers.Dense(UNITS, use_bias=False, kernel_initializer="zeros")])
    model.compile(optimizer=fc.optimizers.Adam(lr, beta_1=beta, beta_2=beta, epsilon=eps), loss="mse")
    model.fit(np.ones((1, 1), np.float32), y[None, :], batch_size=1, epochs=1, shuffle=False, verbose=0)
    model.fit(np.zeros((1, 1), np.float32), y[None, :], batch_size=1, epochs=steps, shuffle=False, verbose=0)
    got = model.get_weights()[0].ravel()

    flushed = adam_reference(y, steps, lr, beta, eps, flush)
    kept = adam_reference(y, steps, lr, beta, eps, keep)
    assert np.count_nonzero(flushed != kept) > UNITS // 2  # the two references differ on most units
    np.testing.assert_array_equal(got.view(np.uint32), flushed.view(np.uint32))


@pytest.mark.parametrize("call", ["predict", "evaluate", "train_on_batch"])
def test_denormal_products_are_flushed_in_every_core_call(call):
    """Each product of 1e-21 inputs and 1e-20 weights is a denormal 1e-41: flushed, every output of a
    wide Dense layer (column blocks on both threads) is exactly 0, as Keras/JAX computes it, and so
    is everything after it; kept, 128 of them would sum to about 1.3e-39, 1.6e-9 once scaled by
    2^100 (the loss is mae against zero targets, so it is the mean of those outputs)."""
    width, units, rows = 128, 4096, 64
    model = fc.Sequential([fc.Input((width,)), fc.layers.Dense(units), fc.layers.Rescaling(2.0**100)])
    model.compile(optimizer=fc.optimizers.SGD(0.0), loss="mae")
    model.set_weights([np.full((width, units), 1e-20, np.float32), np.zeros(units, np.float32)])
    x = np.full((rows, width), 1e-21, np.float32)
    kept = float(np.float32(1e-21) * np.float32(1e-20) * width * 2.0**100)
    assert kept > 1e-9  # numpy, unflushed
    if call == "predict":
        out = model.predict(x, batch_size=rows, verbose=0)
        assert out.shape == (rows, units) and not np.any(out)
        return
    y = np.zeros((rows, units), np.float32)
    loss = model.evaluate(x, y, batch_size=rows, verbose=0) if call == "evaluate" else model.train_on_batch(x, y)
    assert loss == 0.0


def test_the_callers_mode_and_the_workers_are_restored_after_fit():
    """After a fit, numpy in the calling thread and the core's kernels on both threads compute
    denormals again (the core's own kernels are exact on them outside fit, evaluate and predict)."""
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(UNITS // 4)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((8, 4), np.float32), np.zeros((8, UNITS // 4), np.float32), batch_size=4, epochs=2, verbose=0)
    assert np.float32(1e-30) * np.float32(1e-9) > 0  # the caller: FTZ is off again
    denormals = np.full((64, 4096), 1e-39, np.float32)  # relu over 256k values: both threads' rows
    out = _core._activation_forward("relu", denormals)
    np.testing.assert_array_equal(out, denormals)  # DAZ is off again on every worker

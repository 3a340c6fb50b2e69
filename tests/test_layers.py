"""The layer zoo: forward values against numpy (float64), parameter gradients against central
differences, training-only behaviour of Dropout / GaussianNoise / BatchNormalization, Embedding
ids, construction- and call-time errors, and the get_config round trip."""
import numpy as np
import pytest
from conftest import core_gradients, core_training_loss
from isa_levels import isa, level_params
from reference import (ACTIVATIONS, batch_norm, check_gradients, dense, numeric_gradient, per_element_loss,
                       reduced_loss)

import fitcore as fc

RNG = np.random.default_rng(11)
L = fc.layers


def mse(pred, y):
    return per_element_loss("mean_squared_error", pred, y)


def normal(*shape):
    return RNG.normal(size=shape).astype(np.float32)


# --- Flatten, Concatenate, Add ----------------------------------------------------------------

def _merge_model():
    a, b = fc.Input((2, 3), name="a"), fc.Input((5,), name="b")
    da = L.Dense(4, activation="tanh", name="da")(L.Flatten()(a))
    db = L.Dense(4, activation="tanh", name="db")(b)
    out = L.Dense(2, name="out")(L.Concatenate()([L.Add()([da, db]), b]))
    return fc.Model([a, b], out)


def _merge_forward(p, x):
    a, b = x
    da = dense(a.reshape(len(a), -1), p[0], p[1], "tanh")
    db = dense(b, p[2], p[3], "tanh")
    return dense(np.concatenate([da + db, b], axis=-1), p[4], p[5])


def test_flatten_add_concatenate_forward_and_gradients():
    model = _merge_model()
    x = [normal(6, 2, 3), normal(6, 5)]
    y = normal(6, 2)
    np.testing.assert_allclose(model.predict(x, verbose=0), _merge_forward(model.get_weights(), x), atol=1e-5)
    model.compile(optimizer="sgd", loss="mse")
    check_gradients(model, x, y, mse, _merge_forward)


def test_concatenate_inner_axis_forward_and_gradients():
    a, b = fc.Input((2, 3)), fc.Input((4, 3))
    joined = L.Concatenate(axis=1)([L.Dense(3, activation="tanh")(a), b])  # (None, 6, 3)
    model = fc.Model([a, b], L.Dense(1)(L.Flatten()(joined)))
    assert joined.shape == (None, 6, 3)
    x, y = [normal(5, 2, 3), normal(5, 4, 3)], normal(5, 1)

    def forward(p, x):
        h = np.concatenate([dense(x[0], p[0], p[1], "tanh"), x[1]], axis=1)
        return dense(h.reshape(len(h), -1), p[2], p[3])

    np.testing.assert_allclose(model.predict(x, verbose=0), forward(model.get_weights(), x), atol=1e-5)
    model.compile(optimizer="sgd", loss="mse")
    check_gradients(model, x, y, mse, forward)


def test_add_of_three_and_a_slot_feeding_two_ops():
    a = fc.Input((3,))
    d = L.Dense(3, name="d")(a)
    model = fc.Model(a, L.Dense(1, name="o")(L.Add()([d, a, d])))
    x, y = normal(4, 3), normal(4, 1)
    forward = lambda p, x: dense(2 * dense(x, p[0], p[1]) + x, p[2], p[3])  # noqa: E731
    model.compile(optimizer="sgd", loss="mse")
    check_gradients(model, x, y, mse, forward)


def test_merge_errors_at_call_time():
    a, b = fc.Input((3,)), fc.Input((4,))
    with pytest.raises(ValueError, match=r"Add needs inputs of one shape, got \(None, 3\), \(None, 4\)"):
        L.Add()([a, b])
    with pytest.raises(ValueError, match="called on a list of tensors"):
        L.Add()(a)
    c = fc.Input((2, 3))
    with pytest.raises(ValueError, match=r"Concatenate\(axis=-1\) needs inputs that match on every other axis"):
        L.Concatenate()([c, fc.Input((3, 3))])
    with pytest.raises(ValueError, match="cannot concatenate along axis=3"):
        L.Concatenate(axis=3)([c, c])
    with pytest.raises(ValueError, match="`axis` must be a non-zero int"):
        L.Concatenate(axis=0)
    assert L.Flatten()(c).shape == (None, 6)


# --- Dropout ----------------------------------------------------------------------------------

def _dropout_model(rate=0.5, **kwargs):
    return fc.Sequential([fc.Input((8,)), L.Dense(16, activation="tanh"), L.Dropout(rate, **kwargs), L.Dense(2)])


def _mlp_forward(p, x):
    return dense(dense(x, p[0], p[1], "tanh"), p[2], p[3])


@pytest.mark.parametrize("noise", [L.Dropout(0.5), L.GaussianNoise(0.5)], ids=["dropout", "gaussian_noise"])
def test_noise_inactive_in_predict_evaluate_and_validation(noise):
    model = fc.Sequential([fc.Input((8,)), L.Dense(16, activation="tanh"), noise, L.Dense(2)])
    x, y = normal(40, 8), normal(40, 2)
    want = _mlp_forward([w.astype(np.float64) for w in model.get_weights()], x)
    np.testing.assert_allclose(model.predict(x, verbose=0), want, atol=1e-5)
    model.compile(optimizer=fc.optimizers.SGD(learning_rate=0.0), loss="mse")
    expected = reduced_loss(mse(want, y))
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), expected, rtol=1e-5)
    history = model.fit(x, y, validation_data=(x, y), epochs=1, batch_size=40, verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][0], expected, rtol=1e-5)
    # ... and active in training: the same weights give another loss there.
    assert abs(history.history["loss"][0] - expected) > 1e-3


def test_dropout_mask_rate_and_scale():
    # x = 1 through a zero Dense gives z = 0; against targets t the loss gradient at the dropout
    # input is keep * s * 2 (0 - t) / D with s = 1 / (1 - rate): the bias gradient shows the mask.
    rate, width = 0.3, 4000
    model = fc.Sequential([fc.Input((1,)), L.Dense(width, kernel_initializer="zeros"), L.Dropout(rate)])
    model.compile(optimizer="sgd", loss="mse")
    t = RNG.uniform(1.0, 2.0, size=(1, width)).astype(np.float32)
    grad_bias = core_gradients(model, np.ones((1, 1), np.float32), t)[1]
    kept = grad_bias != 0
    assert abs(1.0 - kept.mean() - rate) < 0.03
    np.testing.assert_allclose(grad_bias[kept], -2.0 * t[0][kept] / (1.0 - rate) / width, rtol=1e-5)


# 6 x 16: one chunk; 40 x 256 = 10,240 values: three chunks of parallel_compute_chunks, on two threads,
# each writing its part of the stored dropout mask that the backward pass reads.
@pytest.mark.parametrize("rows, units", [(6, 16), (40, 256)])
@pytest.mark.parametrize("noise", [L.Dropout(0.4), L.GaussianNoise(0.5)], ids=["dropout", "gaussian_noise"])
def test_gradients_through_training_noise(noise, rows, units):
    model = fc.Sequential([fc.Input((8,)), L.Dense(units, activation="tanh"), noise, L.Dense(2, activation="tanh")])
    model.compile(optimizer="sgd", loss="mse")
    x, y = normal(rows, 8), normal(rows, 2)
    got = core_gradients(model, x, y)
    # Central differences of the core's own training loss (the draws are fixed by the step's key).
    params = [w.value for w in model.weights]
    want = numeric_gradient(lambda: float(core_training_loss(model, x, y)), params, eps=1e-2)
    for g, w, weight in zip(got, want, model.weights):
        np.testing.assert_allclose(g, w, atol=2e-3, rtol=2e-2, err_msg=weight.name)


def _timestep_masks(noise_shape):
    # Per-sample identity input through a zero kernel: dL/dkernel[t, j] = dL/dz[t, j], so the kernel
    # gradient's zeros are the dropout mask of each timestep t and feature j.
    model = fc.Sequential([fc.Input((3, 3)), L.Dense(64, kernel_initializer="zeros"),
                           L.Dropout(0.5, noise_shape=noise_shape)])
    model.compile(optimizer="sgd", loss="mse")
    t = RNG.uniform(1.0, 2.0, size=(1, 3, 64)).astype(np.float32)
    return core_gradients(model, np.eye(3, dtype=np.float32)[None], t)[0] != 0


def test_dropout_noise_shape_shares_the_mask():
    shared = _timestep_masks((None, 1, 64))  # one mask over the 3 timesteps of a sample
    assert np.all(shared == shared[0]) and 0.3 < shared.mean() < 0.7
    none_means_full = _timestep_masks((None, 1, None))
    assert np.all(none_means_full == none_means_full[0])
    independent = _timestep_masks(None)
    assert not np.all(independent == independent[0])
    with pytest.raises(ValueError, match="must have rank 3"):
        fc.Sequential([fc.Input((3, 4)), L.Dropout(0.5, noise_shape=(None, 4))])
    with pytest.raises(ValueError, match="each `noise_shape` entry must be None, 1 or the input's size"):
        fc.Sequential([fc.Input((3, 4)), L.Dropout(0.5, noise_shape=(None, 2, 4))])


def _fit_history(model_fn, threads=None, seed=5):
    default_threads = fc.config.get_num_threads()
    if threads is not None:
        fc.config.set_num_threads(threads)
    try:
        fc.utils.set_random_seed(seed)
        model = model_fn()
        model.compile(optimizer="adam", loss="mse")
        data = np.random.default_rng(0)
        x = data.normal(size=(512, 64)).astype(np.float32)
        y = data.normal(size=(512, 1)).astype(np.float32)
        history = model.fit(x, y, batch_size=512, epochs=3, verbose=0)
        return history.history["loss"], [w.copy() for w in model.get_weights()]
    finally:
        fc.config.set_num_threads(default_threads)


def _noisy_model():
    return fc.Sequential([fc.Input((64,)), L.GaussianNoise(0.3), L.Dense(128, activation="relu"),
                          L.Dropout(0.5), L.Dense(1)])


def test_dropout_and_noise_same_seed_same_bits_any_thread_count():
    # 512 x 128 values: past the core's parallel grain, so two threads really split the loops.
    loss_1, weights_1 = _fit_history(_noisy_model, threads=1)
    loss_2, weights_2 = _fit_history(_noisy_model, threads=2)
    assert loss_1 == loss_2
    # Dense's backward (Eigen's blocked GEMM) sums in a thread-dependent order: weights agree to rounding.
    for a, b in zip(weights_1, weights_2):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)
    again, _ = _fit_history(_noisy_model, threads=2)
    assert again == loss_2
    loss_other, _ = _fit_history(_noisy_model, seed=6)
    assert loss_other != loss_1


@pytest.mark.parametrize("level", level_params())
def test_noise_and_dropout_draws_do_not_depend_on_the_thread_count(level):
    # The training-mode forward alone (noise, dropout, then a fixed sum), bit for bit, with the
    # kernels of each instruction-set level.
    default_threads = fc.config.get_num_threads()
    x = np.random.default_rng(1).normal(size=(256, 512)).astype(np.float32)
    losses = []
    with isa(level):
        for threads in (1, 2, 1):
            fc.config.set_num_threads(threads)
            fc.utils.set_random_seed(9)
            model = fc.Sequential([fc.Input((512,)), L.GaussianNoise(1.0), L.Dropout(0.5), L.Dense(1)])
            model.compile(optimizer="sgd", loss="mse")
            losses.append(core_training_loss(model, x, np.zeros((256, 1), np.float32)))
    fc.config.set_num_threads(default_threads)
    assert losses[0] == losses[1] == losses[2]


def test_dropout_layer_seed_changes_the_mask():
    x, y = normal(6, 8), normal(6, 2)
    losses = []
    for seed in (1, 1, 2):
        fc.utils.set_random_seed(3)
        model = _dropout_model(0.5, seed=seed)
        model.compile(optimizer="sgd", loss="mse")
        losses.append(core_training_loss(model, x, y))
    assert losses[0] == losses[1] != losses[2]


def test_dropout_and_noise_argument_errors():
    with pytest.raises(ValueError, match=r"^Dropout: `rate` must be in \[0, 1\], got 1.5$"):
        L.Dropout(1.5)
    with pytest.raises(TypeError, match="^Dropout: `seed` must be an int or None, got 'x'$"):
        L.Dropout(0.1, seed="x")
    with pytest.raises(ValueError, match=r"^GaussianNoise: `stddev` must be in \[0, inf\], got -1.0$"):
        L.GaussianNoise(-1)


# --- GaussianNoise ----------------------------------------------------------------------------

def test_gaussian_noise_training_only_and_its_statistics():
    width = 20000
    model = fc.Sequential([fc.Input((width,)), L.Dense(1), L.GaussianNoise(0.5)])
    model.compile(optimizer="sgd", loss="mse")
    x = normal(1, width)
    clean = model.predict(x, verbose=0)
    np.testing.assert_allclose(clean, x.astype(np.float64) @ model.get_weights()[0] + model.get_weights()[1],
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(model.evaluate(x, clean, verbose=0), 0.0, atol=1e-10)
    # Noise on a wide output: y = 0 + noise, loss against 0 is the noise's mean square ~ stddev^2.
    wide = fc.Sequential([fc.Input((1,)), L.Dense(width, kernel_initializer="zeros"), L.GaussianNoise(0.5)])
    wide.compile(optimizer="sgd", loss="mse")
    noise_power = core_training_loss(wide, np.zeros((1, 1), np.float32), np.zeros((1, width), np.float32))
    assert abs(noise_power - 0.25) < 0.01
    # The gradient passes through unchanged: d/d bias_j of mean((b + n)^2) = 2 (b_j + n_j) / D.
    noise = core_gradients(wide, np.zeros((1, 1), np.float32), np.zeros((1, width), np.float32))[1] * width / 2
    assert abs(np.mean(noise)) < 0.02 and abs(np.var(noise) - 0.25) < 0.01
    np.testing.assert_allclose(np.mean(noise.astype(np.float64) ** 2), noise_power, rtol=1e-4)


# --- BatchNormalization -----------------------------------------------------------------------

def _bn_model(input_shape=(5,), **kwargs):
    return fc.Sequential([fc.Input(input_shape), L.Dense(4, activation="tanh"), L.BatchNormalization(**kwargs),
                          L.Dense(2)])


def _bn_forward_train(p, x):
    h = batch_norm(dense(x, p[0], p[1], "tanh"), p[2], p[3])
    return dense(h, p[6], p[7])


def test_batch_norm_weights_in_keras_order():
    model = _bn_model()
    bn = model.layers[1]
    assert [w.name.split("/")[1] for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.trainable for w in bn.weights] == [True, True, False, False]
    assert len(model.trainable_weights) == 6 and len(model.non_trainable_weights) == 2
    np.testing.assert_array_equal(bn.get_weights()[0], np.ones(4))
    np.testing.assert_array_equal(bn.get_weights()[3], np.ones(4))
    no_affine = fc.Sequential([fc.Input((3,)), L.BatchNormalization(center=False, scale=False)])
    assert [w.name.split("/")[1] for w in no_affine.weights] == ["moving_mean", "moving_variance"]


@pytest.mark.parametrize("input_shape", [(5,), (3, 5)])
def test_batch_norm_training_gradients(input_shape):
    model = _bn_model(input_shape)
    # Non-trivial gamma and beta so their gradients and the input path are all exercised.
    w = model.get_weights()
    w[2], w[3] = RNG.uniform(0.5, 1.5, 4).astype(np.float32), normal(4)
    model.set_weights(w)
    x, y = normal(7, *input_shape), normal(7, *input_shape[:-1], 2)
    model.compile(optimizer="sgd", loss="mse")
    check_gradients(model, x, y, mse, _bn_forward_train, atol=3e-4)


def test_batch_norm_moving_statistics_after_one_step():
    model = fc.Sequential([fc.Input((2, 3)), L.BatchNormalization(momentum=0.9), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = RNG.normal(2.0, 3.0, size=(16, 2, 3)).astype(np.float32)
    model.train_on_batch(x, normal(16, 2, 1))
    mean, var = x.astype(np.float64).mean(axis=(0, 1)), x.astype(np.float64).var(axis=(0, 1))  # biased
    moving_mean, moving_variance = model.layers[0].get_weights()[2:]
    np.testing.assert_allclose(moving_mean, 0.0 * 0.9 + mean * 0.1, rtol=1e-5)
    np.testing.assert_allclose(moving_variance, 1.0 * 0.9 + var * 0.1, rtol=1e-5)


def test_batch_norm_statistics_of_large_batches_in_parallel_blocks(restore_threads):
    # 4096 values per channel: statistics summed in blocks of rows, on two threads; a mean far from
    # zero checks the two-pass variance (a one-pass sum of squares would lose it to cancellation).
    x = RNG.normal(1000.0, 0.5, size=(128, 32, 16)).astype(np.float32)
    mean, var = x.astype(np.float64).mean(axis=(0, 1)), x.astype(np.float64).var(axis=(0, 1))

    def step(threads):
        fc.config.set_num_threads(threads)
        fc.utils.set_random_seed(3)
        model = fc.Sequential([fc.Input((32, 16)), L.BatchNormalization(momentum=0.5), L.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        model.train_on_batch(x, np.ones((128, 32, 1), np.float32))
        return model.get_weights()

    one, two = step(1), step(2)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(one[2], 0.5 * mean, rtol=1e-6)
    np.testing.assert_allclose(one[3], 0.5 + 0.5 * var, rtol=1e-5)


def test_batch_norm_inference_uses_moving_statistics():
    model = fc.Sequential([fc.Input((3,)), L.BatchNormalization(epsilon=0.01)])
    gamma, beta, mm, mv = normal(3), normal(3), normal(3), RNG.uniform(0.5, 2, 3).astype(np.float32)
    model.set_weights([gamma, beta, mm, mv])
    x = normal(10, 3)
    want = batch_norm(x.astype(np.float64), gamma, beta, 0.01, mean=mm, variance=mv)
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-5)
    model.compile(optimizer="sgd", loss="mse")
    np.testing.assert_allclose(model.evaluate(x, np.zeros_like(x), verbose=0), np.mean(want ** 2), rtol=1e-5)


def test_frozen_batch_norm_uses_moving_statistics_in_training():
    model = _bn_model()
    bn = model.layers[1]
    bn.trainable = False
    model.compile(optimizer="sgd", loss="mse")
    x, y = normal(8, 5), normal(8, 2)
    before = bn.get_weights()
    np.testing.assert_allclose(core_training_loss(model, x, y), model.evaluate(x, y, verbose=0), rtol=1e-6)
    model.train_on_batch(x, y)
    for a, b in zip(before, bn.get_weights()):
        np.testing.assert_array_equal(a, b)  # neither gamma/beta nor the moving statistics moved

    p = [w.astype(np.float64) for w in model.get_weights()]
    frozen = lambda q, x: dense(batch_norm(dense(x, q[0], q[1], "tanh"), q[2], q[3], mean=q[4],  # noqa: E731
                                           variance=q[5]), q[6], q[7])
    np.testing.assert_allclose(model.predict(x, verbose=0), frozen(p, x), atol=1e-5)


def test_batch_norm_argument_errors():
    with pytest.raises(ValueError, match=r"^BatchNormalization: `momentum` must be in \[0, 1\], got 2.0$"):
        L.BatchNormalization(momentum=2)
    with pytest.raises(ValueError, match="only the last axis"):
        fc.Sequential([fc.Input((3, 4)), L.BatchNormalization(axis=1)])


# --- Embedding --------------------------------------------------------------------------------

def _embedding_model(dtype="float32"):
    ids = fc.Input((5,), dtype=dtype, name="ids")
    emb = L.Embedding(7, 3, name="emb")(ids)
    return fc.Model(ids, L.Dense(1, name="head")(L.Flatten()(emb)))


def _embedding_forward(p, x):
    e = p[0][x.astype(int)]  # (n, 5, 3)
    return dense(e.reshape(len(x), -1), p[1], p[2])


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32"])
def test_embedding_forward_and_scatter_added_gradients(dtype):
    model = _embedding_model("int32" if dtype != "float32" else "float32")
    table = model.get_weights()[0]
    assert table.shape == (7, 3) and np.all(np.abs(table) <= 0.05)  # Keras's "uniform": -0.05..0.05
    x = RNG.integers(0, 7, size=(6, 5)).astype(dtype)
    x[0, :3] = 2  # repeated ids sum their gradients
    np.testing.assert_allclose(model.predict(x, verbose=0), _embedding_forward(model.get_weights(), x), atol=1e-6)
    model.compile(optimizer="sgd", loss="mse")
    check_gradients(model, x, normal(6, 1), mse, _embedding_forward)


def test_embedding_ids_outside_the_table_are_a_value_error_before_any_step():
    model = _embedding_model("int32")
    model.compile(optimizer="sgd", loss="mse")
    before = model.get_weights()
    bad = np.zeros((4, 5), np.int64)
    bad[2, 1] = 7
    with pytest.raises(ValueError, match=r"`x` feeds Embedding 'emb' and must hold integer ids in \[0, 7\); "
                                         r"got e.g. 7"):
        model.fit(bad, np.zeros(4), verbose=0)
    bad[2, 1] = -1
    with pytest.raises(ValueError, match="got e.g. -1"):
        model.predict(bad, verbose=0)
    with pytest.raises(ValueError, match=r"`x\['ids'\]`|`x` feeds Embedding"):
        model.evaluate({"ids": bad}, np.zeros(4), verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_embedding_core_is_defensive_against_bad_ids():
    # Straight to the core, past the Python check: out-of-range ids read zeros, take no gradient.
    model = _embedding_model()
    model.compile(optimizer="sgd", loss="mse")
    core = model._core_trainer("test")
    ids = np.array([[0, 1e9, -5, 7, np.nan]], np.float32)
    out = np.zeros((1, 1), np.float32)
    core.predict([ids], 1, [out])
    p = model.get_weights()
    e = np.stack([p[0][0], np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3)])
    np.testing.assert_allclose(out, e.reshape(1, -1) @ p[1] + p[2], atol=1e-6)
    grads = core.compute_gradients([ids], [np.zeros((1, 1), np.float32)], [None])
    assert np.isfinite(grads).all()


def test_embedding_argument_errors():
    with pytest.raises(ValueError, match="^Embedding: `input_dim` must be >= 1, got 0$"):
        L.Embedding(0, 3)
    with pytest.raises(ValueError, match=r"^Embedding: `input_dim` must be <= 16777216 \(2\*\*24: ids are exact "
                                         r"float32 in the core\), got 16777217$"):
        L.Embedding(2**24 + 1, 3)
    L.Embedding(2**24, 1)  # the largest table the core's float32 ids address exactly


# Every constructor argument check goes through fitcore.data.validation: a wrong type is a TypeError,
# a value out of range a ValueError, each naming the layer and the argument.
@pytest.mark.parametrize("make, error, message", [
    (lambda: L.Dense(0), ValueError, "Dense: `units` must be >= 1, got 0"),
    (lambda: L.Dense(2.5), TypeError, "Dense: `units` must be an int, got 2.5"),
    (lambda: L.Dense(True), TypeError, "Dense: `units` must be an int, got True"),
    (lambda: L.Dense(2**64), ValueError,
     "Dense: `units` must be <= 9223372036854775807 (the core counts in int64), got 18446744073709551616"),
    (lambda: L.Dropout(1.5), ValueError, "Dropout: `rate` must be in [0, 1], got 1.5"),
    (lambda: L.Dropout("0.5"), TypeError, "Dropout: `rate` must be a number, got '0.5'"),
    (lambda: L.Dropout(float("nan")), ValueError, "Dropout: `rate` must be a finite number, got nan"),
    (lambda: L.Dropout(0.1, seed=-1), ValueError, "Dropout: `seed` must be >= 0, got -1"),
    (lambda: L.SpatialDropout1D(-0.1), ValueError, "SpatialDropout1D: `rate` must be in [0, 1], got -0.1"),
    (lambda: L.GaussianNoise(0.1, seed=1.5), TypeError, "GaussianNoise: `seed` must be an int or None, got 1.5"),
    (lambda: L.GaussianNoise(float("inf")), ValueError, "GaussianNoise: `stddev` must be a finite number, got inf"),
    (lambda: L.Embedding(True, 3), TypeError, "Embedding: `input_dim` must be an int, got True"),
    (lambda: L.Embedding(5, 0), ValueError, "Embedding: `output_dim` must be >= 1, got 0"),
    (lambda: L.Embedding(5, 2, mask_zero=True), ValueError,
     "Embedding: mask_zero=True is not supported (fitcore has no masking)"),
    (lambda: L.BatchNormalization(epsilon=0), ValueError, "BatchNormalization: `epsilon` must be in (0, inf], got 0.0"),
    (lambda: L.BatchNormalization(momentum="0.9"), TypeError,
     "BatchNormalization: `momentum` must be a number, got '0.9'"),
    (lambda: L.BatchNormalization(axis=0), ValueError,
     "BatchNormalization: `axis` must be a non-zero int (axis 0 is the batch), got 0"),
    (lambda: L.BatchNormalization(axis=-1.0), TypeError, "BatchNormalization: `axis` must be an int, got -1.0"),
    (lambda: L.Concatenate(axis=0), ValueError,
     "Concatenate: `axis` must be a non-zero int (axis 0 is the batch), got 0"),
    (lambda: L.Concatenate(axis=True), TypeError, "Concatenate: `axis` must be an int, got True"),
    (lambda: fc.Input((3,), batch_size=0), ValueError, "Input: `batch_size` must be >= 1, got 0"),
    (lambda: fc.Input((3,), batch_size=2.5), TypeError, "Input: `batch_size` must be an int or None, got 2.5"),
    (lambda: fc.Input((3, 0)), ValueError,
     "Input: `shape` must be a non-empty tuple of positive ints (no batch axis), got (3, 0)"),
    (lambda: fc.Input(batch_shape=(None,)), ValueError,
     "Input: `batch_shape` must be a tuple with the batch axis first, e.g. (None, 784); got (None,)"),
    (lambda: L.Dense(2, input_shape=(0,)), ValueError,
     "Dense: `input_shape` must be a non-empty tuple of positive ints (no batch axis), got (0,)"),
    (lambda: L.Dense(2, batch_input_shape=(4,)), ValueError,
     "Dense: `batch_input_shape` must be a tuple with the batch axis first, e.g. (None, 784); got (4,)"),
    (lambda: fc.Input((3,), dtype="int8"), ValueError,
     "Input: `dtype` must be one of 'float32', 'float64', 'float16', 'int32', 'int64', got 'int8'"),
    (lambda: L.Flatten(data_format="channels_first"), ValueError,
     "Flatten: `data_format` must be one of None, 'channels_last', got 'channels_first'"),
    (lambda: L.GlobalMaxPooling2D(keepdims=1), TypeError,
     "GlobalMaxPooling2D: `keepdims` must be True or False, got 1"),
    (lambda: L.Rescaling("2"), TypeError, "Rescaling: `scale` must be a number, got '2'"),
    (lambda: L.Rescaling(2.0, offset=float("inf")), ValueError, "Rescaling: `offset` must be a finite number, got inf"),
    (lambda: L.Conv1D(2.0, 3), TypeError, "Conv1D: `filters` must be an int, got 2.0"),
    (lambda: L.Conv2D(4, 3, padding="FULL"), ValueError,
     "Conv2D: `padding` must be one of 'valid', 'same', got 'FULL'"),
    (lambda: L.UpSampling1D("2"), TypeError, "UpSampling1D: `size` must be an int, got '2'"),
])
def test_constructor_argument_errors_name_layer_and_argument(make, error, message):
    with pytest.raises(error) as info:
        make()
    assert type(info.value) is error and str(info.value) == message


def test_constructor_arguments_accept_numpy_numbers_as_python_ones():
    dense, embedding = L.Dense(np.int64(3)), L.Embedding(np.int32(5), np.uint8(2))
    assert (dense.units, embedding.input_dim, embedding.output_dim) == (3, 5, 2)
    assert {type(dense.units), type(embedding.input_dim), type(embedding.output_dim)} == {int}
    dropout = L.Dropout(np.float32(0.25), seed=np.int64(7))
    assert (dropout.rate, dropout.seed) == (0.25, 7) and type(dropout.rate) is float and type(dropout.seed) is int
    assert fc.Input((2,), batch_size=np.int64(4)).shape == (None, 2)
    assert fc.Input(np.int64(3)).shape == (None, 3) and fc.Input(batch_shape=[None, 2, 5]).shape == (None, 2, 5)
    assert L.Dense(2, input_shape=np.int32(4))._input_shape_arg == (4,)
    assert L.Conv2D(4, 3, padding="SAME").padding == "same"
    assert L.UpSampling2D(interpolation="Nearest").interpolation == "nearest"


# --- activations and Dense over the last axis -----------------------------------------------

@pytest.mark.parametrize("name", ["gelu", "elu", "silu", "softplus"])
def test_activation_layer_and_dense_accept_the_newer_activations(name):
    x = normal(6, 4)
    model = fc.Sequential([fc.Input((4,)), L.Dense(3, activation=name), L.Activation(name)])
    p = [w.astype(np.float64) for w in model.get_weights()]
    want = ACTIVATIONS[name](dense(x, p[0], p[1], name))
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_layer_after_a_dense_forward_and_gradients(name):
    # The standalone layer, not Dense(activation=...): its gradient reaches both Dense layers' weights.
    model = fc.Sequential([fc.Input((5,)), L.Dense(4), L.Activation(name), L.Dense(3)])
    x, y = normal(6, 5), normal(6, 3)

    def forward(p, x):
        return dense(ACTIVATIONS[name](dense(x, p[0], p[1])), p[2], p[3])

    p = [w.astype(np.float64) for w in model.get_weights()]
    np.testing.assert_allclose(model.predict(x, verbose=0), forward(p, x), rtol=1e-5, atol=1e-6)
    model.compile(optimizer="sgd", loss="mse")
    check_gradients(model, x, y, mse, forward)


def test_unknown_activation_is_a_value_error_listing_valid_names():
    for make in (lambda: L.Activation("swishy"), lambda: L.Dense(2, activation="swishy")):
        with pytest.raises(ValueError, match="Unknown activation 'swishy'; valid activations are: linear, relu, "
                                             "sigmoid, tanh, softmax, gelu, elu, silu, softplus"):
            make()


def test_dense_per_timestep_with_temporal_sample_weight():
    model = fc.Sequential([fc.Input((4, 3)), L.Dense(5, activation="tanh"), L.Dense(2)])
    model.compile(optimizer=fc.optimizers.SGD(learning_rate=0.1), loss="mse")
    x, y = normal(12, 4, 3), normal(12, 4, 2)
    weights = RNG.uniform(0.0, 2.0, size=(12, 4)).astype(np.float32)
    assert model.output_shapes == [(4, 2)]
    ref = lambda p: reduced_loss(mse(_mlp_forward(p, x.astype(np.float64)), y), weights)  # noqa: E731
    p = [w.astype(np.float64) for w in model.get_weights()]
    np.testing.assert_allclose(model.evaluate(x, y, sample_weight=weights, verbose=0), ref(p), rtol=1e-5)
    check_gradients(model, x, y, mse, _mlp_forward, sample_weight=weights)
    history = model.fit(x, y, sample_weight=weights, epochs=20, batch_size=12, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], ref(p), rtol=1e-5)
    assert history.history["loss"][-1] < 0.9 * history.history["loss"][0]


# --- shared layers ---------------------------------------------------------------------------

def _siamese():
    a, b = fc.Input((3,), name="a"), fc.Input((3,), name="b")
    shared = L.Dense(4, activation="tanh", kernel_regularizer=fc.regularizers.L2(0.1), name="shared")
    return fc.Model([a, b], L.Dense(1, name="out")(L.Concatenate()([shared(a), shared(b), shared(a)])))


def _siamese_forward(p, x):
    h = [dense(v, p[0], p[1], "tanh") for v in (x[0], x[1], x[0])]
    return dense(np.concatenate(h, axis=-1), p[2], p[3])


def test_a_shared_layer_sums_the_gradients_of_its_calls():
    model = _siamese()
    assert [w.name for w in model.weights] == ["shared/kernel", "shared/bias", "out/kernel", "out/bias"]
    assert model.count_params() == 3 * 4 + 4 + 12 + 1
    x, y = [normal(6, 3), normal(6, 3)], normal(6, 1)
    np.testing.assert_allclose(model.predict(x, verbose=0), _siamese_forward(model.get_weights(), x), atol=1e-5)
    model.compile(optimizer="sgd", loss="mse")
    # The regularizer counts once per weight, however many calls share it.
    total = check_gradients(model, x, y, mse, _siamese_forward,
                            extra=lambda p: 0.1 * np.square(p[0]).sum())
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), total(), rtol=1e-5)


def test_a_layer_repeated_in_a_sequential_stack():
    d = L.Dense(3, activation="tanh")
    model = fc.Sequential([fc.Input((3,)), d, d])
    assert len(model.weights) == 2
    model.compile(optimizer="sgd", loss="mse")
    check_gradients(model, normal(5, 3), normal(5, 3), mse, lambda p, x: dense(dense(x, p[0], p[1], "tanh"), p[0],
                                                                               p[1], "tanh"))


def test_a_shared_layer_called_on_another_shape_is_a_value_error():
    shared = L.Dense(2, name="shared")
    shared(fc.Input((3,)))
    with pytest.raises(ValueError, match=r"shared: this layer was built for inputs of shape \(None, 3\) and shares "
                                         r"its weights between calls; got inputs of shape \(None, 4\)"):
        shared(fc.Input((4,)))


def test_a_weightless_layer_may_be_called_twice():
    a = fc.Input((3,))
    act = L.Activation("tanh")
    model = fc.Model(a, act(L.Dense(3)(act(a))))
    x = normal(4, 3)
    p = model.get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), np.tanh(np.tanh(x) @ p[0] + p[1]), atol=1e-6)


# --- serialisation contract -------------------------------------------------------------------

LAYERS = [
    L.Dense(3, activation="gelu", use_bias=False, kernel_initializer="he_normal",
            kernel_regularizer=fc.regularizers.L1L2(l1=0.1, l2=0.2), bias_regularizer="l2", name="d"),
    L.Activation("silu"),
    L.Dropout(0.25, noise_shape=(None, 1), seed=3),
    L.GaussianNoise(0.1, seed=4),
    L.Flatten(),
    L.Concatenate(axis=1),
    L.Add(),
    L.BatchNormalization(momentum=0.8, epsilon=0.01, center=False, gamma_regularizer="l1", trainable=False),
    L.Embedding(10, 4, embeddings_initializer=fc.initializers.RandomUniform(-0.1, 0.2, seed=1),
                embeddings_regularizer=fc.regularizers.L2(0.5)),
    L.Conv1D(3, 4, strides=2, padding="causal", activation="relu", use_bias=False, kernel_initializer="he_normal",
             kernel_regularizer=fc.regularizers.L2(0.1), name="c1"),
    L.Conv2D(4, (3, 2), padding="same", dilation_rate=(2, 1), groups=2, bias_initializer="ones",
             bias_regularizer="l1"),
    L.MaxPooling1D(3, strides=1, padding="same"), L.MaxPooling2D((2, 3)),
    L.AveragePooling1D(), L.AveragePooling2D(3, strides=(1, 2), padding="same"),
    L.GlobalAveragePooling1D(keepdims=True), L.GlobalAveragePooling2D(), L.GlobalMaxPooling1D(),
    L.GlobalMaxPooling2D(keepdims=True),
    L.ZeroPadding1D((1, 2)), L.ZeroPadding2D(((1, 0), (2, 3))), L.UpSampling1D(3), L.UpSampling2D((1, 2)),
    L.Reshape((-1, 4)), L.SpatialDropout1D(0.3, seed=5), L.SpatialDropout2D(0.2),
]
LAYERS += [L.Subtract(name="s"), L.Multiply(), L.Average(), L.Maximum(), L.Minimum(),
           L.Dot(axes=(1, 2), normalize=True), L.Dot(axes=-1), L.Rescaling(0.5, offset=-1.0), L.RepeatVector(3),
           L.Permute((2, 1))]


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: type(layer).__name__)
def test_get_config_round_trip(layer):
    import json

    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config  # JSON-able as it is
    rebuilt = type(layer)(**config)
    assert type(rebuilt) is type(layer) and rebuilt.get_config() == config


def test_every_layer_class_is_covered_by_the_round_trip():
    covered = {type(layer) for layer in LAYERS}
    exported = {getattr(L, n) for n in L.__all__}
    public = {c for c in exported if isinstance(c, type) and issubclass(c, L.Layer) and c not in (L.Layer, L.InputLayer)}
    assert public <= covered, public - covered


# --- Dense's GEMM at every tile edge -----------------------------------------------------------

@pytest.mark.parametrize("rows, features, hidden, units", [(1, 3, 5, 1), (7, 257, 17, 16), (13, 300, 70, 33),
                                                           (9, 40, 48, 64), (300, 513, 64, 10)])
def test_two_dense_layers_match_numpy_at_tile_edges(rows, features, hidden, units):
    # Row counts off the 6-row tiles, column counts off the 16-column strips and 64-column blocks,
    # and inner dimensions across the 256-long slices of k: forward, weight and input gradients.
    fc.utils.set_random_seed(3)
    model = fc.Sequential([fc.Input((features,)), L.Dense(hidden), L.Dense(units)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = normal(rows, features), normal(rows, units)
    w1, b1, w2, b2 = [w.astype(np.float64) for w in model.get_weights()]
    h = x @ w1 + b1
    pred = h @ w2 + b2
    np.testing.assert_allclose(model.predict(x, verbose=0), pred, rtol=1e-4, atol=1e-5)
    g2 = 2 * (pred - y) / pred.size  # mse, sum_over_batch_size
    g1 = g2 @ w2.T
    expected = [x.T @ g1, g1.sum(0), h.T @ g2, g2.sum(0)]
    for got, want in zip(core_gradients(model, x, y), expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)

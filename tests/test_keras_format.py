"""Keras 3's `.keras` files both ways, checked against Keras 3 itself: fitcore reads what Keras writes
(architecture, weights, compile settings, optimizer state) and Keras reads what fitcore writes, with the
same predictions and the same next training step; hostile files are refused with a clear ValueError."""
import io
import json
import os
import shutil
import struct
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest

import fitcore as fc
from fitcore.saving import keras_format

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras", reason="Keras 3 is not importable here (CI installs keras==3.15.1 and jax)")
h5py = pytest.importorskip("h5py", reason="h5py (the `keras` extra) is not importable here")

RTOL = ATOL = 1e-6


def rng(seed=0):
    return np.random.default_rng(seed)


def assert_close(a, b, tol=ATOL):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=tol, atol=tol)


def assert_same_outputs(fitcore_out, keras_out, tol=ATOL):
    if isinstance(keras_out, dict):
        assert isinstance(fitcore_out, dict) and sorted(fitcore_out) == sorted(keras_out)
        for name in keras_out:
            assert_close(fitcore_out[name], keras_out[name], tol)
    elif isinstance(keras_out, (list, tuple)):
        assert len(fitcore_out) == len(keras_out)
        for f, k in zip(fitcore_out, keras_out):
            assert_close(f, k, tol)
    else:
        assert_close(fitcore_out, keras_out, tol)


def assert_same_layer_weights(fitcore_model, keras_model, tol=ATOL):
    """Every layer's weights, matched by layer name (the two may list layers in different orders)."""
    for layer in keras_model.layers:
        expected = layer.get_weights()
        got = fitcore_model.get_layer(layer.name).get_weights() if expected else []
        assert len(got) == len(expected), layer.name
        for g, e in zip(got, expected):
            assert_close(g, e, tol)


def keras_optimizer_values(keras_model):
    return [np.asarray(v) for v in keras_model.optimizer.variables]


# --- models -------------------------------------------------------------------------------------
def keras_sequential():
    return keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(8, activation="relu", kernel_regularizer=keras.regularizers.L2(0.01)),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(8, activation="tanh", bias_regularizer=keras.regularizers.L1L2(0.001, 0.002)),
        keras.layers.Dense(3, activation="softmax")], name="seq")


def sequential_data(n=16, seed=0):
    r = rng(seed)
    return r.normal(size=(n, 6)).astype("f4"), np.eye(3, dtype="f4")[r.integers(0, 3, n)]


def keras_functional():
    """Two inputs (a dict), two outputs; shared Dense class names in branches so Keras's h5 numbering
    (dense, dense_1, ...) and its layer order both matter."""
    a = keras.Input((4,), name="a")
    b = keras.Input((3,), name="b")
    x = keras.layers.Dense(5, activation="relu", name="da")(a)
    y = keras.layers.Dense(5, activation="sigmoid", name="db")(b)
    z = keras.layers.Concatenate(name="cat")([x, y])
    z = keras.layers.BatchNormalization(name="bn")(z)
    z = keras.layers.Dense(6, activation="gelu", name="dz")(z)
    probs = keras.layers.Dense(2, activation="softmax", name="probs")(z)
    total = keras.layers.Add(name="total")([x, y])
    return keras.Model({"a": a, "b": b}, [probs, total], name="two_heads")


def functional_data(n=16, seed=1):
    r = rng(seed)
    x = {"a": r.normal(size=(n, 4)).astype("f4"), "b": r.normal(size=(n, 3)).astype("f4")}
    return x, [np.eye(2, dtype="f4")[r.integers(0, 2, n)], r.normal(size=(n, 5)).astype("f4")]


def compile_functional(model, optimizer):
    model.compile(optimizer=optimizer, loss=["categorical_crossentropy", "mse"], loss_weights=[1.0, 0.5],
                  metrics=[["accuracy"], ["mae"]])


def train_keras(model, x, y, steps=3):
    for _ in range(steps):
        model.train_on_batch(x, y)


def save_keras(model, tmp_path, name="k.keras"):
    path = str(tmp_path / name)
    model.save(path)
    return path


# --- Keras -> fitcore ---------------------------------------------------------------------------
def test_keras_sequential_loads_with_predictions_and_next_step(tmp_path):
    km = keras_sequential()
    km.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy", metrics=["accuracy"])
    x, y = sequential_data()
    train_keras(km, x, y)
    path = save_keras(km, tmp_path)

    fm = fc.models.load_model(path)
    assert isinstance(fm, fc.Sequential) and fm.name == "seq"
    assert [type(layer).__name__ for layer in fm.layers] == ["Dense", "BatchNormalization", "Dense", "Dense"]
    assert fm.optimizer.iterations == int(np.asarray(km.optimizer.iterations)) == 3
    assert_same_outputs(fm.predict(x, verbose=0), km.predict(x, verbose=0))
    assert_same_layer_weights(fm, km)

    # One more step on both: Adam's moments and step count must have come along for this to agree.
    fit_loss = fm.train_on_batch(x, y, return_dict=True)
    keras_loss = km.train_on_batch(x, y, return_dict=True)
    assert_close(fit_loss["loss"], keras_loss["loss"], 1e-5)
    assert_same_layer_weights(fm, km)
    assert_same_outputs(fm.predict(x, verbose=0), km.predict(x, verbose=0))


def test_keras_functional_multi_io_loads_with_predictions_and_next_step(tmp_path):
    km = keras_functional()
    compile_functional(km, keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True))
    x, y = functional_data()
    train_keras(km, x, y)
    path = save_keras(km, tmp_path)

    fm = fc.models.load_model(path)
    assert fm.input_names == ["a", "b"] and fm.output_names == ["probs", "total"]
    assert fm._compile_config.loss_weights == [1.0, 0.5]
    assert [type(l).__name__ for l in fm._compile_config.losses] == ["CategoricalCrossentropy", "MeanSquaredError"]
    assert_same_outputs(fm.predict(x, verbose=0), km.predict(x, verbose=0))

    fm_logs = fm.train_on_batch(x, y, return_dict=True)
    km_logs = km.train_on_batch(x, y, return_dict=True)
    for key in ("loss", "probs_loss", "total_loss"):
        assert_close(fm_logs[key], km_logs[key], 1e-5)
    assert_same_layer_weights(fm, km)
    assert_same_outputs(fm.predict(x, verbose=0), km.predict(x, verbose=0))


@pytest.mark.parametrize("make_optimizer", [
    lambda: keras.optimizers.SGD(0.05),
    lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    lambda: keras.optimizers.Adam(0.01, amsgrad=True),
    lambda: keras.optimizers.AdamW(0.01, weight_decay=0.05),
    lambda: keras.optimizers.RMSprop(0.01),
    lambda: keras.optimizers.Adagrad(0.05, initial_accumulator_value=0.2),
    lambda: keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(0.02, 2, 0.5)),
    lambda: keras.optimizers.Adam(0.01, clipnorm=0.1),
], ids=["sgd", "sgd-nesterov", "adam-amsgrad", "adamw", "rmsprop", "adagrad", "adam-schedule", "adam-clipnorm"])
def test_every_optimizer_state_carries_over_from_keras(tmp_path, make_optimizer):
    """Each optimizer's slot variables sit in Keras's file in its own order (interleaved per variable for
    Adam, one block per slot for RMSprop): a mix-up changes the next step."""
    km = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(2)])
    km.compile(optimizer=make_optimizer(), loss="mse")
    r = rng(3)
    x, y = r.normal(size=(12, 5)).astype("f4"), r.normal(size=(12, 2)).astype("f4")
    train_keras(km, x, y, steps=4)
    fm = fc.models.load_model(save_keras(km, tmp_path))
    assert type(fm.optimizer).__name__ == type(km.optimizer).__name__
    assert fm.optimizer.iterations == 4
    for _ in range(2):
        fm.train_on_batch(x, y)
        km.train_on_batch(x, y)
    assert_same_layer_weights(fm, km, 2e-6)


def test_keras_frozen_layer_has_no_optimizer_slots(tmp_path):
    """A layer with trainable=False has no slot variables in Keras's file: the others' slots must not
    shift onto it."""
    km = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="tanh", name="first"),
                           keras.layers.Dense(4, activation="tanh", name="frozen", trainable=False),
                           keras.layers.BatchNormalization(name="bn", trainable=False),
                           keras.layers.Dense(2, name="last")])
    km.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    r = rng(9)
    x, y = r.normal(size=(12, 5)).astype("f4"), r.normal(size=(12, 2)).astype("f4")
    train_keras(km, x, y)
    fm = fc.models.load_model(save_keras(km, tmp_path))
    assert [layer.trainable for layer in fm.layers] == [True, False, False, True]
    fm.train_on_batch(x, y)
    km.train_on_batch(x, y)
    assert_same_layer_weights(fm, km)
    fm.save(str(tmp_path / "back.keras"))
    back = keras.saving.load_model(str(tmp_path / "back.keras"))
    assert [layer.trainable for layer in back.layers] == [True, False, False, True]
    for a, b in zip(keras_optimizer_values(km), keras_optimizer_values(back)):
        assert_close(a, b)


def binary_task(r):
    return 1, "sigmoid", keras.losses.BinaryCrossentropy(label_smoothing=0.1), [
        "accuracy", keras.metrics.BinaryAccuracy(threshold=0.4), keras.metrics.AUC(curve="PR", num_thresholds=30),
        keras.metrics.Precision(), keras.metrics.Recall(thresholds=0.6)], r.integers(0, 2, (16, 1)).astype("f4")


def categorical_task(r):
    return 3, "softmax", "categorical_crossentropy", [
        "categorical_accuracy", keras.metrics.TopKCategoricalAccuracy(k=2), keras.metrics.AUC()], \
        np.eye(3, dtype="f4")[r.integers(0, 3, 16)]


def sparse_task(r):
    return 3, None, keras.losses.SparseCategoricalCrossentropy(from_logits=True), [
        "sparse_categorical_accuracy", "accuracy"], r.integers(0, 3, 16)


def regression_task(loss):
    def task(r):
        return 2, None, loss, ["mse", "mae", keras.metrics.RootMeanSquaredError(),
                               keras.metrics.MeanAbsoluteError(name="abs")], r.normal(size=(16, 2)).astype("f4")
    return task


@pytest.mark.parametrize("task", [
    binary_task, categorical_task, sparse_task, regression_task("mse"), regression_task("mean_absolute_error"),
    regression_task(keras.losses.Huber()), regression_task(keras.losses.MeanSquaredError())],
    ids=["binary", "categorical", "sparse", "mse", "mae", "huber", "mse-object"])
def test_every_loss_and_metric_reads_from_keras(tmp_path, task):
    """Each loss and metric fitcore has, as Keras writes it (a name or an object with its config):
    fitcore's evaluate gives Keras's logs, under Keras's names, and the next step is Keras's."""
    r = rng(12)
    units, activation, loss, metrics, y = task(r)
    km = keras.Sequential([keras.Input((5,)), keras.layers.Dense(6, activation="relu"),
                           keras.layers.Dense(units, activation=activation)])
    km.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss, metrics=metrics)
    x = r.normal(size=(16, 5)).astype("f4")
    train_keras(km, x, y, steps=2)
    fm = fc.models.load_model(save_keras(km, tmp_path))
    fm_logs, km_logs = fm.evaluate(x, y, return_dict=True, verbose=0), km.evaluate(x, y, return_dict=True, verbose=0)
    assert sorted(fm_logs) == sorted(km_logs)
    for key in km_logs:
        assert_close(fm_logs[key], km_logs[key], 1e-5)
    fm.train_on_batch(x, y)
    km.train_on_batch(x, y)
    assert_same_layer_weights(fm, km)


def test_keras_compiled_but_never_trained_starts_a_fresh_optimizer(tmp_path):
    km = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)])
    km.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")  # Keras builds no slots before a step
    fm = fc.models.load_model(save_keras(km, tmp_path))
    r = rng(4)
    x, y = r.normal(size=(8, 5)).astype("f4"), r.normal(size=(8, 2)).astype("f4")
    fm.train_on_batch(x, y)
    km.train_on_batch(x, y)
    assert fm.optimizer.iterations == 1
    assert_same_layer_weights(fm, km)


def test_keras_uncompiled_and_compile_false(tmp_path):
    km = keras_functional()
    path = save_keras(km, tmp_path)
    fm = fc.models.load_model(path)
    assert not fm.compiled
    x, _ = functional_data()
    assert_same_outputs(fm.predict(x, verbose=0), km.predict(x, verbose=0))
    compile_functional(km, "adam")
    fm = fc.models.load_model(save_keras(km, tmp_path, "c.keras"), compile=False)
    assert not fm.compiled


def test_keras_embedding_dropout_noise_and_flatten(tmp_path):
    km = keras.Sequential([keras.Input((5,), dtype="int32"), keras.layers.Embedding(10, 3),
                           keras.layers.Dropout(0.3, seed=4), keras.layers.Flatten(),
                           keras.layers.GaussianNoise(0.2), keras.layers.Activation("elu"),
                           keras.layers.Dense(2, activation="softplus")])
    fm = fc.models.load_model(save_keras(km, tmp_path))
    dropout, noise = fm.layers[1], fm.layers[3]
    assert (dropout.rate, dropout.seed, noise.stddev) == (0.3, 4, 0.2)
    ids = rng(5).integers(0, 10, (7, 5))
    assert_same_outputs(fm.predict(ids, verbose=0), km.predict(ids, verbose=0))  # inference: no noise


def test_keras_metrics_and_losses_by_object_and_per_output_dict(tmp_path):
    km = keras_functional()
    km.compile(optimizer="sgd",
               loss={"probs": keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
                     "total": keras.losses.Huber()},  # Keras 3.15.1's Huber.get_config() omits delta
               metrics={"probs": [keras.metrics.AUC(num_thresholds=50), keras.metrics.Precision(thresholds=0.3)],
                        "total": [keras.metrics.RootMeanSquaredError()]},
               weighted_metrics={"total": ["mse"]})
    x, y = functional_data()
    train_keras(km, x, y, steps=1)
    fm = fc.models.load_model(save_keras(km, tmp_path))
    cfg = fm._compile_config
    assert cfg.losses[0].label_smoothing == 0.1 and type(cfg.losses[1]).__name__ == "Huber"
    assert [type(m).__name__ for m in cfg.metrics[0]] == ["AUC", "Precision"]
    assert cfg.metrics[0][0].num_thresholds == 50 and cfg.metrics[0][1].thresholds == 0.3
    assert [type(m).__name__ for m in cfg.metrics[1]] == ["RootMeanSquaredError"]
    assert cfg.weighted_metrics == [[], [cfg.weighted_metrics[1][0]]] and cfg.weighted_metrics[1][0].name == "mse"
    fm_logs, km_logs = fm.evaluate(x, y, return_dict=True, verbose=0), km.evaluate(x, y, return_dict=True, verbose=0)
    for key in km_logs:
        assert_close(fm_logs[key], km_logs[key], 1e-5)


# --- fitcore -> Keras ---------------------------------------------------------------------------
def fitcore_functional():
    a = fc.Input((4,), name="a")
    b = fc.Input((3,), name="b")
    x = fc.layers.Dense(5, activation="relu", name="da")(a)
    y = fc.layers.Dense(5, activation="tanh", name="db", kernel_regularizer=fc.regularizers.L2(0.01))(b)
    z = fc.layers.Concatenate(name="cat")([x, y])
    z = fc.layers.BatchNormalization(name="bn")(z)
    z = fc.layers.Dense(6, activation="silu", name="dz")(z)
    probs = fc.layers.Dense(2, activation="softmax", name="probs")(z)
    total = fc.layers.Add(name="total")([x, y])
    return fc.Model({"a": a, "b": b}, [probs, total], name="fc_two_heads")


def test_fitcore_functional_saves_a_file_keras_loads_and_continues(tmp_path):
    fc.utils.set_random_seed(1)
    fm = fitcore_functional()
    fm.compile(optimizer=fc.optimizers.Adam(0.01), loss=["categorical_crossentropy", "mse"], loss_weights=[1.0, 0.5],
               metrics=[["accuracy"], ["mae"]])
    x, y = functional_data()
    for _ in range(3):
        fm.train_on_batch(x, y)
    path = str(tmp_path / "fc.keras")
    fm.save(path)

    km = keras.saving.load_model(path)
    assert km.name == "fc_two_heads" and int(np.asarray(km.optimizer.iterations)) == 3
    assert_same_outputs(fm.predict(x, verbose=0), km.predict(x, verbose=0))
    assert_same_layer_weights(fm, km, 0)
    fm_logs = fm.train_on_batch(x, y, return_dict=True)
    km_logs = km.train_on_batch(x, y, return_dict=True)
    assert_close(fm_logs["loss"], km_logs["loss"], 1e-5)
    assert_same_layer_weights(fm, km)


def test_fitcore_sequential_saves_for_keras_compiled_untrained_and_uncompiled(tmp_path):
    fm = fc.Sequential([fc.Input((6,)), fc.layers.Dense(8, activation="relu", kernel_initializer="he_normal"),
                        fc.layers.Dropout(0.2), fc.layers.Dense(3, activation="softmax")], name="plain")
    fm.save(str(tmp_path / "u.keras"))
    km = keras.saving.load_model(str(tmp_path / "u.keras"))
    assert not km.compiled
    x, y = sequential_data()
    assert_same_outputs(fm.predict(x, verbose=0), km.predict(x, verbose=0))

    # compiled, no step yet: Keras gets a fresh optimizer (Adagrad's accumulators at their initial value)
    fm.compile(optimizer=fc.optimizers.Adagrad(0.1, initial_accumulator_value=0.3), loss="categorical_crossentropy")
    fm.save(str(tmp_path / "c.keras"))
    km = keras.saving.load_model(str(tmp_path / "c.keras"))
    values = keras_optimizer_values(km)
    assert len(values) == 2 + 4 and int(values[0]) == 0 and np.float32(values[1]) == np.float32(0.1)
    assert all(np.all(v == np.float32(0.3)) for v in values[2:])


@pytest.mark.parametrize("optimizer", [
    fc.optimizers.SGD(0.05, momentum=0.9), fc.optimizers.RMSprop(0.01, momentum=0.3),
    fc.optimizers.AdamW(0.01), fc.optimizers.Adam(fc.optimizers.schedules.ExponentialDecay(0.02, 2, 0.5))],
    ids=["sgd-momentum", "rmsprop-momentum", "adamw", "adam-schedule"])
def test_fitcore_optimizer_state_reaches_keras(tmp_path, optimizer):
    fm = fc.Sequential([fc.Input((5,)), fc.layers.Dense(4, activation="tanh"), fc.layers.Dense(2)])
    fm.compile(optimizer=optimizer, loss="mse")
    r = rng(6)
    x, y = r.normal(size=(12, 5)).astype("f4"), r.normal(size=(12, 2)).astype("f4")
    for _ in range(3):
        fm.train_on_batch(x, y)
    fm.save(str(tmp_path / "o.keras"))
    km = keras.saving.load_model(str(tmp_path / "o.keras"))
    for _ in range(2):
        fm.train_on_batch(x, y)
        km.train_on_batch(x, y)
    assert_same_layer_weights(fm, km, 2e-6)


def test_fitcore_graph_written_in_keras_layer_order(tmp_path):
    """Keras numbers a file's layer groups (dense, dense_1, ...) in its own order of model.layers (by
    depth from the outputs, not by creation): with same-shape layers a wrong order loads silently
    into the wrong layers, so predictions and the next step tell."""
    fc.utils.set_random_seed(2)
    a, b = fc.Input((3,), name="a"), fc.Input((3,), name="b")
    shallow = fc.layers.Dense(3, name="made_first")(b)
    deep = fc.layers.Dense(3, name="made_third")(fc.layers.Dense(3, name="made_second")(a))
    mixed = fc.layers.Add(name="mix")([deep, shallow])
    side = fc.layers.Dense(3, name="made_last", bias_initializer="ones")(fc.layers.Add(name="again")([shallow, a]))
    fm = fc.Model([a, b], [side, mixed])
    fm.compile(optimizer=fc.optimizers.Adam(0.01), loss=["mse", "mae"])
    r = rng(8)
    x = [r.normal(size=(9, 3)).astype("f4"), r.normal(size=(9, 3)).astype("f4")]
    y = [r.normal(size=(9, 3)).astype("f4"), r.normal(size=(9, 3)).astype("f4")]
    fm.train_on_batch(x, y)
    fm.save(str(tmp_path / "order.keras"))
    km = keras.saving.load_model(str(tmp_path / "order.keras"))
    assert_same_layer_weights(fm, km, 0)
    assert_same_outputs(fm.predict(x, verbose=0), km.predict(x, verbose=0))
    fm.train_on_batch(x, y)
    km.train_on_batch(x, y)
    assert_same_layer_weights(fm, km)


def test_fitcore_layer_without_keras_counterpart_is_refused_before_writing(tmp_path):
    class ScaledDense(fc.layers.Dense):
        pass

    fm = fc.Sequential([fc.Input((3,)), ScaledDense(2, name="scaled")])
    with pytest.raises(ValueError, match=r"save: layer 'scaled' \(ScaledDense\) has no Keras counterpart .*"
                                         r"'\.fitcore'"):
        fm.save(str(tmp_path / "m.keras"))
    assert os.listdir(tmp_path) == []


def test_fitcore_compile_settings_reach_keras(tmp_path):
    """Keras evaluates the loaded file with fitcore's losses, loss weights, metrics and weighted
    metrics: the logs agree, names included (single output, and dict-named outputs)."""
    r = rng(10)
    fm = fc.Sequential([fc.Input((4,)), fc.layers.Dense(3, activation="softmax")])
    fm.compile("adam", "categorical_crossentropy", loss_weights=0.5,
               metrics=["accuracy", fc.metrics.AUC(num_thresholds=20), fc.metrics.TopKCategoricalAccuracy(k=2),
                        fc.metrics.Precision(thresholds=0.4, class_id=1)], weighted_metrics=["mse"])
    x, y = r.normal(size=(10, 4)).astype("f4"), np.eye(3, dtype="f4")[r.integers(0, 3, 10)]
    fm.train_on_batch(x, y)
    fm.save(str(tmp_path / "one.keras"))
    km = keras.saving.load_model(str(tmp_path / "one.keras"))
    fm_logs, km_logs = fm.evaluate(x, y, return_dict=True, verbose=0), km.evaluate(x, y, return_dict=True, verbose=0)
    assert sorted(fm_logs) == sorted(km_logs)
    for key in km_logs:
        assert_close(fm_logs[key], km_logs[key], 1e-5)

    a = fc.Input((4,), name="a")
    h = fc.layers.Dense(3, name="h")(a)
    fm = fc.Model({"a": a}, {"yes": fc.layers.Dense(1, activation="sigmoid", name="d1")(h),
                             "amount": fc.layers.Dense(2, name="d2")(h)})
    fm.compile("rmsprop", {"yes": "binary_crossentropy", "amount": "huber"}, loss_weights={"yes": 2.0, "amount": 1.0},
               metrics={"yes": ["accuracy"]}, weighted_metrics={"amount": ["mae"]})
    xs = {"a": r.normal(size=(10, 4)).astype("f4")}
    ys = {"yes": r.integers(0, 2, (10, 1)).astype("f4"), "amount": r.normal(size=(10, 2)).astype("f4")}
    fm.train_on_batch(xs, ys)
    fm.save(str(tmp_path / "named.keras"))
    km = keras.saving.load_model(str(tmp_path / "named.keras"))
    fm_logs, km_logs = fm.evaluate(xs, ys, return_dict=True, verbose=0), km.evaluate(xs, ys, return_dict=True,
                                                                                     verbose=0)
    assert sorted(fm_logs) == sorted(km_logs) == ["amount_loss", "amount_mae", "loss", "yes_accuracy", "yes_loss"]
    for key in km_logs:
        assert_close(fm_logs[key], km_logs[key], 1e-5)
    again = fc.models.load_model(str(tmp_path / "named.keras"))
    assert again.output_names == ["yes", "amount"] and again._compile_config.loss_weights == [2.0, 1.0]


def test_round_trip_keras_fitcore_keras_keeps_every_variable(tmp_path):
    km = keras_functional()
    compile_functional(km, keras.optimizers.Adam(0.01))
    x, y = functional_data()
    train_keras(km, x, y)
    fm = fc.models.load_model(save_keras(km, tmp_path))
    fm.save(str(tmp_path / "again.keras"))
    back = keras.saving.load_model(str(tmp_path / "again.keras"))
    for layer in km.layers:
        for a, b in zip(layer.get_weights(), back.get_layer(layer.name).get_weights()):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(keras_optimizer_values(km), keras_optimizer_values(back)):
        np.testing.assert_array_equal(a, b)
    km.train_on_batch(x, y)
    back.train_on_batch(x, y)
    for layer in km.layers:
        for a, b in zip(layer.get_weights(), back.get_layer(layer.name).get_weights()):
            np.testing.assert_array_equal(a, b)


def test_in_memory_from_keras_and_to_keras():
    km = keras_functional()
    compile_functional(km, keras.optimizers.Adam(0.01))
    x, y = functional_data()
    train_keras(km, x, y)
    fm = fc.models.from_keras(km)
    assert_same_outputs(fm.predict(x, verbose=0), km.predict(x, verbose=0))
    assert fm.optimizer.iterations == 3
    back = fm.to_keras()
    assert isinstance(back, keras.Model)
    assert_same_outputs(fm.predict(x, verbose=0), back.predict(x, verbose=0))
    fm.train_on_batch(x, y)
    back.train_on_batch(x, y)
    assert_same_layer_weights(fm, back)
    with pytest.raises(TypeError, match="`keras_model` must be a keras.Model"):
        fc.models.from_keras(fm)


def test_shared_layer_and_sequential_inside_the_order(tmp_path):
    """One Dense called on two inputs (two inbound nodes sharing weights) goes both ways."""
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    shared = keras.layers.Dense(4, name="shared")
    out = keras.layers.Dense(1, name="out")(keras.layers.Add(name="sum")([shared(a), shared(b)]))
    km = keras.Model([a, b], out)
    r = rng(7)
    x = [r.normal(size=(5, 3)).astype("f4"), r.normal(size=(5, 3)).astype("f4")]
    fm = fc.models.load_model(save_keras(km, tmp_path))
    assert len(fm.weights) == 4
    assert_same_outputs(fm.predict(x, verbose=0), km.predict(x, verbose=0))
    fm.save(str(tmp_path / "back.keras"))
    back = keras.saving.load_model(str(tmp_path / "back.keras"))
    assert not isinstance(back.output, list)  # one output stays one tensor, as Keras saved it
    assert_same_outputs(back.predict(x, verbose=0), km.predict(x, verbose=0))


# Per Keras layer class: (the layer, per-sample input shapes; a list of several is a merge call).
LAYER_CASES = {
    "Dense": (lambda: keras.layers.Dense(3, activation="relu", kernel_regularizer="l2"), [(4,)]),
    "Activation": (lambda: keras.layers.Activation("sigmoid"), [(4,)]),
    "Dropout": (lambda: keras.layers.Dropout(0.5, noise_shape=(None, 1, 3)), [(2, 3)]),
    "GaussianNoise": (lambda: keras.layers.GaussianNoise(0.3), [(4,)]),
    "Flatten": (lambda: keras.layers.Flatten(), [(2, 3)]),
    "Concatenate": (lambda: keras.layers.Concatenate(axis=1), [(2, 3), (1, 3)]),
    "Add": (lambda: keras.layers.Add(), [(4,), (4,), (4,)]),
    "BatchNormalization": (lambda: keras.layers.BatchNormalization(momentum=0.9, epsilon=0.01, center=False),
                           [(4,)]),
    "Embedding": (lambda: keras.layers.Embedding(7, 2), [(3,)]),
    "Multiply": (lambda: keras.layers.Multiply(), [(4,), (4,)]),
    "Subtract": (lambda: keras.layers.Subtract(), [(4,), (4,)]),
    "Average": (lambda: keras.layers.Average(), [(4,), (4,)]),
    "Maximum": (lambda: keras.layers.Maximum(), [(4,), (4,)]),
    "Minimum": (lambda: keras.layers.Minimum(), [(4,), (4,)]),
    "Dot": (lambda: keras.layers.Dot(axes=1, normalize=True), [(4,), (4,)]),
    "Permute": (lambda: keras.layers.Permute((2, 1)), [(2, 3)]),
    "RepeatVector": (lambda: keras.layers.RepeatVector(3), [(4,)]),
    "Rescaling": (lambda: keras.layers.Rescaling(scale=0.5, offset=1.0), [(4,)]),
    "Conv1D": (lambda: keras.layers.Conv1D(3, 3, strides=2, padding="same", activation="relu"), [(9, 2)]),
    "Conv2D": (lambda: keras.layers.Conv2D(4, (3, 2), dilation_rate=(1, 2), padding="valid"), [(6, 7, 2)]),
    "MaxPooling1D": (lambda: keras.layers.MaxPooling1D(2), [(7, 3)]),
    "MaxPooling2D": (lambda: keras.layers.MaxPooling2D((2, 2), padding="same"), [(5, 5, 2)]),
    "AveragePooling1D": (lambda: keras.layers.AveragePooling1D(3, strides=1), [(7, 3)]),
    "AveragePooling2D": (lambda: keras.layers.AveragePooling2D((2, 3)), [(6, 6, 2)]),
    "GlobalAveragePooling1D": (lambda: keras.layers.GlobalAveragePooling1D(), [(7, 3)]),
    "GlobalAveragePooling2D": (lambda: keras.layers.GlobalAveragePooling2D(), [(4, 5, 3)]),
    "GlobalMaxPooling1D": (lambda: keras.layers.GlobalMaxPooling1D(), [(7, 3)]),
    "GlobalMaxPooling2D": (lambda: keras.layers.GlobalMaxPooling2D(keepdims=True), [(4, 5, 3)]),
    "ZeroPadding1D": (lambda: keras.layers.ZeroPadding1D((1, 2)), [(5, 3)]),
    "ZeroPadding2D": (lambda: keras.layers.ZeroPadding2D(((1, 0), (2, 1))), [(4, 5, 3)]),
    "UpSampling1D": (lambda: keras.layers.UpSampling1D(3), [(4, 2)]),
    "UpSampling2D": (lambda: keras.layers.UpSampling2D((2, 3)), [(3, 4, 2)]),
    "Reshape": (lambda: keras.layers.Reshape((3, 4)), [(12,)]),
}
TABLE_LAYERS = [name for name, entry in keras_format.LAYERS.items() if entry.fitcore_class() is not None]


def test_every_table_layer_has_a_case():
    assert set(TABLE_LAYERS) <= set(LAYER_CASES)


@pytest.mark.parametrize("name", TABLE_LAYERS)
def test_every_layer_in_the_table_goes_both_ways(tmp_path, name):
    """Each layer fitcore has, alone after its inputs: Keras -> fitcore -> Keras, same predictions and
    the same weights (randomised first, so a mixed-up variable order shows)."""
    make, shapes = LAYER_CASES[name]
    r = rng(13)
    integer = name == "Embedding"
    inputs = [keras.Input(shape, dtype="int32" if integer else "float32") for shape in shapes]
    out = make()(inputs if len(inputs) > 1 else inputs[0])
    km = keras.Model(inputs, out)
    for layer in km.layers:
        layer.set_weights([r.normal(size=w.shape).astype("f4") + (2.0 if "variance" in w.path else 0.0)
                           for w in layer.weights])
    x = [r.integers(0, 7, (5, *s)) if integer else r.normal(size=(5, *s)).astype("f4") for s in shapes]
    x = x if len(x) > 1 else x[0]
    fm = fc.models.load_model(save_keras(km, tmp_path))
    assert type(fm.layers[-1]).__name__ == name
    assert_same_outputs(fm.predict(x, verbose=0), km.predict(x, verbose=0))
    fm.save(str(tmp_path / "back.keras"))
    back = keras.saving.load_model(str(tmp_path / "back.keras"))
    assert type(back.layers[-1]).__name__ == name and back.layers[-1].name == km.layers[-1].name
    assert_same_layer_weights(fm, back, 0)
    assert_same_outputs(back.predict(x, verbose=0), km.predict(x, verbose=0))


# --- telling the formats apart by content ---------------------------------------------------------
def test_load_model_tells_the_formats_apart_by_content(tmp_path):
    fm = fc.Sequential([fc.Input((6,)), fc.layers.Dense(3)])
    x, _ = sequential_data()
    fm.save(str(tmp_path / "own.fitcore"))
    fm.save(str(tmp_path / "theirs.keras"))
    with zipfile.ZipFile(tmp_path / "own.fitcore") as z:
        assert "model.weights.h5" not in z.namelist() and "weights/0000.npy" in z.namelist()
    with zipfile.ZipFile(tmp_path / "theirs.keras") as z:
        assert sorted(z.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
    shutil.copy(tmp_path / "own.fitcore", tmp_path / "own_named.keras")
    shutil.copy(tmp_path / "theirs.keras", tmp_path / "theirs_named.fitcore")
    expected = fm.predict(x, verbose=0)
    for name in ("own_named.keras", "theirs_named.fitcore"):
        assert_close(fc.models.load_model(str(tmp_path / name)).predict(x, verbose=0), expected, 0)


# --- what fitcore lacks --------------------------------------------------------------------------
@pytest.mark.parametrize("build, message", [
    (lambda: keras.Sequential([keras.Input((4,)), keras.layers.LayerNormalization()]),
     r"layers\[1\]: Keras layer 'LayerNormalization' is not supported by fitcore; it reads .*Dense"),
    (lambda: keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, kernel_constraint="non_neg")]),
     r"`kernel_constraint`=.* is not supported by fitcore"),
    (lambda: keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, kernel_initializer="he_uniform")]),
     r"kernel_initializer: Keras initializer 'HeUniform' is not supported by fitcore"),
], ids=["layer", "option", "initializer"])
def test_unsupported_keras_layers_are_named(tmp_path, build, message):
    with pytest.raises(ValueError, match=message):
        fc.models.load_model(save_keras(build(), tmp_path))


@pytest.mark.parametrize("compile_args, message", [
    ({"optimizer": keras.optimizers.Lion(), "loss": "mse"}, r"Keras optimizer 'Lion' is not supported"),
    ({"optimizer": "sgd", "loss": keras.losses.CategoricalFocalCrossentropy()},
     r"compile_config.loss.*Keras loss 'CategoricalFocalCrossentropy' is not supported"),
    ({"optimizer": "sgd", "loss": "mse", "metrics": [keras.metrics.MeanIoU(num_classes=2)]},
     r"compile_config.metrics\[0\].*Keras metric 'MeanIoU' is not supported"),
    ({"optimizer": "sgd", "loss": "mse", "metrics": [keras.metrics.Accuracy()]},
     r"Keras metric 'Accuracy' is not supported"),
], ids=["optimizer", "loss", "metric", "exact-accuracy"])
def test_unsupported_compile_settings_are_named(tmp_path, compile_args, message):
    km = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    km.compile(**compile_args)
    path = save_keras(km, tmp_path)
    with pytest.raises(ValueError, match=message):
        fc.models.load_model(path)
    assert fc.models.load_model(path, compile=False).compiled is False  # the model itself still loads


# --- hostile files ------------------------------------------------------------------------------
@pytest.fixture
def keras_file(tmp_path):
    km = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4), keras.layers.Dense(3)])
    km.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    x, y = sequential_data()
    km.train_on_batch(x, y)
    return save_keras(km, tmp_path, "good.keras")


def rewrite(source, target, config=None, h5=None, entries=None):
    """A copy of a .keras file with config.json edited, the HDF5 file edited (h5(file)), or entries
    replaced ({name: bytes})."""
    with zipfile.ZipFile(source) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    if config is not None:
        parsed = json.loads(parts["config.json"])
        config(parsed)
        parts["config.json"] = json.dumps(parsed).encode()
    if h5 is not None:
        buffer = io.BytesIO(parts["model.weights.h5"])
        with h5py.File(buffer, "a") as f:
            h5(f)
        parts["model.weights.h5"] = buffer.getvalue()
    parts.update(entries or {})
    with zipfile.ZipFile(target, "w") as z:
        for name, data in parts.items():
            if data is not None:
                z.writestr(name, data)
    return str(target)


def replace_dataset(path, shape, dtype="f4", fill=None):
    def edit(f):
        del f[path]
        f.create_dataset(path, shape=shape, dtype=dtype, fillvalue=fill)
    return edit


def test_hostile_wrong_weight_shape(keras_file, tmp_path):
    bad = rewrite(keras_file, tmp_path / "bad.keras", h5=replace_dataset("layers/dense/vars/0", (5, 4)))
    with pytest.raises(ValueError, match=r"layers/dense/vars/0 \(layer 'dense.*'\) holds float32 \(5, 4\), "
                                         r"expected float \(6, 4\)"):
        fc.models.load_model(bad)
    bad = rewrite(keras_file, tmp_path / "text.keras", h5=replace_dataset("layers/dense/vars/1", (4,), "S3"))
    with pytest.raises(ValueError, match=r"layers/dense/vars/1 \(layer 'dense.*'\) holds \|S3 \(4,\), "
                                         r"expected float \(4,\)"):
        fc.models.load_model(bad)


def test_hostile_huge_declared_dataset_is_refused_in_bounded_memory(keras_file, tmp_path):
    # 2**40 floats declared (4 TB), stored as nothing: HDF5 allocates lazily, so the file stays small.
    bad = rewrite(keras_file, tmp_path / "huge.keras", h5=replace_dataset("layers/dense/vars/0", (2**40,)))
    tracemalloc.start()
    with pytest.raises(ValueError, match=r"holds float32 \(1099511627776,\), expected float \(6, 4\)"):
        fc.models.load_model(bad)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20e6


def test_hostile_huge_layer_in_config_is_refused_before_allocating(keras_file, tmp_path):
    def grow(config):
        config["config"]["layers"][1]["config"]["units"] = 2**28  # 6 * 2**28 floats = 6 GB of kernel

    bad = rewrite(keras_file, tmp_path / "wide.keras", config=grow)
    tracemalloc.start()
    with pytest.raises(ValueError, match=r"describes a model fitcore cannot build: .*kernel: its weights need "
                                         r"1610612736 values, more than the file being loaded carries"):
        fc.models.load_model(bad)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20e6


def test_hostile_missing_dataset_and_missing_optimizer_slot(keras_file, tmp_path):
    def drop(path):
        return lambda f: f.__delitem__(path)

    bad = rewrite(keras_file, tmp_path / "nobias.keras", h5=drop("layers/dense_1/vars/1"))
    with pytest.raises(ValueError, match=r"layers/dense_1/vars \(layer 'dense.*'\) holds 1 variables, the layer "
                                         r"has 2"):
        fc.models.load_model(bad)
    bad = rewrite(keras_file, tmp_path / "noslot.keras", h5=drop("optimizer/vars/5"))
    with pytest.raises(ValueError, match=r"optimizer/vars holds 9 variables, Adam over these weights has 10"):
        fc.models.load_model(bad)
    bad = rewrite(keras_file, tmp_path / "badslot.keras", h5=replace_dataset("optimizer/vars/3", (6, 3)))
    with pytest.raises(ValueError, match=r"optimizer/vars/3 holds float32 \(6, 3\), expected float \(6, 4\)"):
        fc.models.load_model(bad)
    assert fc.models.load_model(bad, compile=False).built  # the weights themselves are fine


def test_hostile_hdf5_reaching_other_files(keras_file, tmp_path):
    """A dataset whose bytes live in another file (HDF5 external storage), or a link into another HDF5
    file, would read whatever the path names on this machine: refused."""
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(24, dtype="f4").tobytes())

    def external_storage(f):
        del f["layers/dense/vars/0"]
        f.create_dataset("layers/dense/vars/0", shape=(6, 4), dtype="f4", external=[(str(secret), 0, 96)])

    bad = rewrite(keras_file, tmp_path / "external.keras", h5=external_storage)
    with pytest.raises(ValueError, match=r"layers/dense/vars/0 .* keeps its data outside model.weights.h5"):
        fc.models.load_model(bad)

    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("kernel", data=np.ones((6, 4), "f4"))

    def external_link(f):
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.ExternalLink(str(other), "kernel")

    bad = rewrite(keras_file, tmp_path / "link.keras", h5=external_link)
    with pytest.raises(ValueError, match=r"model.weights.h5 lacks layers/dense/vars/0"):
        fc.models.load_model(bad)

    def soft_link(f):
        del f["layers/dense_1/vars"]
        f["layers/dense_1/vars"] = h5py.SoftLink("/layers/dense/vars")

    bad = rewrite(keras_file, tmp_path / "soft.keras", h5=soft_link)
    with pytest.raises(ValueError, match=r"model.weights.h5 lacks layers/dense_1/vars"):
        fc.models.load_model(bad)


def test_damaged_hdf5_is_a_value_error_or_loads(keras_file, tmp_path):
    """300 random cuts and byte changes of model.weights.h5, re-zipped with a valid CRC so HDF5's own
    parser meets them: each load either succeeds (a changed weight value) or is a ValueError, never
    h5py's KeyError/RuntimeError/OSError or a crash."""
    with zipfile.ZipFile(keras_file) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    original = parts["model.weights.h5"]
    draw = np.random.default_rng(11)
    refused = 0
    for i in range(300):
        damaged = bytearray(original)
        if i % 5 == 0:
            damaged = damaged[:draw.integers(0, len(damaged))]
        else:
            for position in draw.integers(0, len(damaged), draw.integers(1, 7)):
                damaged[position] = draw.integers(0, 256)
        bad = rewrite(keras_file, tmp_path / "damaged.keras", entries={"model.weights.h5": bytes(damaged)})
        try:
            fc.models.load_model(bad)
        except ValueError:
            refused += 1
    assert refused > 50  # the campaign reached HDF5's structure, not only weight values


def test_hostile_json_and_entries(keras_file, tmp_path):
    cases = {
        "badjson": ({"config.json": b"{not json"}, r"config.json is not valid JSON"),
        "notobject": ({"config.json": b"[1, 2]"}, r"config.json must hold a JSON object"),
        "noh5": ({"model.weights.h5": b"this is not HDF5"}, r"model.weights.h5 in .* is not a readable HDF5 file"),
        "extra": ({"evil.py": b"import os"}, r"holds unexpected entries \['evil.py'\] for a Keras file"),
        "keras2": ({"metadata.json": b'{"keras_version": "2.15.0"}'}, r"is not a Keras 3 file"),
    }
    for name, (entries, message) in cases.items():
        bad = rewrite(keras_file, tmp_path / f"{name}.keras", entries=entries)
        with pytest.raises(ValueError, match=message):
            fc.models.load_model(bad)


@pytest.mark.parametrize("edit, message", [
    (lambda c: c.__setitem__("class_name", "MyModel"), r"Keras model class 'MyModel' is not supported"),
    (lambda c: c["config"]["layers"][0]["config"].__setitem__("batch_shape", [None, -3]),
     r"input shape \[-3\] is not a list of sizes"),
    (lambda c: c["config"]["layers"][1].__setitem__("config", "dense"), r"layers\[1\]: expected a Keras layer"),
    (lambda c: c["config"]["layers"][1]["config"].__setitem__("activation", "hard_silu"),
     r"Keras activation 'hard_silu' is not supported by fitcore"),
    (lambda c: c["config"]["layers"][1]["config"].__setitem__("dtype", "float64"),
     r"dtype policy 'float64' is not supported"),
    (lambda c: c["compile_config"].__setitem__("loss", "no_such_loss"), r"Keras loss 'no_such_loss' is not supported"),
], ids=["model-class", "input-shape", "layer-entry", "activation", "dtype", "loss-name"])
def test_hostile_or_foreign_configs(keras_file, tmp_path, edit, message):
    with pytest.raises(ValueError, match=message):
        fc.models.load_model(rewrite(keras_file, tmp_path / "edited.keras", config=edit))


def test_hostile_functional_graph(tmp_path):
    km = keras_functional()
    path = save_keras(km, tmp_path)

    def dangling(config):
        node = config["config"]["layers"][2]["inbound_nodes"][0]["args"][0]
        node["config"]["keras_history"] = ["nowhere", 0, 0]

    with pytest.raises(ValueError, match=r"refers to tensors no layer makes: \[\('nowhere', 0\)\]"):
        fc.models.load_model(rewrite(path, tmp_path / "dangling.keras", config=dangling))

    def cycle(config):
        layers = {entry["name"]: entry for entry in config["config"]["layers"]}
        layers["da"]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["dz", 0, 0]

    with pytest.raises(ValueError, match=r"the graph has a cycle through \['bn', 'cat', 'da', 'dz'\]"):
        fc.models.load_model(rewrite(path, tmp_path / "cycle.keras", config=cycle))


def test_hostile_zip_directory_declaring_a_huge_weights_entry(keras_file, tmp_path):
    """The central directory claims model.weights.h5 is 2**40 bytes: refused before anything is copied."""
    data = bytearray(open(keras_file, "rb").read())
    # the central-directory record of model.weights.h5: its uncompressed size is at offset 24
    start = 0
    while True:
        start = data.index(b"PK\x01\x02", start)
        name_length = struct.unpack_from("<H", data, start + 28)[0]
        if data[start + 46:start + 46 + name_length] == b"model.weights.h5":
            break
        start += 4
    struct.pack_into("<I", data, start + 24, 0xFFFFFFF0)
    bad = tmp_path / "lying.keras"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"'model.weights.h5' is stored uncompressed but declares 4294967280 bytes for \d+ stored"):
        fc.models.load_model(str(bad))


def test_h5py_missing_is_a_clear_import_error(keras_file, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"need h5py: install fitcore's `keras` extra \(pip install "
                                          r"'fitcore\[keras\]'\)"):
        fc.models.load_model(keras_file)
    model = fc.Sequential([fc.Input((2,)), fc.layers.Dense(1)])
    with pytest.raises(ImportError, match=r"fitcore\[keras\]"):
        model.save(str(tmp_path / "m.keras"))
    model.save(str(tmp_path / "m.fitcore"))  # fitcore's own format needs numpy only
    assert not os.path.exists(tmp_path / "m.keras")


def test_keras_missing_is_a_clear_import_error(monkeypatch):
    model = fc.Sequential([fc.Input((2,)), fc.layers.Dense(1)])
    monkeypatch.setitem(sys.modules, "keras", None)
    with pytest.raises(ImportError, match=r"need Keras 3 installed"):
        model.to_keras()
    with pytest.raises(ImportError, match=r"need Keras 3 installed"):
        fc.models.from_keras(object())

"""fc.utils.to_categorical against Keras's semantics, and fc.callbacks.TensorBoard's event files read
back with TensorBoard's own EventAccumulator (the optional `tensorboard` extra, installed in CI)."""
import os

import numpy as np
import pytest

import fitcore as fc


def test_to_categorical_as_keras():
    got = fc.utils.to_categorical([0, 2, 1, 2])
    np.testing.assert_array_equal(got, np.eye(3)[[0, 2, 1, 2]])
    assert got.dtype == np.float64  # Keras 3 returns float64
    assert fc.utils.to_categorical(np.array([[1], [0]]), num_classes=4).shape == (2, 4)  # (n, 1): last axis dropped
    assert fc.utils.to_categorical(np.zeros((2, 3), int), 2).shape == (2, 3, 2)
    assert fc.utils.to_categorical([1.0, 0.0], dtype="float32").dtype == np.float32
    np.testing.assert_array_equal(fc.utils.to_categorical(np.array([3, 1], np.uint8), 5)[0], [0, 0, 0, 1, 0])
    with pytest.raises(ValueError, match=r"to_categorical: `x` holds class id 3, outside \[0, num_classes=3\)"):
        fc.utils.to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match=r"to_categorical: `x` holds class id -1"):
        fc.utils.to_categorical([0, -1])
    with pytest.raises(ValueError, match="to_categorical: `x` must hold integer class ids, got 1.5"):
        fc.utils.to_categorical([0, 1.5])
    with pytest.raises(ValueError, match="to_categorical: `num_classes` must be a positive int or None"):
        fc.utils.to_categorical([0, 1], num_classes=2.5)


def test_to_categorical_matches_keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    for labels, classes in [([0, 3, 1], None), (np.array([[2], [0]]), 5), (np.arange(6).reshape(2, 3) % 4, None)]:
        want = keras.utils.to_categorical(labels, classes)
        got = fc.utils.to_categorical(labels, classes)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def _scalars(run_dir):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    acc = event_accumulator.EventAccumulator(str(run_dir), size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def _fit(callback, epochs=3, n=40, batch_size=10):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(n, 4)).astype(np.float32), rng.integers(0, 2, size=(n, 1)).astype(np.float32)
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=fc.optimizers.SGD(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    return model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_split=0.25, callbacks=[callback],
                     verbose=0)


def test_tensorboard_epoch_scalars_read_back(tmp_path):
    pytest.importorskip("tensorboard")
    history = _fit(fc.callbacks.TensorBoard(log_dir=tmp_path / "logs"))
    train, validation = _scalars(tmp_path / "logs" / "train"), _scalars(tmp_path / "logs" / "validation")
    assert set(train) == {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"}
    assert set(validation) == {"epoch_loss", "epoch_accuracy"}
    for key in ("loss", "accuracy"):
        assert [s for s, _ in train[f"epoch_{key}"]] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in train[f"epoch_{key}"]], history.history[key], rtol=1e-6)
        np.testing.assert_allclose([v for _, v in validation[f"epoch_{key}"]], history.history[f"val_{key}"],
                                   rtol=1e-6)
    np.testing.assert_allclose([v for _, v in train["epoch_learning_rate"]], [0.05] * 3, rtol=1e-6)


@pytest.mark.parametrize("update_freq, steps", [("batch", list(range(1, 10))), (2, [2, 4, 6, 8])])
def test_tensorboard_batch_scalars(tmp_path, update_freq, steps):
    pytest.importorskip("tensorboard")
    history = _fit(fc.callbacks.TensorBoard(log_dir=tmp_path, update_freq=update_freq), epochs=3)
    train = _scalars(tmp_path / "train")
    # 30 training rows in batches of 10: 3 batches per epoch, 9 in all, counted from 1 across epochs.
    assert [s for s, _ in train["batch_loss"]] == steps
    assert [s for s, _ in train["batch_accuracy"]] == steps
    for step, value in train["batch_loss"]:
        if step % 3 == 0:  # an epoch's last batch logs the epoch's running mean: its loss
            assert value == pytest.approx(history.history["loss"][step // 3 - 1], rel=1e-6)
    assert set(train) == {"batch_loss", "batch_accuracy", "epoch_loss", "epoch_accuracy", "epoch_learning_rate"}


def test_tensorboard_epoch_updates_keep_the_core_running_whole_epochs(tmp_path):
    pytest.importorskip("tensorboard")
    assert not fc.callbacks.TensorBoard(log_dir=tmp_path).overrides_batch_hooks()
    assert fc.callbacks.TensorBoard(log_dir=tmp_path, update_freq=5).overrides_batch_hooks()


def test_tensorboard_argument_errors(tmp_path):
    pytest.importorskip("tensorboard")
    with pytest.raises(ValueError, match="TensorBoard: `update_freq` must be 'epoch', 'batch' or a positive int"):
        fc.callbacks.TensorBoard(log_dir=tmp_path, update_freq=0)
    with pytest.raises(ValueError, match=r"TensorBoard: fitcore writes scalars only; got \{'histogram_freq': 1\}"):
        fc.callbacks.TensorBoard(log_dir=tmp_path, histogram_freq=1)
    with pytest.raises(TypeError, match="TensorBoard: `log_dir` must be a path"):
        fc.callbacks.TensorBoard(log_dir=3)

"""Callbacks: hook order, the built-ins' Keras semantics, BackupAndRestore resuming identically."""
import csv
import os

import numpy as np
import pytest

import fitcore as fc
from fitcore import callbacks as cb


def make_data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int32")
    return x, y


def make_model(seed=1, optimizer="adam", lr=0.01):
    fc.utils.set_random_seed(seed)
    model = fc.Sequential([fc.Input((5,)), fc.layers.Dense(8, activation="relu"),
                           fc.layers.Dense(2, activation="softmax")])
    opt = {"adam": fc.optimizers.Adam, "sgd": fc.optimizers.SGD}[optimizer](learning_rate=lr)
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Recorder(cb.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def __getattribute__(self, name):
        if name.startswith("on_"):
            calls = object.__getattribute__(self, "calls")
            return lambda *args: calls.append((name,) + tuple(a for a in args if isinstance(a, int)))
        return object.__getattribute__(self, name)

    def overrides_batch_hooks(self):
        return True


class LogsOverride(cb.Callback):
    """Replaces the monitored value of each epoch with a crafted curve (runs before EarlyStopping)."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values = key, values

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


def test_hook_order_and_counts_with_validation():
    x, y = make_data()
    model = make_model()
    rec = Recorder()
    model.fit(x, y, batch_size=32, epochs=2, validation_split=0.25, verbose=0, callbacks=[rec])
    # 72 training samples -> 3 steps; 24 validation samples -> 1 test batch
    epoch = [("on_train_batch_begin", b) if i % 2 == 0 else ("on_train_batch_end", b)
             for b in range(3) for i in range(2)]
    test = [("on_test_begin",), ("on_test_batch_begin", 0), ("on_test_batch_end", 0), ("on_test_end",)]
    expected = [("on_train_begin",)]
    for e in range(2):
        expected += [("on_epoch_begin", e)] + epoch + test + [("on_epoch_end", e)]
    expected += [("on_train_end",)]
    assert rec.calls == expected


@pytest.mark.parametrize("streamed", [False, True])
def test_evaluate_and_predict_call_batch_hooks_per_batch_with_each_batch(streamed):
    x, y = make_data(n=90)
    model = make_model()
    rec = Recorder()
    data = dict(x=iter([(x[i:i + 20], y[i:i + 20]) for i in range(0, 90, 20)])) if streamed else \
        dict(x=x, y=y, batch_size=20)
    logs = model.evaluate(verbose=0, callbacks=[rec], return_dict=True, **data)
    assert rec.calls == [("on_test_begin",)] + [(f"on_test_batch_{h}", b) for b in range(5)
                                                for h in ("begin", "end")] + [("on_test_end",)]
    assert logs == model.evaluate(x, y, batch_size=20, verbose=0, return_dict=True)
    outputs = []
    hook = cb.LambdaCallback(on_predict_batch_end=lambda b, logs: outputs.append(logs["outputs"].copy()))
    data = iter([(x[i:i + 20],) for i in range(0, 90, 20)]) if streamed else x
    got = model.predict(data, batch_size=None if streamed else 20, verbose=0, callbacks=[hook])
    assert [len(o) for o in outputs] == [20, 20, 20, 20, 10]
    np.testing.assert_array_equal(np.concatenate(outputs), got)
    np.testing.assert_array_equal(got, model.predict(x, batch_size=20, verbose=0))


def test_batch_hooks_do_not_change_the_weights():
    x, y = make_data()
    plain = make_model()  # the core seed is drawn at the first fit: build and fit one model at a time
    plain.fit(x, y, batch_size=16, epochs=3, verbose=0)
    seen = []
    hooked = make_model()
    hooked.fit(x, y, batch_size=16, epochs=3, verbose=0,
               callbacks=[cb.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))])
    assert len(seen) == 3 * 6
    for a, b in zip(plain.get_weights(), hooked.get_weights()):
        np.testing.assert_array_equal(a, b)


def core_calls(model):
    """Spies on the runs of steps fit hands to the core: the list of their lengths."""
    counts, train_step = [], model._train_step

    def spy(core, run):
        counts.append(run.count)
        return train_step(core, run)

    model._train_step = spy
    return counts


class OldStyleBatchEnd(cb.Callback):  # Keras's older hook name, still called by Keras 3 fit
    def __init__(self):
        super().__init__()
        self.batches = []

    def on_batch_end(self, batch, logs=None):
        self.batches.append((batch, sorted(logs)))


def test_batch_hooks_are_called_every_step_only_when_a_callback_implements_one():
    x, y = make_data()  # 96 samples, batch 1: 96 steps an epoch
    model = make_model()
    counts = core_calls(model)
    model.fit(x, y, batch_size=1, epochs=2, verbose=0, callbacks=[cb.LambdaCallback(on_epoch_end=lambda e, l: None)])
    assert sum(counts) == 2 * 96 and len(counts) <= 2 * 4  # long runs of steps: 1, 10, then the rest
    old_style = OldStyleBatchEnd()
    counts.clear()
    model.fit(x, y, batch_size=1, epochs=2, verbose=0, callbacks=[old_style])
    assert counts == [1] * (2 * 96)
    assert [b for b, _ in old_style.batches] == list(range(96)) * 2
    assert old_style.batches[0][1] == ["accuracy", "loss"]
    plain = cb.Callback()  # a hook set on the instance counts too
    plain.on_train_batch_end = lambda batch, logs=None: None
    counts.clear()
    model.fit(x, y, batch_size=1, epochs=1, verbose=0, callbacks=[plain])
    assert counts == [1] * 96


def test_early_stopping_stops_after_patience_and_restores_best_weights():
    x, y = make_data()
    model = make_model()
    curve = [1.0, 0.8, 0.9, 0.85, 0.95, 0.7, 0.6]  # best at epoch 1, then no improvement
    weights = []
    snap = cb.LambdaCallback(on_epoch_end=lambda e, logs: weights.append(model.get_weights()))
    stop = cb.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    history = model.fit(x, y, epochs=7, validation_split=0.25, verbose=0,
                        callbacks=[LogsOverride("val_loss", curve), snap, stop])
    assert history.epoch == [0, 1, 2, 3, 4]  # epochs 2, 3, 4 without improvement: stop at 4
    assert stop.stopped_epoch == 4 and stop.best_epoch == 1 and stop.best == 0.8
    assert history.history["val_loss"] == curve[:5]
    for a, b in zip(model.get_weights(), weights[1]):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_min_delta_baseline_start_from_epoch_and_max_mode():
    x, y = make_data()
    # min_delta: 0.95 is not better than 1.0 by more than 0.1 -> stop after patience 1 at epoch 1
    h = make_model().fit(x, y, epochs=5, verbose=0, callbacks=[
        LogsOverride("loss", [1.0, 0.95, 0.5, 0.4, 0.3]), cb.EarlyStopping(monitor="loss", min_delta=0.1)])
    assert h.epoch == [0, 1]
    # baseline: improvements that do not beat 0.5 do not reset the patience count (Keras 3)
    curve = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95]
    h = make_model().fit(x, y, epochs=6, verbose=0, callbacks=[
        LogsOverride("loss", curve), cb.EarlyStopping(monitor="loss", patience=2, baseline=0.5)])
    assert h.epoch == [0, 1, 2]
    h = make_model().fit(x, y, epochs=6, verbose=0, callbacks=[
        LogsOverride("loss", curve), cb.EarlyStopping(monitor="loss", patience=2)])
    assert h.epoch == [0, 1, 2, 3]
    # start_from_epoch: the first epochs are ignored
    h = make_model().fit(x, y, epochs=6, verbose=0, callbacks=[
        LogsOverride("loss", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), cb.EarlyStopping(monitor="loss", start_from_epoch=3)])
    assert h.epoch == [0, 1, 2, 3, 4]
    # accuracy is maximized in mode="auto"
    h = make_model().fit(x, y, epochs=6, verbose=0, callbacks=[
        LogsOverride("accuracy", [0.5, 0.6, 0.7, 0.65, 0.6, 0.9]),
        cb.EarlyStopping(monitor="accuracy", patience=2)])
    assert h.epoch == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="mode"):
        cb.EarlyStopping(mode="largest")


def test_model_checkpoint_file_names_and_best_only(tmp_path):
    x, y = make_data()
    model = make_model()
    curve = [0.9, 0.5, 0.7, 0.4]
    template = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.weights.npz")
    weights = []
    model.fit(x, y, epochs=4, validation_split=0.25, verbose=0, callbacks=[
        LogsOverride("val_loss", curve), cb.ModelCheckpoint(template, save_weights_only=True),
        cb.LambdaCallback(on_epoch_end=lambda e, logs: weights.append(model.get_weights()))])
    names = sorted(p for p in os.listdir(tmp_path))
    assert names == ["ckpt-01-0.90.weights.npz", "ckpt-02-0.50.weights.npz", "ckpt-03-0.70.weights.npz",
                     "ckpt-04-0.40.weights.npz"]
    fresh = make_model(seed=5)
    fresh.load_weights(str(tmp_path / "ckpt-02-0.50.weights.npz"))
    for a, b in zip(fresh.get_weights(), weights[1]):
        np.testing.assert_array_equal(a, b)

    best_dir = tmp_path / "best"
    best = cb.ModelCheckpoint(str(best_dir / "best-{epoch}.weights.npz"), save_best_only=True,
                              save_weights_only=True)
    make_model().fit(x, y, epochs=4, validation_split=0.25, verbose=0,
                     callbacks=[LogsOverride("val_loss", curve), best])
    assert sorted(os.listdir(best_dir)) == ["best-1.weights.npz", "best-2.weights.npz", "best-4.weights.npz"]
    assert best.best == 0.4


def test_model_checkpoint_every_n_batches_and_bad_arguments(tmp_path):
    x, y = make_data()  # 96 samples, batch 32 -> 3 steps per epoch, 6 steps in 2 epochs
    make_model().fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[
        cb.ModelCheckpoint(str(tmp_path / "e{epoch}-b{batch}.weights.npz"), save_weights_only=True, save_freq=2)])
    assert sorted(os.listdir(tmp_path)) == ["e1-b2.weights.npz", "e2-b1.weights.npz", "e2-b3.weights.npz"]
    with pytest.raises(ValueError, match="filepath"):
        cb.ModelCheckpoint(str(tmp_path / "w.h5"), save_weights_only=True)
    with pytest.raises(ValueError, match="save_freq"):
        cb.ModelCheckpoint(str(tmp_path / "w.weights.npz"), save_weights_only=True, save_freq=0)
    with pytest.raises(ValueError, match=r"save_weights_only=False .*must end in \.keras or \.fitcore"):
        cb.ModelCheckpoint(str(tmp_path / "w.weights.npz"))
    with pytest.raises(KeyError, match="val_auc"):
        make_model().fit(x, y, epochs=1, verbose=0, callbacks=[
            cb.ModelCheckpoint(str(tmp_path / "{val_auc}.weights.npz"), save_weights_only=True)])


def test_csv_logger_content_and_append(tmp_path):
    x, y = make_data()
    path = tmp_path / "log.csv"
    history = make_model().fit(x, y, epochs=3, validation_split=0.25, verbose=0,
                               callbacks=[cb.CSVLogger(str(path), separator=";")])
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [int(r[0]) for r in rows[1:]] == [0, 1, 2]
    for i, key in enumerate(rows[0][1:], start=1):
        np.testing.assert_allclose([float(r[i]) for r in rows[1:]], history.history[key], rtol=1e-12)
    make_model().fit(x, y, epochs=2, validation_split=0.25, verbose=0,
                     callbacks=[cb.CSVLogger(str(path), separator=";", append=True)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert len(rows) == 1 + 3 + 2 and rows[4][0] == "0"


def test_learning_rate_scheduler_sets_and_logs_the_rate():
    x, y = make_data()
    model = make_model(optimizer="sgd", lr=0.1)
    seen = []
    history = model.fit(x, y, epochs=4, verbose=0, callbacks=[
        cb.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch),
        cb.LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(model.optimizer.learning_rate))])
    expected = [0.1 * 0.5 ** e for e in range(4)]
    np.testing.assert_allclose(seen, expected, rtol=1e-6)
    np.testing.assert_allclose(history.history["learning_rate"], expected, rtol=1e-6)
    np.testing.assert_allclose(model.optimizer.learning_rate, 0.0125, rtol=1e-6)
    with pytest.raises(ValueError, match="float"):
        make_model().fit(x, y, epochs=1, verbose=0, callbacks=[cb.LearningRateScheduler(lambda e, lr: "fast")])


def test_learning_rate_scheduler_changes_the_update_size():
    x, y = make_data()
    frozen = make_model(optimizer="sgd", lr=0.1)
    before = frozen.get_weights()
    frozen.fit(x, y, epochs=2, verbose=0, callbacks=[cb.LearningRateScheduler(lambda epoch: 0.0)])
    for a, b in zip(before, frozen.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_reduce_lr_on_plateau_reduces_after_patience_with_cooldown():
    x, y = make_data()
    model = make_model(optimizer="sgd", lr=0.1)
    curve = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    history = model.fit(x, y, epochs=7, verbose=0, callbacks=[
        LogsOverride("loss", curve), cb.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, cooldown=1,
                                                           min_lr=0.02)])
    # Keras 3: epoch 0 sets best; 1, 2 wait -> x0.5 at the end of 2; epoch 3 ends the cooldown and
    # waits again, so 4 reduces; likewise 6, clipped to min_lr. Logs hold the rate each epoch ran with.
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025], rtol=1e-6)
    np.testing.assert_allclose(model.optimizer.learning_rate, 0.02, rtol=1e-6)
    with pytest.raises(ValueError, match="factor"):
        cb.ReduceLROnPlateau(factor=1.5)


def test_terminate_on_nan_stops_a_diverging_fit(capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 5)).astype("float32") * 100
    y = rng.normal(size=(256, 1)).astype("float32") * 100
    fc.utils.set_random_seed(0)
    model = fc.Sequential([fc.Input((5,)), fc.layers.Dense(16, activation="relu"), fc.layers.Dense(1)])
    model.compile(optimizer=fc.optimizers.SGD(learning_rate=1e6), loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=20, verbose=0, callbacks=[cb.TerminateOnNaN()])
    assert len(history.epoch) == 1
    assert not np.isfinite(history.history["loss"][-1])
    assert "Invalid loss, terminating training" in capsys.readouterr().out


def test_lambda_callback_hooks_and_errors():
    x, y = make_data()
    events = []
    lam = cb.LambdaCallback(on_train_begin=lambda logs: events.append("begin"),
                            on_epoch_end=lambda e, logs: events.append(("epoch", e, sorted(logs))),
                            on_train_end=lambda logs: events.append("end"))
    assert not lam.overrides_batch_hooks()
    make_model().fit(x, y, epochs=2, verbose=0, callbacks=[lam])
    assert events == ["begin", ("epoch", 0, ["accuracy", "loss"]), ("epoch", 1, ["accuracy", "loss"]), "end"]
    with pytest.raises(TypeError, match="on_epoch_stop"):
        cb.LambdaCallback(on_epoch_stop=print)


class Interrupt(cb.Callback):
    """Raises inside epoch `epoch`, after `batch` steps: a crash mid-epoch."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            raise KeyboardInterrupt("simulated crash")


@pytest.mark.parametrize("crash_epoch", [0, 3])
def test_backup_and_restore_resumes_identically(tmp_path, crash_epoch):
    x, y = make_data(n=120)
    kwargs = dict(batch_size=16, epochs=5, validation_split=0.2, verbose=0)
    reference = make_model()
    ref_history = reference.fit(x, y, **kwargs)

    backup_dir = tmp_path / "backup"
    model = make_model()
    backup = cb.BackupAndRestore(str(backup_dir))
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, callbacks=[backup, Interrupt(epoch=crash_epoch, batch=2)], **kwargs)
    assert os.path.exists(backup.backup_path)
    started = []
    history = model.fit(x, y, callbacks=[backup, cb.LambdaCallback(on_epoch_begin=lambda e, l: started.append(e))],
                        **kwargs)
    assert started == list(range(crash_epoch, 5))  # resumed after the last finished epoch
    assert history.epoch == ref_history.epoch
    assert history.history == ref_history.history
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == reference.optimizer.iterations
    assert not os.path.exists(backup_dir)  # deleted once training completed


def test_callbacks_argument_must_be_callbacks():
    x, y = make_data()
    model = make_model()
    before = model.get_weights()
    with pytest.raises(TypeError, match="callbacks"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[print])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_model_checkpoint_saves_whole_models_that_load_back(tmp_path):
    x, y = make_data()
    model = make_model()
    history = model.fit(x, y, epochs=2, verbose=0,
                        callbacks=[cb.ModelCheckpoint(str(tmp_path / "m-{epoch}.keras"), monitor="loss")])
    # Only the final names remain: each file was written under a temporary name and renamed.
    assert sorted(os.listdir(tmp_path)) == ["m-1.keras", "m-2.keras"]
    restored = fc.models.load_model(str(tmp_path / "m-2.keras"))
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert restored.optimizer.iterations == model.optimizer.iterations == 2 * 3
    np.testing.assert_allclose(restored.evaluate(x, y, verbose=0)[0], model.evaluate(x, y, verbose=0)[0])
    assert history.history["loss"][-1] > 0

"""The five data cases where fit differed from Keras 3.15.1 and the seed page (issue 16), each
against numbers derived by hand and, where Keras is installed, against Keras itself (run in a
child process with the jax backend, so its import cannot disturb this process).

The probe: a Dense(1) model with zero weights trained with SGD(0.0) predicts 0 for everything, so
the MSE of batch i (one row, target 10 * (i + 1)) is 100, 400 or 900 and each epoch's loss tells
exactly which batches it saw.
"""
import contextlib
import importlib.util
import io
import itertools
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import fitcore as fc

XS = [np.full((1, 2), i, np.float32) for i in range(3)]
YS = [np.full((1, 1), 10.0 * (i + 1), np.float32) for i in range(3)]
BATCH_LOSS = [100.0, 400.0, 900.0]


def probe_model():
    model = fc.Sequential([fc.Input((2,)), fc.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer=fc.optimizers.SGD(0.0), loss="mse")
    return model


class ThreeBatches(fc.utils.PyDataset):
    def __init__(self):
        super().__init__()
        self.read = []

    def __len__(self):
        return 3

    def __getitem__(self, i):
        self.read.append(i)
        return XS[i], YS[i]


def mean_of(batches):
    return float(np.mean([BATCH_LOSS[i] for i in batches]))


KERAS_PROBE = r'''
import json, warnings
import numpy as np, keras
XS = [np.full((1, 2), i, np.float32) for i in range(3)]
YS = [np.full((1, 1), 10.0 * (i + 1), np.float32) for i in range(3)]
def probe():
    m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    m.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    return m
class DS(keras.utils.PyDataset):
    def __init__(self): super().__init__()
    def __len__(self): return 3
    def __getitem__(self, i): return XS[i], YS[i]
X, Y = np.concatenate(XS), np.concatenate(YS)
out = {}
warnings.simplefilter("ignore")
out["case1"] = probe().fit(DS(), epochs=4, steps_per_epoch=2, shuffle=False, verbose=0).history["loss"]
seen = []
def loop():
    for i in itertools.count():
        seen.append(i % 3); yield XS[i % 3], YS[i % 3]
import itertools
h = probe().fit(X, Y, epochs=3, validation_data=loop(), validation_steps=2, verbose=0).history
out["case2"], out["case2_seen"] = h["val_loss"], seen
h = probe().fit(X, Y, epochs=3, validation_data=(b for b in zip(XS, YS)), verbose=0).history
out["case3"] = h["val_loss"]
rng = np.random.default_rng(0)
x = rng.normal(size=(6, 4, 3)).astype("float32"); y = rng.integers(0, 3, size=(6, 4, 1))
m = keras.Sequential([keras.Input((4, 3)), keras.layers.Dense(3, activation="softmax")])
m.set_weights([np.linspace(-1, 1, 9, dtype="float32").reshape(3, 3), np.array([0.1, -0.2, 0.05], "float32")])
m.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
w = np.array([1.0, 2.0, 0.5])[y[..., 0]]
out["case4_sample_weight"] = m.fit(x, y, sample_weight=w, batch_size=6, verbose=0).history["loss"][0]
try:
    m.fit(x, y, class_weight={0: 1.0, 1: 2.0, 2: 0.5}, batch_size=6, verbose=0)
    out["case4_class_weight"] = "ran"
except Exception as e:
    out["case4_class_weight"] = type(e).__name__
xc = np.random.default_rng(1).random((20, 2)).astype("float32"); yc = (xc[:, :1] > 0.5).astype("float32")
mc = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
mc.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
hooks = {}
class Record(keras.callbacks.Callback):
    pass
for hook in ("on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_test_begin", "on_test_batch_begin",
             "on_epoch_end", "on_train_end", "on_predict_begin", "on_predict_end"):
    def make(name):
        def f(self, *args, logs=None):
            hooks[name] = type(args[-1] if args and not isinstance(args[-1], int) else logs).__name__
        return f
    setattr(Record, hook, make(hook))
import io, contextlib
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    h = mc.fit(xc, yc, epochs=1, validation_split=0.25, verbose=2, callbacks=[Record()])
out["case5_keys"], out["case5_header"] = list(h.history), buf.getvalue().startswith("Epoch")
h = mc.fit(xc, yc, epochs=1, verbose=0, callbacks=[Record()])
out["case5_params"] = h.params
mc.predict(xc, verbose=0, callbacks=[Record()])
out["case5_hooks"] = hooks
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def keras_numbers():
    """What Keras 3 gives for the same probes, or None where Keras (with jax) is not installed."""
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("jax") is None:
        return None
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-c", KERAS_PROBE], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- case 1: steps_per_epoch that does not divide a re-iterable's length ----------------------
RESTARTED = [mean_of([0, 1]), mean_of([2, 0]), mean_of([1, 2]), mean_of([0, 1])]


@pytest.mark.parametrize("make", [
    lambda: ThreeBatches(),
    lambda: list(zip(XS, YS)),
    lambda: pytest.importorskip("torch").utils.data.DataLoader(
        list(zip([x[0] for x in XS], [y[0] for y in YS])), batch_size=1),
], ids=["PyDataset", "list of batches", "torch DataLoader"])
def test_a_re_iterable_restarts_when_a_pass_ends_inside_an_epoch_as_arrays_repeat(make, keras_numbers):
    model = probe_model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing ran out: no warning
        history = model.fit(make(), epochs=4, steps_per_epoch=2, shuffle=False, verbose=0)
    # 2 steps an epoch from batches 0 1 | 2, restart: 0 | 1 2 | restart: 0 1
    assert history.history["loss"] == pytest.approx(RESTARTED)
    assert model.optimizer.iterations == 8 and history.epoch == [0, 1, 2, 3]
    arrays = probe_model().fit(np.concatenate(XS), np.concatenate(YS), batch_size=1, epochs=4, steps_per_epoch=2,
                               shuffle=False, verbose=0)
    assert arrays.history["loss"] == history.history["loss"]  # arrays and datasets agree
    if keras_numbers is not None:
        # Keras also trains every epoch and starts the dataset again (it cuts the second epoch
        # short at the pass's end, warning "ran out of data": fitcore fills it from the new pass).
        assert len(keras_numbers["case1"]) == 4
        assert keras_numbers["case1"][0] == pytest.approx(history.history["loss"][0])
        assert keras_numbers["case1"][2] == pytest.approx(mean_of([0, 1]))


def test_a_shuffled_pydataset_visits_every_batch_once_per_pass_across_epochs():
    data = ThreeBatches()
    probe_model().fit(data, epochs=3, steps_per_epoch=2, verbose=0)  # 6 steps: two whole passes
    assert sorted(data.read[:3]) == [0, 1, 2] and sorted(data.read[3:6]) == [0, 1, 2]


def test_only_a_one_shot_generator_runs_out_and_says_so():
    model = probe_model()
    with pytest.warns(UserWarning, match=r"ran out at step 2 of epoch 2; training stops.*steps_per_epoch=2"):
        history = model.fit(iter(list(zip(XS, YS))), epochs=4, steps_per_epoch=2, verbose=0)
    assert history.history["loss"] == pytest.approx([mean_of([0, 1]), mean_of([2])])


# --- case 2: a looping validation generator with validation_steps ------------------------------
def test_a_looping_validation_generator_evaluates_the_same_batches_every_epoch(keras_numbers):
    seen = []

    def loop():
        for i in itertools.count():
            seen.append(i % 3)
            yield XS[i % 3], YS[i % 3]

    history = probe_model().fit(np.concatenate(XS), np.concatenate(YS), epochs=3, validation_data=loop(),
                                validation_steps=2, verbose=0)
    assert history.history["val_loss"] == pytest.approx([mean_of([0, 1])] * 3)
    assert seen == [0, 1]  # drawn once, at the first validation
    if keras_numbers is not None:
        assert history.history["val_loss"] == pytest.approx(keras_numbers["case2"])
        assert keras_numbers["case2_seen"] == seen


def test_a_re_iterable_validation_set_restarts_at_its_start_every_epoch():
    data = ThreeBatches()
    history = probe_model().fit(np.concatenate(XS), np.concatenate(YS), epochs=3, validation_data=data,
                                validation_steps=2, verbose=0)
    assert data.read == [0, 1] * 3
    assert history.history["val_loss"] == pytest.approx([mean_of([0, 1])] * 3)


# --- case 3: a one-shot finite validation generator with epochs > 1 ---------------------------
def test_a_one_shot_validation_generator_validates_every_epoch_on_the_same_batches(keras_numbers):
    model = probe_model()
    stopper = fc.callbacks.EarlyStopping(monitor="val_loss", patience=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = model.fit(np.concatenate(XS), np.concatenate(YS), epochs=5, callbacks=[stopper],
                            validation_data=iter(list(zip(XS, YS))), verbose=0)
    # every epoch validated on all three batches; EarlyStopping sees no improvement after the first
    assert history.history["val_loss"] == pytest.approx([mean_of([0, 1, 2])] * 3)
    assert len(history.history["loss"]) == 3 and stopper.stopped_epoch == 2
    if keras_numbers is not None:
        # Keras validates every epoch too, the first time on the same batches (later on the two it
        # peeked at: its generator adapter keeps only those).
        assert len(keras_numbers["case3"]) == 3
        assert keras_numbers["case3"][0] == pytest.approx(history.history["val_loss"][0])


# --- case 4: class_weight with temporal targets ------------------------------------------------
CLASS_WEIGHT = {0: 1.0, 1: 2.0, 2: 0.5}


def temporal_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4, 3)).astype(np.float32)
    y = rng.integers(0, 3, size=(6, 4, 1))
    return x, y


def temporal_model(loss):
    model = fc.Sequential([fc.Input((4, 3)), fc.layers.Dense(3, activation="softmax")])
    model.set_weights([np.linspace(-1, 1, 9, dtype=np.float32).reshape(3, 3), np.array([0.1, -0.2, 0.05], np.float32)])
    model.compile(optimizer=fc.optimizers.SGD(0.0), loss=loss)
    return model


@pytest.mark.parametrize("one_hot", [False, True], ids=["sparse (n, T, 1)", "one-hot (n, T, classes)"])
def test_class_weight_with_temporal_targets_weighs_every_timestep(one_hot, keras_numbers):
    x, y = temporal_data()
    targets = np.eye(3, dtype=np.float32)[y[..., 0]] if one_hot else y
    model = temporal_model("categorical_crossentropy" if one_hot else "sparse_categorical_crossentropy")
    history = model.fit(x, targets, class_weight=CLASS_WEIGHT, batch_size=6, verbose=0)
    probs = model.predict(x, verbose=0).astype(np.float64)
    per_step = -np.log(np.take_along_axis(probs, y, axis=-1)[..., 0])          # (n, T)
    weights = np.array([CLASS_WEIGHT[c] for c in range(3)])[y[..., 0]]           # a weight per timestep
    want = float(np.sum(weights * per_step) / per_step.size)                    # sum_over_batch_size
    assert history.history["loss"][0] == pytest.approx(want, rel=1e-5)
    same = temporal_model("sparse_categorical_crossentropy").fit(x, y, sample_weight=weights, batch_size=6, verbose=0)
    assert same.history["loss"][0] == pytest.approx(want, rel=1e-5)
    if keras_numbers is not None:
        # Keras 3.15.1 documents this but fails inside numpy; its (n, T) sample_weight is the meaning
        assert keras_numbers["case4_sample_weight"] == pytest.approx(want, rel=1e-5)


def test_class_weight_refuses_targets_of_rank_four_naming_the_argument():
    model = fc.Sequential([fc.Input((2, 2, 3)), fc.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.zeros((4, 2, 2, 3), np.float32)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"`class_weight` is supported for targets of shape .* got y of shape "
                                         r"\(4, 2, 2, 1\)"):
        model.fit(x, np.zeros((4, 2, 2, 1)), class_weight={0: 2.0}, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_class_weight_multiplies_per_timestep_sample_weights():
    x, y = temporal_data()
    sample_weight = np.random.default_rng(3).uniform(0.5, 2.0, size=(6, 4))
    model = temporal_model("sparse_categorical_crossentropy")
    history = model.fit(x, y, class_weight=CLASS_WEIGHT, sample_weight=sample_weight, batch_size=6, verbose=0)
    probs = model.predict(x, verbose=0).astype(np.float64)
    per_step = -np.log(np.take_along_axis(probs, y, axis=-1)[..., 0])
    weights = sample_weight * np.array([1.0, 2.0, 0.5])[y[..., 0]]
    assert history.history["loss"][0] == pytest.approx(np.sum(weights * per_step) / per_step.size, rel=1e-5)


# --- case 5: History keys, the epoch header, params["verbose"], hook logs ----------------------
class RecordLogs(fc.callbacks.Callback):
    HOOKS = ("on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_test_begin", "on_test_batch_begin",
             "on_epoch_end", "on_train_end", "on_predict_begin", "on_predict_end")

    def __init__(self):
        super().__init__()
        self.types = {}
        for hook in self.HOOKS:
            def record(*args, logs=None, _hook=hook):
                logs = args[-1] if args and not isinstance(args[-1], int) else logs
                self.types[_hook] = type(logs).__name__
            setattr(self, hook, record)


def classifier():
    rng = np.random.default_rng(1)
    x = rng.random((20, 2)).astype(np.float32)
    y = (x[:, :1] > 0.5).astype(np.float32)
    model = fc.Sequential([fc.Input((2,)), fc.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    return model, x, y


def test_history_keys_header_params_and_hook_logs_are_keras_3s(keras_numbers):
    model, x, y = classifier()
    out = io.StringIO()
    record = RecordLogs()
    with contextlib.redirect_stdout(out):
        history = model.fit(x, y, epochs=1, validation_split=0.25, verbose=2, callbacks=[record])
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert out.getvalue().startswith("1/1 - ")  # no "Epoch 1/1" header for a single epoch
    assert " - accuracy: " in out.getvalue().split(" - loss: ")[0]  # the line lists the keys in that order too
    assert model.fit(x, y, epochs=1, verbose="auto", callbacks=[record]).params["verbose"] == "auto"
    model.predict(x, verbose=0, callbacks=[record])
    assert record.types == {hook: "dict" for hook in RecordLogs.HOOKS}
    assert list(model.evaluate(x, y, verbose=0, return_dict=True)) == ["accuracy", "loss"]
    assert model.evaluate(x, y, verbose=0)[0] == model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    if keras_numbers is not None:
        assert keras_numbers["case5_keys"] == list(history.history)
        assert keras_numbers["case5_header"] is False
        assert keras_numbers["case5_hooks"] == {hook: "dict" for hook in RecordLogs.HOOKS}
        assert set(keras_numbers["case5_params"]) == set(history.params)


def test_several_epochs_still_print_their_header():
    model, x, y = classifier()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.fit(x, y, epochs=2, verbose=2)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"


def test_pydataset_epoch_hooks_run_once_per_training_epoch_even_when_stopped_mid_epoch():
    class Hooked(ThreeBatches):
        def __init__(self):
            super().__init__()
            self.calls = []

        def on_epoch_begin(self):
            self.calls.append("begin")

        def on_epoch_end(self):
            self.calls.append("end")

    class StopAtSecondStepOfEpoch2(fc.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if len(self.model.history.epoch) == 1 and batch == 1:
                self.model.stop_training = True

    data = Hooked()
    history = probe_model().fit(data, epochs=3, steps_per_epoch=2, verbose=0, callbacks=[StopAtSecondStepOfEpoch2()])
    assert data.calls == ["begin", "end", "begin", "end"] and history.epoch == [0, 1]

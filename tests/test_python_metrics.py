"""Python-defined metrics (an fc.metrics.Metric subclass, a function of (y_true, y_pred)) against
numpy by hand and Keras 3.15.1's names and values; Python-defined losses and layers refused with
a TypeError that lists what exists."""
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fitcore as fc

RNG = np.random.default_rng(0)
X = RNG.normal(size=(50, 3)).astype(np.float32)
Y = RNG.normal(size=(50, 2)).astype(np.float32)
W = RNG.uniform(0, 2, 50).astype(np.float32)
KERNEL = np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2)


def my_mae(y_true, y_pred):
    return np.mean(np.abs(y_true - y_pred), axis=-1)


class PeakError(fc.metrics.Metric):
    """The largest absolute error seen: state that no mean can express."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.peak = self.add_variable(name="peak")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.peak.assign(max(float(self.peak), float(np.max(np.abs(y_true - y_pred)))))

    def result(self):
        return self.peak


def fixed_model(learning_rate=0.0):
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    model.set_weights([KERNEL, np.zeros(2, np.float32)])
    model.compile(optimizer=fc.optimizers.SGD(learning_rate), loss="mse", metrics=[my_mae, PeakError()],
                  weighted_metrics=[my_mae])
    return model


KERAS_PROBE = r'''
import json, numpy as np, keras
from keras import ops
rng = np.random.default_rng(0)
x = rng.normal(size=(50, 3)).astype("float32"); y = rng.normal(size=(50, 2)).astype("float32")
w = rng.uniform(0, 2, 50).astype("float32")
def my_mae(y_true, y_pred): return ops.mean(ops.abs(y_true - y_pred), axis=-1)
class PeakError(keras.metrics.Metric):
    def __init__(self, **kw):
        super().__init__(**kw); self.peak = self.add_variable(shape=(), initializer="zeros", name="peak")
    def update_state(self, y_true, y_pred, sample_weight=None):
        self.peak.assign(ops.maximum(self.peak.value, ops.max(ops.abs(y_true - y_pred))))
    def result(self): return self.peak
m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
m.set_weights([np.linspace(-1, 1, 6, dtype="float32").reshape(3, 2), np.zeros(2, "float32")])
m.compile(keras.optimizers.SGD(0.0), "mse", metrics=[my_mae, PeakError()], weighted_metrics=[my_mae])
print(json.dumps(m.fit(x, y, sample_weight=w, epochs=1, batch_size=8, verbose=0).history))
'''


@pytest.fixture(scope="module")
def keras_history():
    """Keras 3's History for the same model and metrics (torch backend, a child process), or None."""
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("torch") is None:
        return None
    env = dict(os.environ, KERAS_BACKEND="torch")
    done = subprocess.run([sys.executable, "-c", KERAS_PROBE], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_function_and_subclass_metrics_log_keras_names_and_values(keras_history):
    model = fixed_model()
    history = model.fit(X, Y, sample_weight=W, epochs=1, batch_size=8, verbose=0)
    pred = X.astype(np.float64) @ KERNEL.astype(np.float64)
    per_sample = np.mean(np.abs(Y - pred), axis=-1)
    want = {"my_mae": per_sample.mean(), "weighted_my_mae": np.sum(per_sample * W) / np.sum(W),
            "peak_error": np.max(np.abs(Y - pred))}
    assert list(history.history) == ["loss", "my_mae", "peak_error", "weighted_my_mae"]
    for name, value in want.items():
        assert history.history[name][0] == pytest.approx(value, rel=1e-5), name
    if keras_history is not None:
        assert list(keras_history) == list(history.history)
        for name in want:
            assert history.history[name][0] == pytest.approx(keras_history[name][0], rel=1e-5), name


def test_python_metrics_reset_per_epoch_and_per_evaluation():
    model = fixed_model()
    history = model.fit(X, Y, epochs=2, batch_size=8, validation_data=(X[:10], Y[:10]), verbose=0)
    pred = X.astype(np.float64) @ KERNEL.astype(np.float64)
    assert history.history["peak_error"] == pytest.approx([np.max(np.abs(Y - pred))] * 2, rel=1e-6)
    assert history.history["val_peak_error"] == pytest.approx([np.max(np.abs(Y[:10] - pred[:10]))] * 2, rel=1e-6)
    logs = model.evaluate(X[:5], Y[:5], verbose=0, return_dict=True)
    assert logs["peak_error"] == pytest.approx(np.max(np.abs(Y[:5] - pred[:5])), rel=1e-6)
    assert logs["my_mae"] == pytest.approx(np.mean(np.abs(Y[:5] - pred[:5])), rel=1e-6)
    one = model.train_on_batch(X[:4], Y[:4], return_dict=True)  # the batch's values alone, as Keras 3
    assert one["my_mae"] == pytest.approx(np.mean(np.abs(Y[:4] - pred[:4])), rel=1e-6)


def test_a_python_metric_trains_on_the_same_batches_as_the_core_alone():
    """The step-by-step run a Python metric needs draws the core's own shuffled order."""
    results = []
    for metrics in (["mae"], ["mae", my_mae]):
        fc.utils.set_random_seed(3)
        model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
        model.compile(optimizer=fc.optimizers.SGD(0.05), loss="mse", metrics=metrics)
        history = model.fit(X, Y, epochs=3, batch_size=8, steps_per_epoch=5, verbose=0)
        results.append((history.history, model.get_weights()))
    (plain, w_plain), (python, w_python) = results
    assert python["loss"] == plain["loss"] and python["mae"] == plain["mae"]
    # weights before each step: my_mae's value is the core's mae (same rows, predictions before the update)
    assert python["my_mae"] == pytest.approx(plain["mae"], rel=1e-5)
    for a, b in zip(w_plain, w_python):
        np.testing.assert_array_equal(a, b)


def test_a_python_metric_makes_fit_go_step_by_step():
    model = fixed_model()
    runs = []
    train_step = model._train_step
    model._train_step = lambda core, run: (runs.append(run.count), train_step(core, run))[1]
    model.fit(X, Y, epochs=1, batch_size=5, verbose=0)
    assert runs == [1] * 10


def test_a_python_loss_is_a_type_error_listing_the_losses():
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    with pytest.raises(TypeError, match=r"`loss` is the Python function 'squared'; .* cannot differentiate Python "
                                        r"code\. Available losses: .*mean_squared_error"):
        def squared(y_true, y_pred):
            return (y_true - y_pred) ** 2
        model.compile(optimizer="sgd", loss=squared)

    class MyLoss(fc.losses.Loss):
        def call(self, y_true, y_pred):
            return (y_true - y_pred) ** 2

    with pytest.raises(TypeError, match=r"custom Python losses are not supported \(MyLoss defines call\(\)\)\. Use one of: .*huber"):
        model.compile(optimizer="sgd", loss=MyLoss())


def test_a_python_layer_is_a_type_error_listing_the_layers():
    class Doubler(fc.layers.Layer):
        def call(self, inputs):
            return inputs * 2

    with pytest.raises(TypeError, match=r"custom Python layers are not supported \(Doubler defines call\(\)\)\. Use one of: .*Dense"):
        fc.Sequential([fc.Input((3,)), Doubler(), fc.layers.Dense(1)])


def test_a_metric_variable_behaves_as_keras_variables():
    metric = PeakError(name="peak")
    metric.update_state(np.zeros((2, 2)), np.array([[1.0, -3.0], [0.5, 0.0]]))
    assert float(metric.result()) == 3.0 and metric.name == "peak"
    metric.peak.assign_add(1.0)
    assert float(metric.peak) == 4.0 and metric.peak.numpy() == 4.0
    metric.reset_state()  # the base class's default: every variable back to its initial value
    assert float(metric.result()) == 0.0


def test_saving_leaves_python_metrics_out_with_a_warning(tmp_path):
    model = fixed_model()
    model.fit(X, Y, epochs=1, batch_size=25, verbose=0)
    path = str(tmp_path / "model.fitcore")
    with pytest.warns(UserWarning, match=r"Python-defined metrics \[.*\] are not saved") as record:
        model.save(path)
    named = [str(w.message).split("metrics ", 1)[1].split(" are")[0] for w in record]
    assert named == ["['my_mae', 'peak_error']", "['my_mae']"]  # metrics, then weighted_metrics
    loaded = fc.models.load_model(path)
    logs = loaded.evaluate(X, Y, verbose=0, return_dict=True)
    assert list(logs) == ["loss"]  # compiled, without the metrics the file could not hold
    assert logs["loss"] == pytest.approx(model.evaluate(X, Y, verbose=0, return_dict=True)["loss"], rel=1e-6)


def test_a_metric_class_with_plain_state_logs_its_snake_case_name():
    class RowCount(fc.metrics.Metric):
        def __init__(self):  # no super().__init__(): plain attributes are the state
            self.rows = 0

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.rows += len(y_true)

        def result(self):
            return self.rows

        def reset_state(self):
            self.rows = 0

    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse", metrics=[RowCount])  # the class itself, as Keras accepts
    history = model.fit(X[:10], Y[:10], batch_size=4, epochs=2, validation_data=(X[:3], Y[:3]), verbose=0)
    assert history.history["row_count"] == [10.0, 10.0] and history.history["val_row_count"] == [3.0, 3.0]

"""The core checks every array it is handed, so no call, public or private (fitcore._core directly),
reads or writes out of bounds: bad counts, rows, widths, dtypes, class ids, output buffers and sizes
are a ValueError (std::invalid_argument) or TypeError (a conversion the bindings cannot make) naming
what is wrong. Before, a 200,000-row x with a 2-row y ran 700 steps reading past y's end."""
import gc
import weakref

import numpy as np
import pytest

import fitcore as fc
from fitcore import _core

RNG = np.random.default_rng(5)


def classifier(metrics=None):
    """4 features -> 3 classes, sparse crossentropy; returns (model, its core trainer)."""
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(3)])
    model.compile(optimizer="sgd", loss=fc.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=metrics)
    return model, model._core_trainer("test")


def x_of(rows, width=4, dtype=np.float32):
    return RNG.normal(size=(rows, width)).astype(dtype)


def labels(rows, dtype=np.int64):
    return (np.arange(rows) % 3).astype(dtype)


def test_the_reported_case_a_200000_row_x_and_a_2_row_y_is_refused():
    model, core = classifier()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"^trainer: targets of output 0 must have 200000 rows of 1 values, got 2 rows "
                                         r"of 1$"):
        core.set_data([x_of(200000)], [labels(2)], [])
    with pytest.raises(RuntimeError, match="no training data set"):  # nothing was kept
        core.train_steps(700)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("call", ["set_data", "train_batch", "evaluate", "compute_gradients"])
@pytest.mark.parametrize("x, y, w, message", [
    (x_of(8), labels(5), [], r"targets of output 0 must have 8 rows of 1 values, got 5 rows of 1"),
    (x_of(5), labels(8), [], r"targets of output 0 must have 5 rows of 1 values, got 8 rows of 1"),
    (x_of(8, width=3), labels(8), [], r"input 0 must have 8 rows of 4 values, got 8 rows of 3"),
    (x_of(8, width=5), labels(8), [], r"input 0 must have 8 rows of 4 values, got 8 rows of 5"),
    (x_of(8), labels(8).reshape(4, 2), [], r"targets of output 0 must have 8 rows of 1 values, got 4 rows of 2"),
    (x_of(8), labels(8), [np.ones(3, np.float32)], r"sample weights of output 0 must have 8 rows of 1 values, got 3"),
    (x_of(8), labels(8), [np.ones((8, 2), np.float32)], r"sample weights of output 0 must have 8 rows of 1 values"),
    (x_of(8, dtype=np.int32), labels(8), [], r"input 0 must be float32, got int32"),
    (x_of(8), labels(8), [np.ones(8, np.int64)], r"sample weights of output 0 must be float32, got int64"),
    (x_of(8), np.array([0, 1, 2, 3, 0, 1, 2, 0]), [], r"targets of output 0 holds class ids outside \[0, 3\)"),
    (x_of(8), np.array([0, 1, -1, 0, 0, 1, 2, 0]), [], r"holds class ids outside \[0, 3\).*e\.g\. -1"),
    (x_of(8), np.array([0, 1, 1.5, 0, 0, 1, 2, 0], np.float32), [], r"class ids outside \[0, 3\) \(or non-integers\)"),
    (x_of(8), np.array([0, 1, np.nan, 0, 0, 1, 2, 0], np.float32), [], r"class ids outside \[0, 3\)"),
    (x_of(8), np.array([0, 1, 2**62, 0, 0, 1, 2, 0]), [], r"class ids outside \[0, 3\)"),
    (x_of(8), np.array([0, 1, 1e30, 0, 0, 1, 2, 0], np.float32), [], r"class ids outside \[0, 3\)"),
])
def test_bad_arrays_are_refused_by_every_entry_point(call, x, y, w, message):
    model, core = classifier()
    before = model.get_weights()
    args = ([x], [y], w) + ((8,) if call == "evaluate" else ())
    with pytest.raises(ValueError, match=message):
        getattr(core, call)(*args)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("inputs, targets, message", [
    ([], [labels(8)], r"expected 1 input arrays, got 0"),
    ([x_of(8), x_of(8)], [labels(8)], r"expected 1 input arrays, got 2"),
    ([x_of(8)], [], r"expected 1 target arrays, got 0"),
    ([x_of(8)], [labels(8), labels(8)], r"expected 1 target arrays, got 2"),
    ([x_of(8)], [None], r"targets of output 0 is missing"),
    ([None], [labels(8)], r"input 0 is missing"),
])
def test_wrong_numbers_of_arrays_are_refused(inputs, targets, message):
    _, core = classifier()
    with pytest.raises(ValueError, match=message):
        core.train_batch(inputs, targets, [])


@pytest.mark.parametrize("array, message", [
    (np.zeros((8, 4), np.float64), "float32, int32 or int64 arrays"),
    (np.zeros((4, 8), np.float32).T, "C-contiguous"),
    (np.float32(1.0), "numpy arrays or None"),
    ([[0.0] * 4] * 8, "numpy arrays or None"),
    (np.zeros((), np.float32), "batch axis"),
])
def test_arrays_the_bindings_cannot_view_are_a_type_error(array, message):
    _, core = classifier()
    with pytest.raises(TypeError, match=message):
        core.train_batch([array], [labels(8)], [])


def test_predict_checks_its_output_buffers():
    model, core = classifier()
    x = x_of(10)
    good = np.empty((10, 3), np.float32)
    core.predict([x], 4, [good])
    np.testing.assert_allclose(good, x @ model.get_weights()[0] + model.get_weights()[1], rtol=1e-5, atol=1e-6)
    for out, error, message in [
            (np.empty((9, 3), np.float32), ValueError, r"output array 0 must have 10 rows of 3 floats, got 9 rows of 3"),
            (np.empty((10, 2), np.float32), ValueError, r"must have 10 rows of 3 floats, got 10 rows of 2"),
            (np.empty((10, 3), np.int32), TypeError, "writeable float32"),
            (np.empty((10, 3), np.float32)[::-1], TypeError, "C-contiguous")]:
        with pytest.raises(error, match=message):
            core.predict([x], 4, [out])
    readonly = np.empty((10, 3), np.float32)
    readonly.flags.writeable = False
    with pytest.raises(TypeError, match="writeable float32"):
        core.predict([x], 4, [readonly])
    with pytest.raises(ValueError, match="expected 1 output arrays, got 2"):
        core.predict([x], 4, [good, good])
    with pytest.raises(ValueError, match=r"input 0 must have 10 rows of 4 values, got 10 rows of 2"):
        core.predict([x_of(10, width=2)], 4, [good])


@pytest.mark.parametrize("batch_size", [0, -1])
def test_batch_size_must_be_positive_in_the_core(batch_size):
    """evaluate with batch_size 0 looped forever; a negative one read before the arrays."""
    _, core = classifier()
    with pytest.raises(ValueError, match="batch_size must be positive"):
        core.evaluate([x_of(8)], [labels(8)], [], batch_size)
    with pytest.raises(ValueError, match="batch_size must be positive"):
        core.predict([x_of(8)], batch_size, [np.empty((8, 3), np.float32)])
    with pytest.raises(ValueError, match="batch_size must be positive"):
        core.begin_epoch(0, True, batch_size)


def test_labels_changed_after_set_data_are_caught_at_the_step():
    """The core views the caller's memory: a class id changed later is refused when gathered."""
    _, core = classifier()
    y = labels(8)
    core.set_data([x_of(8)], [y], [])
    core.begin_epoch(0, False, 4)
    core.train_steps(1)
    y[6] = 1000
    with pytest.raises(ValueError, match=r"class ids outside \[0, 3\).*1000"):
        core.train_steps(1)


def test_set_data_keeps_the_arrays_it_views_alive_until_cleared():
    _, core = classifier()
    x, y = x_of(8), labels(8)
    alive = weakref.ref(x), weakref.ref(y)
    core.set_data([x], [y], [])
    del x, y
    gc.collect()
    assert all(ref() is not None for ref in alive)
    core.begin_epoch(0, True, 3)
    core.train_steps(5)  # reads them (ASan would see a use after free)
    core.clear_data()
    gc.collect()
    assert all(ref() is None for ref in alive)


def test_a_metric_must_read_the_targets_its_output_has():
    """A one-hot metric on class-id targets would read dim floats per sample from a 1-wide buffer."""
    _, core = classifier()
    with pytest.raises(ValueError, match=r"metric 'categorical_accuracy' reads 3 target values per sample, but "
                                         r"output 0's targets have 1"):
        core.set_metrics([_core.MetricSpec("categorical_accuracy", _core.Config(), 0, False)])
    core.set_metrics([_core.MetricSpec("sparse_categorical_accuracy", _core.Config(), 0, False)])  # fits


def test_a_loss_spec_must_match_what_the_loss_reads():
    model, _ = classifier()
    spec = _core.OptimizerSpec("sgd", _core.Config({"learning_rate": 0.1}, {}))
    for name, width, reads in (("sparse_categorical_crossentropy", 3, 1), ("mean_squared_error", 1, 3)):
        with pytest.raises(ValueError, match=f"output 0's loss '{name}' reads {reads} target values per sample, "
                                             f"not {width}"):
            _core.Trainer(model._network, [_core.OutputLossSpec(name, _core.Config(), 1.0, width)], spec, 0)
    with pytest.raises(ValueError, match="no network given"):
        _core.Trainer(None, [], spec, 0)


@pytest.mark.parametrize("slot_shapes, inputs, outputs, message", [
    ([[4], [0]], [0], [1], "slot shape is empty or too large"),
    ([[4], [-3]], [0], [1], "slot shape is empty or too large"),
    ([[2**31, 2**31], [2**31, 2**31]], [0], [1], "slot shape is empty or too large"),
    ([[4], [4]], [2], [1], "bad slot id"),
    ([[4], [4]], [0], [-1], "bad slot id"),
    ([[4], [4]], [], [1], "no model inputs or no outputs"),
])
def test_a_network_plan_with_impossible_sizes_or_slots_is_refused(slot_shapes, inputs, outputs, message):
    op = _core.OpSpec("activation", [0], 1, _core.Config({}, {"activation": "relu"}), [])
    with pytest.raises(ValueError, match=message):
        _core.Network(_core.GraphSpec(slot_shapes, inputs, outputs, [op], 0, 0))


def test_integer_targets_for_a_float_loss_are_converted_in_the_core():
    """A regression loss given int targets directly reads them as floats, not as raw bits."""
    model = fc.Sequential([fc.Input((2,)), fc.layers.Activation("linear")])
    model.compile(optimizer="sgd", loss="mse")
    core = model._core_trainer("test")
    model._prepare_metrics(core, [np.zeros((4, 2), np.float32)])
    x = np.array([[1, 2], [3, 4], [5, 6], [7, 8]], np.float32)
    y = np.array([[1, 1], [3, 3], [5, 5], [7, 9]], np.int64)
    core.reset_metrics()
    core.evaluate([x], [y], [], 4)
    assert core.results()[0] == pytest.approx(np.mean((x - y) ** 2))

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
            (np.empty((9, 3), np.float32), ValueError,
             r"output array 0 must have 10 rows of 3 floats, got 9 rows of 3"),
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


# --- arguments out of range for the core: errors naming them, never pybind11's -------------------
def compiled_classifier():
    model, _ = classifier(metrics=["accuracy"])
    return model


X8, Y8 = x_of(8), labels(8)
INT64_MAX = 2**63 - 1


@pytest.mark.parametrize("call, arg", [
    (lambda m, v: m.fit(X8, Y8, batch_size=v, verbose=0), "batch_size"),
    (lambda m, v: m.fit(X8, Y8, epochs=INT64_MAX, initial_epoch=v, verbose=0), "initial_epoch"),
    (lambda m, v: m.fit(X8, Y8, epochs=v, verbose=0), "epochs"),
    (lambda m, v: m.fit(X8, Y8, steps_per_epoch=v, verbose=0), "steps_per_epoch"),
    (lambda m, v: m.fit(X8, Y8, validation_split=0.5, validation_batch_size=v, verbose=0), "validation_batch_size"),
    (lambda m, v: m.fit(X8, Y8, validation_split=0.5, validation_steps=v, verbose=0), "validation_steps"),
    (lambda m, v: m.evaluate(X8, Y8, batch_size=v, verbose=0), "batch_size"),
    (lambda m, v: m.evaluate(X8, Y8, steps=v, verbose=0), "steps"),
    (lambda m, v: m.predict(X8, batch_size=v, verbose=0), "batch_size"),
    (lambda m, v: m.predict(X8, steps=v, verbose=0), "steps"),
])
@pytest.mark.parametrize("value", [2**63, 2**64 + 5, 10**30])
def test_ints_past_int64_are_a_value_error_naming_the_argument(call, arg, value):
    """batch_size=2**63 ended in pybind11's "incompatible function arguments" from begin_epoch()."""
    model = compiled_classifier()
    with pytest.raises(ValueError, match=f"^`{arg}` must be <= {INT64_MAX} \\(the core counts in int64\\), "
                                         f"got {value}$"):
        call(model, value)


def test_the_largest_int64_batch_size_is_one_batch_of_everything():
    model = compiled_classifier()
    history = model.fit(X8, Y8, batch_size=INT64_MAX, epochs=1, verbose=0)
    assert history.params["steps"] == 1
    np.testing.assert_array_equal(model.predict(X8, batch_size=INT64_MAX, verbose=0),
                                  model.predict(X8, batch_size=3, verbose=0))


def test_a_layer_too_large_for_memory_is_refused_before_anything_is_allocated():
    """Dense(10**9) on one input reached 7.6 GB resident after 17.6 s before its MemoryError; now a
    ValueError naming the layer comes first, at once (the size is this machine's memory or more)."""
    import resource
    import time

    from fitcore.data.validation import physical_memory

    units = max(10**9, physical_memory() // 20 + 1)  # 10**9: 26 GiB of training memory on one input
    inp = fc.Input((1,))
    before, started = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter()
    with pytest.raises(ValueError, match=rf"^Dense 'big': training it needs at least [\d,.]+ GiB \({units:,} weight "
                                         rf"values x 20 bytes for the value, its copy in the model, gradient and "
                                         rf"optimizer slots, plus {units:,} values per sample x 8 bytes .*\), more "
                                         rf"than this machine's [\d,.]+ GiB of memory$"):
        fc.layers.Dense(units, name="big")(inp)
    assert time.perf_counter() - started < 5.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB: nothing was allocated


@pytest.mark.parametrize("make, owner", [
    (lambda: fc.Input((2**40, 2**40)), r"Input 'input_\w*' of `shape` \(1099511627776, 1099511627776\)"),
    (lambda: fc.Input((2**63,)), r"Input 'input_\w*' of `shape` \(9223372036854775808,\)"),
    (lambda: fc.layers.Dense(2**20, name="d")(fc.Input((2**20,))), r"Dense 'd'"),
])
def test_sizes_past_memory_or_64_bits_are_refused_naming_what_declared_them(make, owner):
    with pytest.raises(ValueError, match=f"^{owner}: training it needs at least"):
        make()


def test_a_user_layer_with_call_is_a_type_error_saying_what_is_supported():
    """Subclassing fc.layers.Layer gave pybind11's "incompatible constructor arguments (OpSpec)"."""
    class Scale(fc.layers.Layer):
        def call(self, x):
            return 2 * x

    with pytest.raises(TypeError, match=r"^fitcore layers run in the C\+\+ core, which computes their gradients; "
                                        r"custom Python layers are not supported \(Scale defines call\(\)\)\. Use one "
                                        r"of: Activation, Add, .*BatchNormalization, .*Conv2D, .*Dense.*"):
        Scale()

    class Nothing(fc.layers.Layer):
        pass

    with pytest.raises(TypeError, match=r"custom Python layers are not supported \(Nothing names no core kernel\)"):
        Nothing()(fc.Input((3,)))

    class WiderDense(fc.layers.Dense):  # configuring a fitcore layer is fine
        def __init__(self, **kwargs):
            super().__init__(7, **kwargs)

    model = fc.Sequential([fc.Input((3,)), WiderDense()])
    assert model.predict(np.zeros((2, 3), np.float32), verbose=0).shape == (2, 7)


def test_a_user_loss_is_a_type_error_saying_what_is_supported():
    class MyLoss(fc.losses.Loss):
        def call(self, y_true, y_pred):
            return (y_true - y_pred) ** 2

    with pytest.raises(TypeError, match=r"^fitcore losses run in the C\+\+ core, which computes their gradients; "
                                        r"custom Python losses are not supported \(MyLoss defines call\(\)\)\. Use "
                                        r"one of: .*mean_squared_error.*"):
        MyLoss()
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(1)])
    with pytest.raises(TypeError, match=r"`loss` is the Python function '<lambda>'; fitcore's core computes the gradients of its own "
                                        r"losses only .* Available losses: .*huber"):
        model.compile(optimizer="sgd", loss=lambda y_true, y_pred: (y_true - y_pred) ** 2)

    class NoKernel(fc.losses.Loss):
        pass

    with pytest.raises(TypeError, match=r"`loss` is the Loss subclass NoKernel; fitcore.s core computes the gradients of its own losses only"):
        model.compile(optimizer="sgd", loss=NoKernel())


def test_a_python_layer_in_a_model_is_refused_before_the_model_is_lowered():
    """Construction (a call() in Python) and the symbolic call (no core kernel) refuse a Python-defined
    layer, so lowering a model to the core never meets one."""
    class Scale(fc.layers.Layer):
        def call(self, x):
            return 2 * x

    class Nothing(fc.layers.Layer):
        pass

    inp = fc.Input((3,))
    with pytest.raises(TypeError, match=r"^fitcore layers run in the C\+\+ core, which computes their gradients; "
                                        r"custom Python layers are not supported \(Scale defines call\(\)\)\. "
                                        r"Use one of: Activation, .*Dense"):
        fc.Model(inp, fc.layers.Dense(2)(Scale()(inp)))
    for build in (lambda: fc.Model(inp, Nothing()(fc.layers.Dense(2)(inp))),
                  lambda: fc.Sequential([fc.Input((3,)), fc.layers.Dense(2), Nothing()])):
        with pytest.raises(TypeError, match=r"^fitcore layers run in the C\+\+ core, .* custom Python layers are "
                                            r"not supported \(Nothing names no core kernel\)\. Use one of: "):
            build()


def test_a_python_loss_is_refused_by_losses_get_the_one_place_compile_goes_through():
    def squared(y_true, y_pred):
        return (y_true - y_pred) ** 2

    class NoKernel(fc.losses.Loss):
        pass

    listed = ", ".join(sorted(set(fc.losses._BY_NAME) | set(fc.losses._BY_CLASS_NAME)))
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(1)])
    for loss, what in [(squared, "the Python function 'squared'"), (NoKernel(), "the Loss subclass NoKernel"),
                       (NoKernel, "the Loss subclass NoKernel")]:
        message = (f"`loss` is {what}; fitcore's core computes the gradients of its own losses only and cannot "
                   f"differentiate Python code. Available losses: {listed}. (Python-defined *metrics* work: they "
                   f"need no gradient.)")
        with pytest.raises(TypeError) as info:
            model.compile(optimizer="sgd", loss=loss)
        assert type(info.value) is TypeError and str(info.value) == "compile: " + message
        with pytest.raises(TypeError) as info:
            fc.losses.get(loss)
        assert type(info.value) is TypeError and str(info.value) == message
    assert "huber" in listed.split(", ") and "MeanSquaredError" in listed.split(", ")


def test_a_subclassed_model_with_call_is_a_type_error():
    class MyModel(fc.Model):
        def __init__(self):
            super().__init__()
            self.dense = fc.layers.Dense(3)

        def call(self, x):
            return self.dense(x)

    with pytest.raises(TypeError, match=r"^fitcore models run in the C\+\+ core, .* custom Python models are not "
                                        r"supported \(MyModel defines call\(\)\)\. Use one of: fc\.Model\(inputs, "
                                        r"outputs\) .*, fc\.Sequential"):
        MyModel()

    class Functional(fc.Model):  # Keras's functional subclassing works
        def __init__(self):
            inputs = fc.Input((3,))
            super().__init__(inputs, fc.layers.Dense(2)(inputs))

    assert Functional().predict(np.zeros((2, 3), np.float32), verbose=0).shape == (2, 2)


def test_a_refused_metric_list_leaves_the_metrics_that_ran_before():
    """set_metrics checks every metric before it changes anything: what the kept metrics read stays gathered."""
    _, core = classifier()
    core.set_metrics([_core.MetricSpec("sparse_categorical_accuracy", _core.Config(), 0, False)])
    with pytest.raises(ValueError, match="metric 'mean_squared_error' reads 3 target values"):
        core.set_metrics([_core.MetricSpec("sparse_categorical_accuracy", _core.Config(), 0, False),
                          _core.MetricSpec("mean_squared_error", _core.Config(), 0, False)])
    core.reset_metrics()
    x = x_of(6)
    core.evaluate([x], [labels(6)], [], 6)
    logits = np.empty((6, 3), np.float32)
    core.predict([x], 6, [logits])
    assert core.results()[1] == pytest.approx(np.mean(np.argmax(logits, 1) == labels(6)))

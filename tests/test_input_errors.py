"""Bad input: a ValueError/TypeError naming the argument, before any step, weights untouched."""
import numpy as np
import pytest

import fitcore as fc

RNG = np.random.default_rng(5)
X = RNG.normal(size=(20, 4)).astype(np.float32)
Y = RNG.integers(0, 3, size=20)


def _model():
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(x=X, y=Y[:15]), ValueError, r"same number of samples; got x: 20, y: 15$"),
    (dict(x=X, y=Y, sample_weight=np.ones(19)), ValueError, r"same number of samples; got x: 20, y: 20, "
                                                            r"sample_weight: 19$"),
    (dict(x=X[:, :3], y=Y), ValueError, r"^`x` for input '\w+' must have shape \(n, 4\), got \(20, 3\)$"),
    (dict(x=X, y=Y + 1), ValueError, r"^`y` for output '\w+' holds labels outside \[0, 3\) .*: e\.g\. .*\b3\)?$"),
    (dict(x=X, y=Y - 1), ValueError, r"^`y` for output '\w+' holds labels outside \[0, 3\) .*: e\.g\. .*-1\)?$"),
    (dict(x=X, y=Y, sample_weight=np.full(20, np.nan)), ValueError, r"^`sample_weight` must be finite; it holds NaN"),
    (dict(x=X, y=Y, class_weight={0: np.inf}), ValueError, r"^`class_weight`\[0\] must be a finite number, got inf$"),
    (dict(x=X, y=Y, class_weight=[1.0, 2.0]), TypeError, r"^`class_weight` must be a dict .*got list$"),
    (dict(x=X, y=Y, batch_size=0), ValueError, r"^`batch_size` must be >= 1, got 0$"),
    (dict(x=X, y=Y, batch_size=2.5), TypeError, r"^`batch_size` must be an int or None, got 2\.5$"),
    (dict(x=X, y=Y, epochs=-1), ValueError, r"^`epochs` must be >= 0, got -1$"),
    (dict(x=X, y=Y, validation_split=1.0), ValueError, r"^`validation_split` must be in \[0, 1\), got 1\.0$"),
    (dict(x=X, y=Y, validation_split=-0.1), ValueError, r"^`validation_split` must be in \[0, 1\), got -0\.1$"),
    (dict(x=X[:1], y=Y[:1], validation_split=0.5), ValueError, r"^`validation_split`=0\.5 of 1 samples leaves no "
                                                               r"training samples$"),
    (dict(x=X, y=Y, validation_data=(X,)), ValueError, r"^`validation_data` must be a tuple \(x_val, y_val\).*"
                                                       r"got a tuple of length 1$"),
    (dict(x=X, y=Y, validation_data=(X[:, :2], Y)), ValueError, r"^`validation_data: x` for input '\w+' must have "
                                                                r"shape \(n, 4\), got \(20, 2\)$"),
    (dict(x=X, y=Y, validation_freq=0), ValueError, r"^`validation_freq` must be >= 1, got 0$"),
    (dict(x=X, y=Y, validation_batch_size=-2), ValueError, r"^`validation_batch_size` must be >= 1, got -2$"),
    (dict(x=X, y=Y, shuffle="batch"), TypeError, r"^`shuffle` must be True or False, got 'batch'$"),
    (dict(x="data.csv", y=Y), TypeError, r"^`x` must be an array .*; got str \(fitcore reads no files"),
    (dict(x={1, 2}, y=Y), TypeError, r"^`x` must be an array .*; got set$"),
    (dict(x=np.array([["a"] * 4] * 20), y=Y), TypeError, r"^`x` must hold numbers \(bool, int or float\), "
                                                         r"got dtype <U1$"),
    (dict(x=X, y=None), ValueError, r"^fit: `y` is required for array inputs$"),
    (dict(x=X, y=Y, steps_per_epoch=0), ValueError, r"^`steps_per_epoch` must be a positive int, -1 or None, got 0$"),
    (dict(x=X, y=Y, steps_per_epoch=-1), ValueError, r"^`steps_per_epoch`=-1 trains until a callback sets "
                                                     r"model\.stop_training, but no callback has batch hooks"),
])
def test_fit_rejects_bad_input_before_any_step(kwargs, error, message):
    model = _model()
    before = model.get_weights()
    with pytest.raises(error, match=message):
        model.fit(verbose=0, **kwargs)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0


def _gen(n=20, size=5, x=X, y=Y):
    for i in range(0, n, size):
        yield x[i:i + size], y[i:i + size]


class _Batches:
    """A Keras-style PyDataset by duck typing."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return X[i * 5:(i + 1) * 5], Y[i * 5:(i + 1) * 5]


def _two_inputs():
    a, b = fc.Input((4,), name="a"), fc.Input((2,), name="b")
    model = fc.Model(inputs=[a, b], outputs=[fc.layers.Dense(3, activation="softmax", name="o1")(a),
                                             fc.layers.Dense(1, name="o2")(b)])
    model.compile(optimizer="adam", loss=["sparse_categorical_crossentropy", "mse"])
    return model


# Each entry: (make the fit keyword arguments, error type, text the message must hold).
STREAM_AND_STRUCTURE_CASES = [
    (lambda: dict(x=_gen(), y=Y), ValueError, "`y` must be None when `x` is a generator"),
    (lambda: dict(x=_gen(), sample_weight=np.ones(20)), ValueError, "`sample_weight` must be None"),
    (lambda: dict(x=_gen(), validation_split=0.2), ValueError, "`validation_split` must not be given"),
    (lambda: dict(x=_gen(), batch_size=5), ValueError, "`batch_size` must not be given when `x` is a generator"),
    (lambda: dict(x=_Batches(), batch_size=5), ValueError, "`batch_size` must not be given when `x` is a PyDataset"),
    (lambda: dict(x=[(X, Y)], y=Y), ValueError, "`y` must be None when `x` is a dataset"),
    (lambda: dict(x=X, y=Y, validation_data=_gen(), validation_batch_size=4), ValueError,
     "`validation_batch_size` must not be given"),
    (lambda: dict(x=X, y=Y, validation_data=X), ValueError, "`validation_data` must be a tuple"),
    (lambda: dict(x=X, y=Y, validation_split=1e-17), ValueError, "`validation_split`=1e-17 of 20 samples leaves no "
                                                                 "validation"),
    (lambda: dict(x=X[:1], y=Y[:1], validation_split=0.5), ValueError, "leaves no training"),
    (lambda: dict(x=X, y=Y, batch_size=-3), ValueError, "`batch_size` must be >= 1, got -3"),
    (lambda: dict(x=X, y=Y, class_weight={0: float("nan")}), ValueError, "`class_weight`[0] must be a finite"),
    (lambda: dict(x=X, y=Y, sample_weight=np.r_[np.ones(19), np.inf]), ValueError, "`sample_weight` must be finite"),
    (lambda: dict(x=__import__("pathlib").Path("x.npy"), y=Y), TypeError, "fitcore reads no files"),
    (lambda: dict(x=7, y=Y), ValueError, "`x` must have a batch axis, got a scalar"),
    (lambda: dict(x=object(), y=Y), TypeError, "`x` must be an array"),
]


@pytest.mark.parametrize("make, error, text", STREAM_AND_STRUCTURE_CASES)
def test_fit_rejects_streams_and_structures_it_cannot_use(make, error, text):
    model = _model()
    before = model.get_weights()
    with pytest.raises(error) as info:
        model.fit(verbose=0, **make())
    assert text in str(info.value)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0


@pytest.mark.parametrize("x, y, text", [
    ({"a": X}, [Y, Y[:, None]], "missing: ['b']"),
    ({"a": X, "b": X[:, :2], "c": X}, [Y, Y[:, None]], "unknown: ['c']"),
    ([X, X[:10, :2]], [Y, Y[:, None]], "x[1]: 10"),
    ([X, X[:, :2]], {"o1": Y, "o3": Y}, "`y` is a dict keyed by output name"),
])
def test_fit_rejects_inputs_that_do_not_match_the_model_by_name_or_length(x, y, text):
    model = _two_inputs()
    before = model.get_weights()
    with pytest.raises(ValueError) as info:
        model.fit(x, y, verbose=0)
    assert text in str(info.value)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_class_weight_is_an_error_for_several_outputs():
    model = _two_inputs()
    with pytest.raises(ValueError, match="`class_weight` is not supported for models with several outputs"):
        model.fit([X, X[:, :2]], [Y, Y[:, None]], class_weight={0: 2.0}, verbose=0)
    assert model.optimizer.iterations == 0


BAD_BATCH = [
    ((X[10:15, :3], Y[10:15]), ValueError, "`x` for input"),
    ((X[10:15], Y[10:15] + 3), ValueError, "`y` for output"),
    ((X[10:15], Y[10:15], np.full(5, np.nan)), ValueError, "`sample_weight` must be finite"),
    ((X[10:15], Y[10:15], np.ones(5), np.ones(5)), ValueError, "got a tuple of length 4"),
    ([X[10:15], Y[10:15]], ValueError, "yield a tuple (x, y)"),
    (X[10:15], ValueError, "with targets, got x alone"),
    ((X[10:15], Y[10:12]), ValueError, "same number of samples"),
    ((np.array([["a"] * 4] * 5), Y[10:15]), TypeError, "must hold numbers"),
]


@pytest.mark.parametrize("bad, error, text", BAD_BATCH)
def test_a_bad_yielded_batch_is_raised_at_its_step_before_it_changes_the_model(bad, error, text):
    def gen():
        yield X[:5], Y[:5]
        yield X[5:10], Y[5:10]
        yield bad
        yield X[15:20], Y[15:20]

    fc.utils.set_random_seed(7)
    model = _model()
    with pytest.raises(error) as info:
        model.fit(gen(), epochs=1, verbose=0)
    message = str(info.value)
    assert "the batch `x` yielded at step 3 of epoch 1" in message and text in message
    assert model.optimizer.iterations == 2  # the two good steps ran; the bad one changed nothing
    fc.utils.set_random_seed(7)
    reference = _model()
    reference.fit(iter([(X[:5], Y[:5]), (X[5:10], Y[5:10])]), epochs=1, verbose=0)
    for a, b in zip(reference.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    model.fit(X, Y, epochs=1, verbose=0)  # and the model still trains


def test_bad_batches_in_validation_evaluate_and_predict_name_their_step():
    model = _model()
    bad = [(X[:5], Y[:5]), (X[5:10, :2], Y[5:10])]
    with pytest.raises(ValueError, match="the batch `validation_data` yielded at step 2 of epoch 1"):
        model.fit(X, Y, validation_data=bad, verbose=0)
    with pytest.raises(ValueError, match="the batch `x` yielded at step 2 of epoch 1: `x` for input"):
        model.evaluate(iter(bad), verbose=0)
    with pytest.raises(ValueError, match="the batch `x` yielded at step 2 of epoch 1: `x` for input"):
        model.predict(iter(bad), verbose=0)


@pytest.mark.parametrize("call, error, text", [
    (lambda m: m.evaluate(_gen(), batch_size=5, verbose=0), ValueError, "`batch_size` must not be given"),
    (lambda m: m.evaluate(_gen(), Y, verbose=0), ValueError, "`y` must be None when `x` is a generator"),
    (lambda m: m.evaluate(X, verbose=0), ValueError, "`y` is required"),
    (lambda m: m.evaluate(iter([]), verbose=0), ValueError, "`x` yielded no batches"),
    (lambda m: m.predict(_Batches(), batch_size=5, verbose=0), ValueError, "`batch_size` must not be given"),
    (lambda m: m.predict(X, steps=0, verbose=0), ValueError, "`steps` must be >= 1"),
    (lambda m: m.predict({3, 4}, verbose=0), TypeError, "`x` must be an array"),
    (lambda m: m.train_on_batch(_gen()), TypeError, "`x` must be arrays (one batch), got a generator"),
    (lambda m: m.test_on_batch(X, Y[:3]), ValueError, "same number of samples"),
])
def test_evaluate_predict_and_single_batches_reject_bad_input(call, error, text):
    model = _model()
    before = model.get_weights()
    with pytest.raises(error) as info:
        call(model)
    assert text in str(info.value)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_fit_before_compile():
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(3)])
    with pytest.raises(ValueError, match="compile"):
        model.fit(X, Y, verbose=0)


@pytest.mark.parametrize("kwargs, arg, listed", [
    (dict(optimizer="adamx", loss="mse"), "optimizer", "adam"),
    (dict(optimizer="adam", loss="mse_loss"), "loss", "sparse_categorical_crossentropy"),
    (dict(optimizer="adam", loss="mse", metrics=["acuracy"]), "metric", "accuracy"),
])
def test_compile_rejects_unknown_names_listing_valid_ones(kwargs, arg, listed):
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(3)])
    with pytest.raises(ValueError, match=arg) as info:
        model.compile(**kwargs)
    assert listed in str(info.value)


def test_unknown_activation():
    with pytest.raises(ValueError, match="activation"):
        fc.layers.Dense(3, activation="relux")


def test_set_weights_checks_shapes_before_writing():
    model = _model()
    before = model.get_weights()
    with pytest.raises(ValueError, match="shape"):
        model.set_weights([before[0], np.zeros(4)])
    with pytest.raises(ValueError, match="expected 2"):
        model.set_weights([before[0]])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_model_still_trains_after_errors():
    model = _model()
    with pytest.raises(ValueError):
        model.fit(X, Y + 5, verbose=0)
    history = model.fit(X, Y, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_bad_verbose():
    with pytest.raises(ValueError, match="verbose"):
        _model().fit(X, Y, verbose=3)


@pytest.mark.parametrize("x, error", [(None, TypeError), ("data.csv", TypeError), (3.0, ValueError),
                                      (X[:0], ValueError)])
def test_predict_on_batch_rejects_non_arrays_naming_x(x, error):
    # found by the fuzz campaign: predict_on_batch(None) raised "len() of unsized object"
    with pytest.raises(error, match="`x`"):
        _model().predict_on_batch(x)


def test_predict_on_batch_is_one_batch():
    model = _model()
    np.testing.assert_array_equal(model.predict_on_batch(X), model.predict(X, batch_size=len(X), verbose=0))


@pytest.mark.parametrize("loss_weights, error", [([1.0, 2.0], ValueError), ("a", TypeError), ({"x": 1}, ValueError),
                                                 ([None, "b"], ValueError), (True, TypeError)])
def test_compile_rejects_bad_loss_weights_naming_them(loss_weights, error):
    # found by the fuzz campaign: a list for a single output raised float()'s bare TypeError
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(3)])
    with pytest.raises(error, match="loss_weights"):
        model.compile(optimizer="sgd", loss="mse", loss_weights=loss_weights)


def test_single_output_accepts_a_one_entry_loss_weights_list():
    model = _model()
    plain = model.evaluate(X, Y, verbose=0, return_dict=True)["loss"]
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", loss_weights=[0.5])
    np.testing.assert_allclose(model.evaluate(X, Y, verbose=0, return_dict=True)["loss"], 0.5 * plain, rtol=1e-6)


@pytest.mark.parametrize("call", ["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_compiled_without_a_loss_is_a_clear_error_before_reading_y(call):
    # found by the long fuzz campaign on the merged tree: the targets' check reached a missing loss
    model = _model()
    model.compile(optimizer="sgd")
    before = model.get_weights()
    with pytest.raises(ValueError, match="without a `loss`"):
        getattr(model, call)(X, Y, **({"verbose": 0} if call in ("fit", "evaluate") else {}))
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.predict(X, verbose=0).shape[0] == len(X)  # prediction needs no loss

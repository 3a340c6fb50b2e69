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


@pytest.mark.parametrize("kwargs, error, names", [
    (dict(x=X, y=Y[:15]), ValueError, "y"),
    (dict(x=X, y=Y, sample_weight=np.ones(19)), ValueError, "sample_weight"),
    (dict(x=X[:, :3], y=Y), ValueError, "x"),
    (dict(x=X, y=Y + 1), ValueError, "y"),
    (dict(x=X, y=Y - 1), ValueError, "y"),
    (dict(x=X, y=Y, sample_weight=np.full(20, np.nan)), ValueError, "sample_weight"),
    (dict(x=X, y=Y, class_weight={0: np.inf}), ValueError, "class_weight"),
    (dict(x=X, y=Y, class_weight=[1.0, 2.0]), TypeError, "class_weight"),
    (dict(x=X, y=Y, batch_size=0), ValueError, "batch_size"),
    (dict(x=X, y=Y, batch_size=2.5), TypeError, "batch_size"),
    (dict(x=X, y=Y, epochs=-1), ValueError, "epochs"),
    (dict(x=X, y=Y, validation_split=1.0), ValueError, "validation_split"),
    (dict(x=X, y=Y, validation_split=-0.1), ValueError, "validation_split"),
    (dict(x=X[:1], y=Y[:1], validation_split=0.5), ValueError, "validation_split"),
    (dict(x=X, y=Y, validation_data=(X,)), ValueError, "validation_data"),
    (dict(x=X, y=Y, validation_data=(X[:, :2], Y)), ValueError, "validation_data"),
    (dict(x=X, y=Y, validation_freq=0), ValueError, "validation_freq"),
    (dict(x=X, y=Y, validation_batch_size=-2), ValueError, "validation_batch_size"),
    (dict(x=X, y=Y, shuffle="batch"), TypeError, "shuffle"),
    (dict(x="data.csv", y=Y), TypeError, "x"),
    (dict(x={1, 2}, y=Y), TypeError, "x"),
    (dict(x=np.array([["a"] * 4] * 20), y=Y), TypeError, "x"),
    (dict(x=X, y=None), ValueError, "y"),
    (dict(x=X, y=Y, steps_per_epoch=0), ValueError, "steps_per_epoch"),
    (dict(x=X, y=Y, steps_per_epoch=-1), ValueError, "steps_per_epoch"),
])
def test_fit_rejects_bad_input_before_any_step(kwargs, error, names):
    model = _model()
    before = model.get_weights()
    with pytest.raises(error, match=names):
        model.fit(verbose=0, **kwargs)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0


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

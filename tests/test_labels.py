"""Sparse labels stay integers from the user's array to the core's loss and metrics, so every class id
is exact: float32 holds integers exactly only up to 2**24, and a label sent through it is rounded
(16777217 became 16777216; 16777219 became 16777220, past the last class, and its loss read 0.0)."""
import numpy as np
import pytest

import fitcore as fc
from fitcore.data.standardize import standardize_targets

CLASSES = 16777220  # 2**24 + 4: ids 2**24 + 1 and 2**24 + 3 are not float32 numbers
HOT = 16777217      # the class the model below predicts


def big_classifier():
    """x -> logits -30 everywhere but 0 at class HOT, whatever x: known scores for any label (a
    dominant logit, so the float32 sum over 16.7M classes is accurate)."""
    model = fc.Sequential([fc.Input((1,)), fc.layers.Dense(CLASSES, kernel_initializer="zeros",
                                                           bias_initializer="zeros")])
    model.compile(optimizer="sgd", loss=fc.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    kernel, bias = model.get_weights()
    bias[:] = -30.0
    bias[HOT] = 0.0
    model.set_weights([kernel, bias])
    return model


def crossentropy(label):
    """-log softmax(logits)[label] in float64 for the logits above."""
    logits = np.full(CLASSES, -30.0)
    logits[HOT] = 0.0
    return np.log(np.sum(np.exp(logits))) - logits[label]


@pytest.fixture(scope="module")
def model():
    return big_classifier()


@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_labels_past_2_to_the_24_are_scored_exactly(model, dtype):
    x = np.zeros((1, 1), np.float32)
    for label, accuracy in ((HOT, 1.0), (HOT - 1, 0.0), (16777219, 0.0)):
        logs = model.evaluate(x, np.array([label], dtype), verbose=0, return_dict=True)
        assert logs["accuracy"] == accuracy, label
        assert logs["loss"] == pytest.approx(crossentropy(label), rel=1e-5, abs=1e-5), label
    # 16777217 rounded through float32 scored as 16777216 (loss 30, accuracy 0); 16777219 rounded
    # to 16777220, outside [0, CLASSES), and its loss read 0.0
    assert crossentropy(HOT) < 1e-5 and crossentropy(HOT - 1) > 30.0 and crossentropy(16777219) > 30.0


def test_the_gradient_lands_on_the_exact_class(model):
    """The bias gradient of softmax crossentropy is p - onehot(label): negative at the label only."""
    from conftest import core_gradients

    _, bias_grad = core_gradients(model, np.zeros((1, 1), np.float32), np.array([HOT], np.int64))
    assert np.flatnonzero(bias_grad < 0).tolist() == [HOT]
    z = 1.0 + (CLASSES - 1) * np.exp(-30.0)
    assert -1e-5 < bias_grad[HOT] < 0.0  # 1/z - 1, about -1.6e-6
    assert bias_grad[HOT - 1] == pytest.approx(np.exp(-30.0) / z, rel=1e-4)


def test_a_training_step_and_class_weight_see_the_exact_label(model):
    """train_on_batch's loss is the label's own; class_weight keyed by the exact id weighs it."""
    x = np.zeros((2, 1), np.float32)
    y = np.array([HOT, 16777219], np.int64)
    before = model.get_weights()
    try:
        logs = model.train_on_batch(x, y, class_weight={16777219: 3.0}, return_dict=True)
    finally:
        model.set_weights(before)
    expected = (crossentropy(HOT) + 3.0 * crossentropy(16777219)) / 2
    assert logs["loss"] == pytest.approx(expected, rel=1e-5)
    assert logs["accuracy"] == 0.5


def test_labels_out_of_range_are_refused_naming_y(model):
    with pytest.raises(ValueError, match=r"`y` for output '.*' holds labels outside \[0, 16777220\)"):
        model.evaluate(np.zeros((1, 1), np.float32), np.array([CLASSES], np.int64), verbose=0)


def small_model():
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(5)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_labels_reach_the_core_without_a_copy(dtype):
    model = small_model()
    y = np.arange(10, dtype=dtype) % 5
    (out,) = standardize_targets(model, y, model._compile_config.losses)
    assert out.dtype == dtype and np.shares_memory(out, y)


@pytest.mark.parametrize("y, dtype", [(np.arange(4, dtype=np.uint8), np.int64), (np.arange(4.0), np.int64),
                                      (np.arange(4, dtype=np.int16).reshape(4, 1), np.int64)])
def test_other_label_types_become_exact_int64(y, dtype):
    model = small_model()
    (out,) = standardize_targets(model, y, model._compile_config.losses)
    assert out.dtype == dtype and out.flags.c_contiguous
    np.testing.assert_array_equal(out.reshape(-1), [0, 1, 2, 3])


def test_fit_on_int_and_float_labels_gives_the_same_history():
    """The same labels as int32, int64 or float32 train identically (ids below 2**24 are exact in all)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = rng.integers(0, 5, size=64)
    histories = []
    for labels in (y.astype(np.int32), y.astype(np.int64), y.astype(np.float32)):
        fc.utils.set_random_seed(7)
        model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(5, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        histories.append(model.fit(x, labels, batch_size=16, epochs=2, verbose=0).history)
    assert histories[0] == histories[1] == histories[2]

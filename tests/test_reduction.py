"""Keras 3's sum_over_batch_size reduction, sample_weight and class_weight."""
import numpy as np
import pytest
from reference import per_element_loss

import fitcore as fc

RNG = np.random.default_rng(3)


def _classifier():
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"])
    return model


def _pred(model, x):
    kernel, bias = [w.astype(np.float64) for w in model.get_weights()]
    z = x @ kernel + bias
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_weighted_loss_divides_by_element_count_not_weight_sum():
    model = _classifier()
    x = RNG.normal(size=(10, 4)).astype(np.float32)
    y = RNG.integers(0, 3, size=10)
    w = RNG.uniform(0, 3, size=10)
    losses = per_element_loss("sparse_categorical_crossentropy", _pred(model, x), y)
    got = model.evaluate(x, y, sample_weight=w, batch_size=10, verbose=0, return_dict=True)
    np.testing.assert_allclose(got["loss"], (losses * w).sum() / 10, rtol=1e-5)
    assert not np.isclose(got["loss"], (losses * w).sum() / w.sum(), rtol=1e-3)


def test_metrics_ignore_weights_but_weighted_metrics_use_them():
    model = _classifier()
    x = RNG.normal(size=(12, 4)).astype(np.float32)
    y = RNG.integers(0, 3, size=12)
    w = RNG.uniform(0, 3, size=12)
    hits = (_pred(model, x).argmax(1) == y).astype(float)
    got = model.evaluate(x, y, sample_weight=w, batch_size=5, verbose=0, return_dict=True)
    np.testing.assert_allclose(got["accuracy"], hits.mean(), rtol=1e-6)
    np.testing.assert_allclose(got["weighted_accuracy"], (hits * w).sum() / w.sum(), rtol=1e-5)


def test_epoch_loss_is_batch_size_weighted_mean_of_batch_losses():
    model = _classifier()
    x = RNG.normal(size=(10, 4)).astype(np.float32)
    y = RNG.integers(0, 3, size=10)
    losses = per_element_loss("sparse_categorical_crossentropy", _pred(model, x), y)
    # batches of 4, 4, 2: the epoch mean weighs each batch's mean by its size.
    batch_means = [losses[0:4].mean(), losses[4:8].mean(), losses[8:].mean()]
    want = (4 * batch_means[0] + 4 * batch_means[1] + 2 * batch_means[2]) / 10
    got = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)["loss"]
    np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("target_kind", ["sparse", "column", "onehot"])
def test_class_weight_multiplies_into_sample_weight(target_kind):
    x = RNG.normal(size=(9, 4)).astype(np.float32)
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2])
    y = {"sparse": labels, "column": labels[:, None], "onehot": np.eye(3)[labels]}[target_kind]
    loss = "categorical_crossentropy" if target_kind == "onehot" else "sparse_categorical_crossentropy"
    sample_weight = RNG.uniform(0.5, 1.5, size=9)
    class_weight = {0: 2.0, 2: 0.25}  # class 1 is not listed: weighs 1

    def trained(**kwargs):
        fc.utils.set_random_seed(5)
        model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(3, activation="softmax")])
        model.compile(optimizer=fc.optimizers.SGD(0.5), loss=loss)
        model.fit(x, y, batch_size=9, epochs=2, shuffle=False, verbose=0, **kwargs)
        return model.get_weights()

    per_class = np.array([class_weight.get(c, 1.0) for c in labels])
    with_class_weight = trained(class_weight=class_weight, sample_weight=sample_weight)
    with_product = trained(sample_weight=sample_weight * per_class)
    unweighted = trained()
    for a, b in zip(with_class_weight, with_product):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not np.allclose(with_class_weight[0], unweighted[0])

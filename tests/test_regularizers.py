"""Weight regularizers: Keras's defaults and names, the penalty in the reported loss (training,
evaluate, validation) and its gradient in the core, against float64 numpy references."""
import numpy as np
import pytest
from reference import batch_norm, check_gradients, dense, per_element_loss, reduced_loss, regularization

import fitcore as fc

RNG = np.random.default_rng(5)
R = fc.regularizers


def mse(pred, y):
    return per_element_loss("mean_squared_error", pred, y)


def test_keras_defaults_and_names():
    assert (R.L1().l1, R.L1().l2) == (0.01, 0.0)
    assert (R.L2().l1, R.L2().l2) == (0.0, 0.01)
    assert (R.L1L2().l1, R.L1L2().l2) == (0.0, 0.0)
    assert type(R.get("l1")) is R.L1 and type(R.get("l2")) is R.L2 and type(R.get("l1l2")) is R.L1L2
    assert type(R.get("l1_l2")) is R.L1L2 and R.get(None) is None
    reg = R.L1L2(l1=0.1, l2=0.2)
    assert R.get(reg) is reg
    w = RNG.normal(size=(3, 4))
    np.testing.assert_allclose(reg(w), 0.1 * np.abs(w).sum() + 0.2 * (w ** 2).sum())  # no 1/2 on l2
    assert R.get(R.serialize(reg)).get_config() == {"l1": 0.1, "l2": 0.2}


def test_bad_regularizers_are_value_errors_at_construction():
    with pytest.raises(ValueError, match="Unknown `kernel_regularizer` 'l3'; expected None, an "
                                         "fc.regularizers.L1/L2/L1L2 instance or one of the names: l1, l2, l1l2"):
        fc.layers.Dense(2, kernel_regularizer="l3")
    with pytest.raises(ValueError, match=r"^L2: `l2` must be in \[0, inf\], got -1.0$"):
        R.L2(-1)
    with pytest.raises(TypeError, match="^L1: `l1` must be a number, got 'a'$"):
        R.L1("a")
    with pytest.raises(ValueError, match="^L1L2: `l2` must be a finite number, got inf$"):
        R.L1L2(l2=float("inf"))
    with pytest.raises(ValueError, match="Unknown `embeddings_regularizer`"):
        fc.layers.Embedding(3, 2, embeddings_regularizer=0.1)


def _model(first_trainable=True):
    model = fc.Sequential([
        fc.Input((4,)),
        fc.layers.Dense(3, activation="tanh", kernel_regularizer=R.L1(0.1), bias_regularizer="l2"),
        fc.layers.Dense(2, kernel_regularizer=R.L1L2(l1=0.05, l2=0.3)),
    ])
    model.layers[0].trainable = first_trainable
    w = model.get_weights()
    w[1] = RNG.normal(size=3).astype(np.float32)  # a non-zero bias, so its L2 term counts
    model.set_weights(w)
    return model


def _forward(p, x):
    return dense(dense(x, p[0], p[1], "tanh"), p[2], p[3])


def _penalty(p):
    return (regularization([p[0]], l1=0.1) + regularization([p[1]], l2=0.01)
            + regularization([p[2]], l1=0.05, l2=0.3))


def test_penalty_gradients_and_reported_losses():
    model = _model()
    x, y = RNG.normal(size=(6, 4)).astype(np.float32), RNG.normal(size=(6, 2)).astype(np.float32)
    model.compile(optimizer=fc.optimizers.SGD(learning_rate=0.0), loss="mse")
    total = check_gradients(model, x, y, mse, _forward, extra=_penalty)
    p = [w.astype(np.float64) for w in model.get_weights()]
    assert _penalty(p) > 0.1  # the penalty is a visible part of the loss
    # As Keras 3: the training loss, evaluate() and val_loss all include the penalties.
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), total(), rtol=1e-5)
    history = model.fit(x, y, batch_size=6, epochs=1, validation_data=(x, y), verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], total(), rtol=1e-5)
    np.testing.assert_allclose(history.history["val_loss"][0], total(), rtol=1e-5)


def test_training_step_applies_the_penalty_gradient():
    # Zero data gradient (targets equal the outputs): one SGD step moves weights by -lr * penalty gradient.
    model = fc.Sequential([fc.Input((2,)), fc.layers.Dense(3, kernel_regularizer=R.L1L2(l1=0.1, l2=0.25),
                                                           bias_initializer="ones")])
    model.compile(optimizer=fc.optimizers.SGD(learning_rate=0.5), loss="mse")
    x = RNG.normal(size=(4, 2)).astype(np.float32)
    kernel = model.get_weights()[0].astype(np.float64)
    model.train_on_batch(x, model.predict(x, verbose=0))
    np.testing.assert_allclose(model.get_weights()[0], kernel - 0.5 * (0.1 * np.sign(kernel) + 0.5 * kernel),
                               rtol=1e-5, atol=1e-6)


def test_frozen_weights_are_not_regularized():
    model = _model(first_trainable=False)
    x, y = RNG.normal(size=(5, 4)).astype(np.float32), RNG.normal(size=(5, 2)).astype(np.float32)
    model.compile(optimizer="sgd", loss="mse")
    p = [w.astype(np.float64) for w in model.get_weights()]  # frozen layer first: order is unchanged
    want = reduced_loss(mse(_forward(p, x), y)) + regularization([p[2]], l1=0.05, l2=0.3)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), want, rtol=1e-5)


def test_embedding_and_batch_norm_regularizers():
    ids = fc.Input((3,), dtype="int32")
    h = fc.layers.Embedding(5, 2, embeddings_regularizer=R.L2(0.3))(ids)
    h = fc.layers.BatchNormalization(gamma_regularizer=R.L1(0.2), beta_regularizer="l2")(h)
    model = fc.Model(ids, fc.layers.Dense(1)(fc.layers.Flatten()(h)))
    w = model.get_weights()
    w[1], w[2] = RNG.uniform(0.5, 1.5, 2).astype(np.float32), RNG.normal(size=2).astype(np.float32)
    model.set_weights(w)
    x = np.array([[0, 1, 2], [2, 3, 4], [4, 4, 0], [1, 0, 3]])
    y = RNG.normal(size=(4, 1)).astype(np.float32)

    def forward(p, x):
        h = batch_norm(p[0][x], p[1], p[2])
        return dense(h.reshape(len(x), -1), p[5], p[6])

    def penalty(p):
        return regularization([p[0]], l2=0.3) + regularization([p[1]], l1=0.2) + regularization([p[2]], l2=0.01)

    model.compile(optimizer="sgd", loss="mse")
    check_gradients(model, x, y, mse, forward, extra=penalty, atol=3e-4)


def test_per_output_losses_exclude_the_penalty():
    a = fc.Input((3,))
    h = fc.layers.Dense(4, kernel_regularizer=R.L2(0.5), name="h")(a)
    model = fc.Model(a, [fc.layers.Dense(1, name="o1")(h), fc.layers.Dense(1, name="o2")(h)])
    model.compile(optimizer="sgd", loss=["mse", "mse"])
    x, y = RNG.normal(size=(6, 3)).astype(np.float32), RNG.normal(size=(6, 1)).astype(np.float32)
    logs = model.evaluate(x, [y, y], verbose=0, return_dict=True)
    penalty = 0.5 * float(np.square(model.get_weights()[0].astype(np.float64)).sum())
    np.testing.assert_allclose(logs["loss"], logs["o1_loss"] + logs["o2_loss"] + penalty, rtol=1e-5)

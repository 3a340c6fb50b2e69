"""Functional models with several named inputs and outputs: fit / evaluate / predict with
per-output losses (list or dict), loss_weights, per-output metrics, History keys named as Keras 3
names them, x and y as dicts in any key order, and compile-time errors for bad configuration."""
import numpy as np
import pytest
from reference import dense, per_element_loss, reduced_loss, softmax

import fitcore as fc

RNG = np.random.default_rng(21)
L = fc.layers
N = 48


def _model():
    a, b = fc.Input((4,), name="a"), fc.Input((3,), name="b")
    h = L.Concatenate(name="join")([L.Dense(6, activation="tanh", name="ha")(a), b])  # (None, 9)
    h = L.Add(name="sum")([L.Dense(5, activation="tanh", name="hj")(h), L.Dense(5, name="hb")(b)])
    return fc.Model(inputs=[a, b], outputs=[L.Dense(1, name="reg")(h), L.Dense(3, activation="softmax", name="cls")(h)])


def _forward(p, a, b):
    h = np.concatenate([dense(a, p[0], p[1], "tanh"), b], axis=-1)
    h = dense(h, p[2], p[3], "tanh") + dense(b, p[4], p[5])
    return dense(h, p[6], p[7]), softmax(h @ p[8] + p[9])


def _data(n=N):
    a = RNG.normal(size=(n, 4)).astype(np.float32)
    b = RNG.normal(size=(n, 3)).astype(np.float32)
    reg = (a[:, :1] - b[:, 1:2]).astype(np.float32)
    cls = (np.argmax(np.concatenate([a[:, :2], b[:, :1]], axis=1), axis=1)).astype(np.int64)
    return a, b, reg, cls


def _reference_losses(model, a, b, reg, cls, weights=(1.0, 1.0)):
    p = [w.astype(np.float64) for w in model.get_weights()]
    out_reg, out_cls = _forward(p, a.astype(np.float64), b.astype(np.float64))
    l_reg = reduced_loss(per_element_loss("mean_squared_error", out_reg, reg))
    l_cls = reduced_loss(per_element_loss("sparse_categorical_crossentropy", out_cls, cls))
    acc = np.mean(np.argmax(out_cls, axis=1) == cls)
    return weights[0] * l_reg + weights[1] * l_cls, l_reg, l_cls, acc


def test_predict_returns_one_array_per_output_and_dict_x_in_any_order():
    model = _model()
    a, b, _, _ = _data()
    out_reg, out_cls = model.predict([a, b], verbose=0)
    want_reg, want_cls = _forward([w.astype(np.float64) for w in model.get_weights()], a, b)
    np.testing.assert_allclose(out_reg, want_reg, atol=1e-5)
    np.testing.assert_allclose(out_cls, want_cls, atol=1e-5)
    by_name = model.predict({"b": b, "a": a}, verbose=0)
    np.testing.assert_array_equal(by_name[0], out_reg)
    np.testing.assert_array_equal(by_name[1], out_cls)


def test_two_inputs_two_outputs_train_with_keras_history_keys():
    model = _model()
    model.compile(optimizer=fc.optimizers.Adam(learning_rate=0.01),
                  loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[0.5, 2.0],
                  metrics={"cls": ["accuracy"]}, weighted_metrics={"cls": ["accuracy"]})
    a, b, reg, cls = _data()
    first = _reference_losses(model, a, b, reg, cls, (0.5, 2.0))
    history = model.fit({"b": b, "a": a}, {"cls": cls, "reg": reg}, batch_size=N, epochs=40,
                        validation_data=([a, b], [reg, cls]), verbose=0)
    keys = ["cls_accuracy", "cls_loss", "cls_weighted_accuracy", "loss", "reg_loss"]  # sorted, as Keras 3.15
    assert list(history.history) == keys + ["val_" + k for k in keys]
    # The first epoch's training logs are the reference at the initial weights (one full batch).
    for key, want in zip(["loss", "reg_loss", "cls_loss", "cls_accuracy"], first):
        np.testing.assert_allclose(history.history[key][0], want, rtol=1e-5, err_msg=key)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]
    # evaluate and the last validation agree with the reference at the final weights.
    final = _reference_losses(model, a, b, reg, cls, (0.5, 2.0))
    logs = model.evaluate([a, b], [reg, cls], verbose=0, return_dict=True)
    for key, want in zip(["loss", "reg_loss", "cls_loss", "cls_accuracy"], final):
        np.testing.assert_allclose(logs[key], want, rtol=1e-5, err_msg=key)
        np.testing.assert_allclose(history.history["val_" + key][-1], want, rtol=1e-5, err_msg=key)


def test_loss_and_weights_as_dicts_equal_the_lists():
    a, b, reg, cls = _data()
    results = []
    for loss, weights in ((["mse", "sparse_categorical_crossentropy"], [3.0, 0.5]),
                          ({"cls": "sparse_categorical_crossentropy", "reg": "mse"}, {"cls": 0.5, "reg": 3.0})):
        fc.utils.set_random_seed(4)
        model = _model()
        model.compile(optimizer="sgd", loss=loss, loss_weights=weights)
        results.append(model.fit([a, b], [reg, cls], batch_size=16, epochs=2, verbose=0).history)
    assert results[0] == results[1]
    np.testing.assert_allclose(results[0]["loss"][0], 3.0 * results[0]["reg_loss"][0] + 0.5 * results[0]["cls_loss"][0],
                               rtol=1e-5)


def test_metrics_as_a_list_per_output():
    model = _model()
    model.compile(optimizer="sgd", loss=["mse", "sparse_categorical_crossentropy"],
                  metrics=[None, ["accuracy", "sparse_categorical_accuracy"]])
    a, b, reg, cls = _data()
    logs = model.evaluate([a, b], [reg, cls], verbose=0, return_dict=True)
    assert list(logs) == ["cls_accuracy", "cls_loss", "cls_sparse_categorical_accuracy", "loss", "reg_loss"]
    acc = _reference_losses(model, a, b, reg, cls)[3]
    assert logs["cls_accuracy"] == logs["cls_sparse_categorical_accuracy"] == pytest.approx(acc)


def test_per_output_sample_weights():
    model = _model()
    model.compile(optimizer="sgd", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"})
    a, b, reg, cls = _data()
    w_reg = RNG.uniform(0, 2, N).astype(np.float32)
    w_cls = RNG.uniform(0, 2, N).astype(np.float32)
    logs = model.evaluate({"a": a, "b": b}, {"reg": reg, "cls": cls}, sample_weight={"cls": w_cls, "reg": w_reg},
                          verbose=0, return_dict=True)
    p = [w.astype(np.float64) for w in model.get_weights()]
    out_reg, out_cls = _forward(p, a.astype(np.float64), b.astype(np.float64))
    np.testing.assert_allclose(logs["reg_loss"], reduced_loss(per_element_loss("mean_squared_error", out_reg, reg),
                                                              w_reg), rtol=1e-5)
    np.testing.assert_allclose(logs["cls_loss"], reduced_loss(
        per_element_loss("sparse_categorical_crossentropy", out_cls, cls), w_cls), rtol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(loss=["mse", "mse", "mse"]), r"`loss` has 3 entries for 2 outputs \['reg', 'cls'\]"),
    (dict(loss={"reg": "mse", "nope": "mse"}), r"`loss` has keys \['nope'\] that are not output names"),
    (dict(loss="mse", loss_weights=[1.0]), r"`loss_weights` has 1 entries for 2 outputs"),
    (dict(loss="mse", loss_weights={"out": 1.0}), r"`loss_weights` has keys \['out'\] that are not output names"),
    (dict(loss="mse", metrics={"clss": ["accuracy"]}), r"`metrics` has keys \['clss'\] that are not output names"),
    (dict(loss="mse", metrics=["accuracy"]), r"for a model with 2 outputs \['reg', 'cls'\], pass `metrics` as a "
                                             r"dict by output name or a list with one entry .* got 1 entries"),
    (dict(loss="mse", weighted_metrics="accuracy"), r"pass `weighted_metrics` as a dict by output name"),
    (dict(loss=["mse", "nope"]), r"Unknown loss 'nope'; valid losses are:"),
])
def test_bad_configuration_is_a_value_error_at_compile(kwargs, message):
    model = _model()
    with pytest.raises(ValueError, match=message):
        model.compile(optimizer="sgd", **kwargs)


def test_missing_or_unknown_inputs_by_name():
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    a, b, reg, cls = _data()
    with pytest.raises(ValueError, match=r"expected keys \['a', 'b'\], unknown: \['c'\], missing: \['b'\]"):
        model.predict({"a": a, "c": b}, verbose=0)
    with pytest.raises(ValueError, match=r"`x` has 1 arrays but the model has 2 inputs"):
        model.predict([a], verbose=0)

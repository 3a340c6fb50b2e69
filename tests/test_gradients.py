"""Every activation and loss of the foundation: the core's forward values and gradients against
float64 numpy references and central finite differences."""
import numpy as np
import pytest
from conftest import core_gradients
from isa_levels import isa, level_params
from reference import ACTIVATIONS, mlp_forward, numeric_gradient, per_element_loss, reduced_loss

import fitcore as fc

RNG = np.random.default_rng(7)


def _two_layer_model(activation, out_units, out_activation):
    model = fc.Sequential([fc.Input((5,)), fc.layers.Dense(4, activation=activation),
                           fc.layers.Dense(out_units, activation=out_activation)])
    return model


def _check(model, loss, x, y, sample_weight=None, atol=2e-4, **loss_kwargs):
    params = [w.astype(np.float64) for w in model.get_weights()]
    acts = [layer.activation for layer in model.layers]

    def ref_loss():
        pred = mlp_forward(x.astype(np.float64), [(params[0], params[1], acts[0]), (params[2], params[3], acts[1])])
        return reduced_loss(per_element_loss(loss.core_name, pred, y, **loss_kwargs), sample_weight)

    model.compile(optimizer="sgd", loss=loss)
    got = core_gradients(model, x, y, sample_weight)
    want = numeric_gradient(ref_loss, params)
    for g, w, weight in zip(got, want, model.weights):
        np.testing.assert_allclose(g, w, atol=atol, rtol=1e-3, err_msg=weight.name)
    # The loss the core reports equals the reference's.
    value = model.evaluate(x, y, sample_weight=sample_weight, batch_size=len(x), verbose=0)
    np.testing.assert_allclose(value, ref_loss(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_dense_activation_gradients(activation):
    x = RNG.normal(size=(6, 5)).astype(np.float32)
    y = RNG.normal(size=(6, 3)).astype(np.float32)
    model = _two_layer_model(activation, 3, activation if activation != "softmax" else "linear")
    _check(model, fc.losses.MeanSquaredError(), x, y)


@pytest.mark.parametrize("loss, out_activation, target", [
    (fc.losses.MeanSquaredError(), "linear", "dense"),
    (fc.losses.MeanAbsoluteError(), "linear", "dense"),
    (fc.losses.Huber(), "linear", "dense"),
    (fc.losses.Huber(delta=0.3), "linear", "dense"),
    (fc.losses.BinaryCrossentropy(), "sigmoid", "binary"),
    (fc.losses.BinaryCrossentropy(from_logits=True), "linear", "binary"),
    (fc.losses.BinaryCrossentropy(label_smoothing=0.2), "sigmoid", "binary"),
    (fc.losses.CategoricalCrossentropy(), "softmax", "onehot"),
    (fc.losses.CategoricalCrossentropy(from_logits=True), "linear", "onehot"),
    (fc.losses.CategoricalCrossentropy(label_smoothing=0.1), "softmax", "onehot"),
    (fc.losses.SparseCategoricalCrossentropy(), "softmax", "sparse"),
    (fc.losses.SparseCategoricalCrossentropy(from_logits=True), "linear", "sparse"),
])
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_gradients(loss, out_activation, target, weighted):
    x = RNG.normal(size=(7, 5)).astype(np.float32)
    labels = RNG.integers(0, 3, size=7)
    y = {"dense": RNG.normal(size=(7, 3)), "binary": RNG.integers(0, 2, size=(7, 3)),
         "onehot": np.eye(3)[labels], "sparse": labels}[target].astype(np.float32)
    sample_weight = RNG.uniform(0.1, 2.0, size=7).astype(np.float32) if weighted else None
    kwargs = {"from_logits": loss.from_logits}
    if hasattr(loss, "label_smoothing"):
        kwargs["label_smoothing"] = loss.label_smoothing
    if hasattr(loss, "delta"):
        kwargs["delta"] = loss.delta
    _check(_two_layer_model("tanh", 3, out_activation), loss, x, y, sample_weight, **kwargs)


def test_huber_by_name_and_its_errors():
    assert isinstance(fc.losses.get("huber"), fc.losses.Huber) and fc.losses.get("Huber").delta == 1.0
    with pytest.raises(ValueError, match=r"^Huber: `delta` must be in \(0, inf\], got 0.0$"):
        fc.losses.Huber(delta=0)


@pytest.mark.parametrize("level", level_params())
def test_dense_bias_gradient_is_the_row_order_sum_of_dz(level):
    # With a first input feature of ones, the kernel's first row x[:, 0]^T dz is the GEMM's chain
    # 0 + 1 * dz[0] + 1 * dz[1] + ... (each product exact), so the bias gradient (dz's rows added in
    # order, over 3 column blocks of 150 units, the last one partial) must equal it bit for bit. The
    # forward's bias add against float64.
    rng = np.random.default_rng(12)
    x = rng.standard_normal((300, 5)).astype(np.float32)
    x[:, 0] = 1.0
    y = rng.standard_normal((300, 150)).astype(np.float32)
    with isa(level):
        model = fc.Sequential([fc.Input((5,)), fc.layers.Dense(150)])
        model.compile(optimizer="sgd", loss="mse")
        w = model.get_weights()[0]
        b = rng.standard_normal(150).astype(np.float32)
        model.set_weights([w, b])
        grad_w, grad_b = core_gradients(model, x, y)
        out = model.predict(x, batch_size=300, verbose=0)
    assert np.abs(grad_b).max() > 0
    if level != "baseline":  # Eigen's GEMM at the baseline sums in its own order
        np.testing.assert_array_equal(grad_b, grad_w[0])
    np.testing.assert_allclose(grad_b, grad_w[0].astype(np.float64), rtol=1e-5, atol=1e-7)
    want = x.astype(np.float64) @ w.astype(np.float64) + b
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("level", level_params())
def test_weight_gradient_through_the_copied_input_transpose(level):
    # 1024 input features and 512 units: Dense copies x^T (8 x 8 blocks, 64 rows a task) before its
    # weight gradient. Columns of x that are 1, 2, 0.5 times a column of ones make those rows of the
    # gradient exact multiples of the bias gradient (the same chain over the batch, scaled by a power
    # of two), bit for bit at the FMA levels: at the copy's task and block edges, and past the last
    # whole 8 of the batch's 37 rows. The whole gradient against float64.
    rng = np.random.default_rng(13)
    rows, features, units = 37, 1024, 512
    x = rng.standard_normal((rows, features)).astype(np.float32)
    scaled = {0: 1.0, 7: 2.0, 8: 0.5, 63: 1.0, 64: 2.0, 700: 0.5, 1023: 1.0}
    for column, scale in scaled.items():
        x[:, column] = scale
    y = rng.standard_normal((rows, units)).astype(np.float32)
    with isa(level):
        model = fc.Sequential([fc.Input((features,)), fc.layers.Dense(units)])
        model.compile(optimizer="sgd", loss="mse")
        w, b = model.get_weights()
        grad_w, grad_b = core_gradients(model, x, y)
    dz = 2.0 * (x.astype(np.float64) @ w + b - y) / (rows * units)
    np.testing.assert_allclose(grad_b, dz.sum(axis=0), rtol=1e-5, atol=1e-9)
    want = x.T.astype(np.float64) @ dz
    np.testing.assert_allclose(grad_w, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    if level != "baseline":  # Eigen's GEMM at the baseline sums in its own order
        for column, scale in scaled.items():
            np.testing.assert_array_equal(grad_w[column], np.float32(scale) * grad_b, err_msg=f"row {column}")

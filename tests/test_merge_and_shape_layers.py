"""The merge helpers and layers Keras programs use (Subtract, Multiply, Average, Maximum, Minimum,
Dot, the functional forms), tensor arithmetic on symbolic tensors (lowered to those layers and
Rescaling), RepeatVector and Permute: forward values against numpy in float64, parameter gradients
against central differences, Dot against Keras itself where installed, and call-time errors."""
import os

import numpy as np
import pytest
from reference import check_gradients, dense, per_element_loss

import fitcore as fc

RNG = np.random.default_rng(23)
L = fc.layers


def mse(pred, y):
    return per_element_loss("mean_squared_error", pred, y)


def normal(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def _two_branch(merge):
    """Three Dense branches of one input merged by `merge`, then a Dense head over the merge and the
    branches (so every branch is in the model): each branch sees the merge's gradient for its input."""
    x = fc.Input((4,))
    a = L.Dense(3, activation="tanh", name="a")(x)
    b = L.Dense(3, activation="tanh", name="b")(x)
    c = L.Dense(3, activation="sigmoid", name="c")(x)
    return fc.Model(x, L.Dense(2, name="head")(L.Concatenate()([merge(a, b, c), a, b, c])))


def _by_name(model, p):
    """{layer name: (kernel, bias)} from get_weights()-ordered arrays."""
    names = [w.name for w in model.weights]
    return {n.split("/")[0]: (p[names.index(n.split("/")[0] + "/kernel")], p[names.index(n.split("/")[0] + "/bias")])
            for n in names}


def _branches(q, x):
    return dense(x, *q["a"], "tanh"), dense(x, *q["b"], "tanh"), dense(x, *q["c"], "sigmoid")


MERGES = {
    "subtract": (lambda a, b, c: L.Subtract()([a, b]), lambda a, b, c: a - b),
    "multiply": (lambda a, b, c: L.Multiply()([a, b, c]), lambda a, b, c: a * b * c),
    "average": (lambda a, b, c: L.Average()([a, b, c]), lambda a, b, c: (a + b + c) / 3),
    "maximum": (lambda a, b, c: L.Maximum()([a, b, c]), lambda a, b, c: np.maximum(np.maximum(a, b), c)),
    "minimum": (lambda a, b, c: L.Minimum()([a, b, c]), lambda a, b, c: np.minimum(np.minimum(a, b), c)),
    "fn_subtract": (lambda a, b, c: L.subtract([a, b]), lambda a, b, c: a - b),
    "fn_multiply": (lambda a, b, c: L.multiply([a, b]), lambda a, b, c: a * b),
    "fn_average": (lambda a, b, c: L.average([a, b]), lambda a, b, c: (a + b) / 2),
    "fn_maximum": (lambda a, b, c: L.maximum([a, c]), lambda a, b, c: np.maximum(a, c)),
    "fn_minimum": (lambda a, b, c: L.minimum([b, c]), lambda a, b, c: np.minimum(b, c)),
    "fn_add": (lambda a, b, c: L.add([a, b, c]), lambda a, b, c: a + b + c),
    "fn_concatenate": (lambda a, b, c: L.concatenate([a, b]), lambda a, b, c: np.concatenate([a, b], -1)),
    "op_plus": (lambda a, b, c: a + b, lambda a, b, c: a + b),
    "op_minus": (lambda a, b, c: a - c, lambda a, b, c: a - c),
    "op_times": (lambda a, b, c: a * b, lambda a, b, c: a * b),
    "op_scalars": (lambda a, b, c: 2.0 * a - 1 + (-b) / 4 + (1 - c) * 3,
                   lambda a, b, c: 2.0 * a - 1 + (-b) / 4 + (1 - c) * 3),
}


@pytest.mark.parametrize("name", sorted(MERGES))
def test_merge_forward_and_gradients(name):
    layer_merge, numpy_merge = MERGES[name]
    model = _two_branch(layer_merge)

    def forward(p, x):
        q = _by_name(model, p)
        branches = _branches(q, x)
        return dense(np.concatenate([numpy_merge(*branches), *branches], -1), *q["head"])

    x, y = normal(7, 4), normal(7, 2)
    np.testing.assert_allclose(model.predict(x, verbose=0), forward(model.get_weights(), x), rtol=1e-5, atol=1e-5)
    model.compile(optimizer="sgd", loss="mse")
    check_gradients(model, x, y, mse, forward)


def test_merge_functions_are_functions_and_the_classes_stay():
    a, b = fc.Input((3,)), fc.Input((3,))
    for fn, cls in [(L.concatenate, L.Concatenate), (L.add, L.Add), (L.subtract, L.Subtract),
                    (L.multiply, L.Multiply), (L.average, L.Average), (L.maximum, L.Maximum),
                    (L.minimum, L.Minimum)]:
        out = fn([a, b], name=f"merged_{fn.__name__}")
        assert type(out.layer) is cls and out.layer.name == f"merged_{fn.__name__}"
    assert L.concatenate([a, b], axis=1).shape == (None, 6)
    assert type(L.dot([a, b], axes=1).layer) is L.Dot


def test_maximum_ties_send_the_gradient_to_the_first_input_only():
    x = fc.Input((3,))
    a = L.Dense(3, use_bias=False, kernel_initializer="ones", name="a")(x)
    b = L.Dense(3, use_bias=False, kernel_initializer="ones", name="b")(x)
    model = fc.Model(x, L.Maximum()([a, b]))  # equal everywhere: a tie in every element
    model.compile(optimizer="sgd", loss="mse")
    from conftest import core_gradients

    data, y = normal(4, 3), normal(4, 3)
    grad_a, grad_b = core_gradients(model, data, y)
    pred = data.sum(1, keepdims=True) * np.ones(3)
    want = data.T.astype(np.float64) @ (2 * (pred - y) / y.size) * np.ones((3, 1))  # all of it to `a`
    np.testing.assert_allclose(grad_a, want, rtol=1e-5, atol=1e-6)
    assert not grad_b.any()


def test_merge_layer_errors_at_call_time():
    a, b, c = fc.Input((3,)), fc.Input((4,)), fc.Input((3,))
    with pytest.raises(ValueError, match=r"Subtract needs inputs of one shape, got \(None, 3\), \(None, 4\)"):
        L.Subtract()([a, b])
    with pytest.raises(ValueError, match="a Subtract layer is called on exactly 2 tensors, got 3"):
        L.Subtract()([a, c, a])
    with pytest.raises(ValueError, match="a Multiply layer is called on a list of at least 2 tensors, got 1"):
        L.Multiply()([a])
    with pytest.raises(ValueError, match="a Maximum layer is called on a list of tensors"):
        L.Maximum()(a)
    with pytest.raises(TypeError, match="unsupported operand"):
        a + "x"
    with pytest.raises(TypeError, match="unsupported operand"):
        a / c  # only division by a number
    with pytest.raises(ValueError, match="Add needs inputs of one shape"):
        a + b
    assert type((np.float64(2.0) * a).layer) is L.Rescaling and (np.float32(3) + a).layer.offset == 3.0
    with pytest.raises(TypeError):  # not an object array of Rescaling layers
        np.ones(3) + a


# --- Dot -----------------------------------------------------------------------------------------

def _keras_normalize(v, axis):
    return v * np.minimum(1 / np.sqrt((v ** 2).sum(axis, keepdims=True)), 1e7)


DOTS = [  # (shape a, shape b, axes, numpy of the per-sample arrays)
    ((5,), (5,), 1, lambda a, b: np.einsum("nk,nk->n", a, b)[:, None]),
    ((5,), (5,), -1, lambda a, b: np.einsum("nk,nk->n", a, b)[:, None]),
    ((3, 5), (4, 5), 2, lambda a, b: np.einsum("nik,njk->nij", a, b)),
    ((3, 5), (3, 4), 1, lambda a, b: np.einsum("nki,nkj->nij", a, b)),
    ((3, 5), (4, 3), (1, 2), lambda a, b: np.einsum("nki,njk->nij", a, b)),
    ((3, 5), (5,), (2, 1), lambda a, b: np.einsum("nik,nk->ni", a, b)),
    ((5,), (4, 5), (1, 2), lambda a, b: np.einsum("nk,njk->nj", a, b)),
]


def _dot_axes(axes, rank_a, rank_b):
    pair = axes if isinstance(axes, tuple) else (axes, axes)
    return [(p % (r + 1) if p < 0 else p) for p, r in zip(pair, (rank_a, rank_b))]


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("case", range(len(DOTS)))
def test_dot_forward_and_gradients(case, normalize):
    shape_a, shape_b, axes, product = DOTS[case]
    ia, ib = fc.Input(shape_a), fc.Input(shape_b)
    ha = L.Dense(shape_a[-1], activation="tanh", name="ha")(ia)
    hb = L.Dense(shape_b[-1], activation="tanh", name="hb")(ib)
    dotted = L.Dot(axes=axes, normalize=normalize)([ha, hb])
    model = fc.Model([ia, ib], L.Dense(2, name="head")(L.Flatten()(dotted) if len(dotted.shape) > 2 else dotted))
    axis_a, axis_b = _dot_axes(axes, len(shape_a), len(shape_b))

    def forward(p, x):
        a, b = dense(x[0], p[0], p[1], "tanh"), dense(x[1], p[2], p[3], "tanh")
        if normalize:
            a, b = _keras_normalize(a, axis_a), _keras_normalize(b, axis_b)
        d = product(a, b)
        return dense(d.reshape(len(d), -1), p[4], p[5])

    x, y = [normal(6, *shape_a), normal(6, *shape_b)], normal(6, 2)
    np.testing.assert_allclose(model.predict(x, verbose=0), forward(model.get_weights(), x), rtol=1e-5, atol=1e-5)
    model.compile(optimizer="sgd", loss="mse")
    check_gradients(model, x, y, mse, forward, atol=3e-4, rtol=2e-3)


def test_dot_normalize_of_a_zero_vector_uses_keras_bound():
    a, b = fc.Input((3,)), fc.Input((3,))
    model = fc.Model([a, b], L.Dot(axes=1, normalize=True)([a, b]))
    x = [np.array([[0, 0, 0], [1, 2, 2], [1e-9, 0, 0]], np.float32), np.array([[1, 0, 0], [2, 1, 2], [1, 0, 0]],
                                                                              np.float32)]
    got = model.predict(x, verbose=0)
    np.testing.assert_allclose(got[:, 0], [0.0, 8 / 9, 1e-9 * 1e7], rtol=1e-5)


def test_dot_matches_keras():
    keras = _keras()
    shapes, axes = ((3, 5), (4, 3)), (1, 2)
    xa, xb = normal(4, *shapes[0]), normal(4, *shapes[1])
    for normalize in (False, True):
        want = np.asarray(keras.layers.Dot(axes=axes, normalize=normalize)([xa, xb]))
        got = L.Dot(axes=axes, normalize=normalize)([xa, xb])
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_dot_errors():
    a, b = fc.Input((3,)), fc.Input((4,))
    with pytest.raises(ValueError, match=r"Incompatible input shapes: axis values 3 \(at axis 1\) != 4"):
        L.Dot(axes=1)([a, b])
    with pytest.raises(TypeError, match="Invalid type for argument `axes`"):
        L.Dot(axes="1")
    with pytest.raises(ValueError, match="it should contain two elements"):
        L.Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match="outside the input"):
        L.Dot(axes=2)([a, a])
    with pytest.raises(ValueError, match="should be called on a list of 2 inputs"):
        L.Dot(axes=1)([a, a, a])


# --- RepeatVector, Permute, Rescaling -------------------------------------------------------------

def test_repeat_vector_forward_and_gradients():
    x = fc.Input((3,))
    h = L.Dense(4, activation="tanh", name="h")(x)
    repeated = L.RepeatVector(5)(h)
    assert repeated.shape == (None, 5, 4)
    model = fc.Model(x, L.Dense(2, name="per_step")(repeated))  # (None, 5, 2)

    def forward(p, x):
        return dense(np.repeat(dense(x, p[0], p[1], "tanh")[:, None, :], 5, axis=1), p[2], p[3])

    data, y = normal(6, 3), normal(6, 5, 2)
    np.testing.assert_allclose(model.predict(data, verbose=0), forward(model.get_weights(), data), atol=1e-5)
    model.compile(optimizer="sgd", loss="mse")
    check_gradients(model, data, y, mse, forward)


@pytest.mark.parametrize("dims", [(2, 1), (1, 2), (3, 1, 2), (2, 3, 1)])
def test_permute_forward_and_gradients(dims):
    shape = (2, 3) if len(dims) == 2 else (2, 3, 4)
    x = fc.Input(shape)
    h = L.Dense(shape[-1], activation="tanh", name="h")(x)
    permuted = L.Permute(dims)(h)
    assert permuted.shape == (None,) + tuple(shape[d - 1] for d in dims)
    model = fc.Model(x, L.Dense(2, name="out")(L.Flatten()(permuted)))

    def forward(p, x):
        t = np.transpose(dense(x, p[0], p[1], "tanh"), (0,) + dims)
        return dense(t.reshape(len(t), -1), p[2], p[3])

    data, y = normal(5, *shape), normal(5, 2)
    np.testing.assert_allclose(model.predict(data, verbose=0), forward(model.get_weights(), data), atol=1e-5)
    model.compile(optimizer="sgd", loss="mse")
    check_gradients(model, data, y, mse, forward)


def test_rescaling_layer_and_shape_layer_errors():
    x = fc.Input((3,))
    model = fc.Model(x, L.Rescaling(1 / 255.0, offset=-1.0)(x))
    data = normal(4, 3)
    np.testing.assert_allclose(model.predict(data, verbose=0), data * np.float32(1 / 255.0) - 1, rtol=1e-6)
    with pytest.raises(TypeError, match="^Rescaling: `scale` must be a number, got '2'$"):
        L.Rescaling("2")
    with pytest.raises(TypeError, match="Expected an integer value for `n`"):
        L.RepeatVector(2.0)
    with pytest.raises(ValueError, match="Argument `n` should be a positive integer. Received: n=0"):
        L.RepeatVector(0)
    with pytest.raises(ValueError, match="RepeatVector takes 2-D input"):
        L.RepeatVector(2)(fc.Input((2, 3)))
    with pytest.raises(ValueError, match="must be consecutive and start from 1. Received dims=\\(0, 1\\)"):
        L.Permute((0, 1))
    with pytest.raises(ValueError, match=r"Permute\(dims=\(2, 1\)\) needs inputs with 2 per-sample axes"):
        L.Permute((2, 1))(fc.Input((3,)))


def test_new_layers_match_keras_on_arrays():
    keras = _keras()
    v, m = normal(3, 4), normal(3, 2, 5)
    pairs = [(L.RepeatVector(3), keras.layers.RepeatVector(3), v), (L.Permute((2, 1)), keras.layers.Permute((2, 1)), m),
             (L.Rescaling(0.5, 2.0), keras.layers.Rescaling(0.5, 2.0), v)]
    for ours, theirs, data in pairs:
        np.testing.assert_allclose(ours(data), np.asarray(theirs(data)), rtol=1e-6)
    for ours, theirs in [(L.Subtract(), keras.layers.Subtract()), (L.Multiply(), keras.layers.Multiply()),
                         (L.Average(), keras.layers.Average()), (L.Maximum(), keras.layers.Maximum()),
                         (L.Minimum(), keras.layers.Minimum())]:
        np.testing.assert_allclose(ours([v, v[::-1]]), np.asarray(theirs([v, v[::-1]])), rtol=1e-6)


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def test_new_ops_give_the_same_bits_on_any_thread_count(restore_threads):
    """Every new op splits work by element or row (no shared reductions): one thread and two
    threads train to identical weights, on batches large enough for the parallel branches."""
    def train(threads):
        fc.config.set_num_threads(threads)
        fc.utils.set_random_seed(3)
        x = fc.Input((64,))
        a = L.Dense(64, activation="tanh")(x)
        b = L.Dense(64, activation="sigmoid")(x)
        merged = L.concatenate([L.multiply([a, b]), L.maximum([a, b]), L.minimum([a, b]), L.average([a, b]),
                                L.subtract([a, b]), 2.0 * a - 1.0])
        seq = L.Permute((2, 1))(L.RepeatVector(4)(L.Dense(8)(merged)))  # (8, 4)
        dotted = L.Flatten()(L.Dot(axes=(2, 2), normalize=True)([seq, seq]))
        model = fc.Model(x, L.Dense(1)(L.concatenate([merged, dotted])))
        model.compile(optimizer="adam", loss="mse")
        rng = np.random.default_rng(0)
        data, y = rng.normal(size=(1024, 64)).astype(np.float32), rng.normal(size=(1024, 1)).astype(np.float32)
        history = model.fit(data, y, batch_size=1024, epochs=2, verbose=0)
        return history.history["loss"], model.get_weights()

    loss_1, weights_1 = train(1)
    loss_2, weights_2 = train(2)
    assert loss_1 == loss_2
    for w1, w2 in zip(weights_1, weights_2):
        np.testing.assert_array_equal(w1, w2)

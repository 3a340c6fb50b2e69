"""Models and layers used the ways Keras allows: model(x) and layer(x) on arrays, a model used as a
layer of another (nested Sequential and functional, weights shared), layer.input / layer.output,
model.layers, get_layer, Sequential.pop, input_shape / input_dim on a first layer, Input(batch_shape=)."""
import warnings

import numpy as np
import pytest
from reference import dense

import fitcore as fc

RNG = np.random.default_rng(31)
L = fc.layers


def normal(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def test_model_called_on_arrays_predicts():
    model = fc.Sequential([fc.Input((4,)), L.Dense(3, activation="relu"), L.Dense(2)])
    x = normal(5, 4)
    got = model(x)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32
    np.testing.assert_array_equal(got, model.predict(x, verbose=0))
    np.testing.assert_array_equal(model(x, training=False), got)
    with pytest.raises(ValueError, match="calling a model on arrays computes inference only; got training=True"):
        model(x, training=True)


def test_layer_called_on_arrays_computes_and_builds_it():
    layer = L.Dense(3, activation="tanh")
    x = normal(4, 5)
    got = layer(x)  # builds the layer for inputs of 5 features, as Keras does
    kernel, bias = layer.get_weights()
    assert kernel.shape == (5, 3)
    np.testing.assert_allclose(got, dense(x.astype(np.float64), kernel, bias, "tanh"), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(L.Concatenate()([x, x[:, :2]]), np.concatenate([x, x[:, :2]], 1))
    with pytest.raises(ValueError, match="need a batch axis first"):
        layer(np.ones(5))
    with pytest.raises(ValueError, match=r"The input arrays must have the same number of samples, got \[2, 3\]"):
        L.Concatenate()([np.ones((2, 3)), np.ones((3, 3))])


def test_layer_called_on_arrays_leaves_its_model_untouched():
    """An eager call runs on a copy of the weights: the model keeps training and reporting its own."""
    model = fc.Sequential([fc.Input((3,)), L.Dense(2, name="d")])
    model.compile(optimizer="sgd", loss="mse")
    x, y = normal(8, 3), normal(8, 2)
    model.get_layer("d")(x)
    model.fit(x, y, epochs=2, verbose=0)
    kernel, bias = model.get_layer("d").get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), x @ kernel + bias, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.get_layer("d")(x), x @ kernel + bias, rtol=1e-5, atol=1e-6)


def _inner_functional():
    i = fc.Input((4,), name="inner_in")
    h = L.Dense(3, activation="tanh", name="inner_dense")(i)
    return fc.Model(i, L.Dense(2, name="inner_out")(h), name="inner")


def test_functional_model_used_as_a_layer():
    inner = _inner_functional()
    a, b = fc.Input((4,), name="a"), fc.Input((4,), name="b")
    joined = L.Concatenate()([inner(a), inner(b)])  # the same model twice: one set of weights
    outer = fc.Model([a, b], L.Dense(1, name="head")(joined))
    names = [layer.name for layer in outer.layers]
    assert sorted(names) == sorted(["a", "b", "inner", joined.layer.name, "head"])  # the nested model once
    assert names.index("inner") < names.index(joined.layer.name) < names.index("head")
    assert outer.get_layer("inner") is inner
    # Keras's weights order: the nested model's weights where it is listed, once.
    assert [w.name for w in outer.weights] == ["inner_dense/kernel", "inner_dense/bias", "inner_out/kernel",
                                               "inner_out/bias", "head/kernel", "head/bias"]
    assert outer.count_params() == 4 * 3 + 3 + 3 * 2 + 2 + 4 + 1
    x = [normal(6, 4), normal(6, 4)]
    p = outer.get_weights()

    def inner_np(v):
        return dense(dense(v, p[0], p[1], "tanh"), p[2], p[3])

    want = dense(np.concatenate([inner_np(x[0]), inner_np(x[1])], 1), p[4], p[5])
    np.testing.assert_allclose(outer.predict(x, verbose=0), want, rtol=1e-5, atol=1e-5)


def test_nested_model_trains_with_its_outer_model_and_freezes_with_trainable():
    inner = _inner_functional()
    x_in = fc.Input((4,))
    outer = fc.Model(x_in, L.Dense(1, name="top")(inner(x_in)))
    outer.compile(optimizer="sgd", loss="mse")
    x, y = normal(16, 4), normal(16, 1)
    before = [w.numpy() for w in inner.weights]
    outer.fit(x, y, epochs=1, verbose=0)
    assert all(not np.array_equal(b, w.numpy()) for b, w in zip(before, inner.weights))
    inner.trainable = False
    assert not inner.trainable and not any(layer.trainable for layer in inner.layers if layer.weights)
    outer.compile(optimizer="sgd", loss="mse")
    assert [w.name for w in outer.trainable_weights] == ["top/kernel", "top/bias"]
    frozen = [w.numpy() for w in inner.weights]
    outer.fit(x, y, epochs=1, verbose=0)
    for b, w in zip(frozen, inner.weights):
        np.testing.assert_array_equal(b, w.numpy())


def test_sequential_inside_sequential_and_functional():
    block = fc.Sequential([L.Dense(5, activation="relu", name="b1"), L.Dense(3, name="b2")], name="block")
    model = fc.Sequential([fc.Input((4,)), block, L.Dense(2, name="top")])
    assert [layer.name for layer in model.layers] == ["block", "top"]
    assert block.built and [w.name for w in model.weights][:2] == ["b1/kernel", "b1/bias"]
    x = normal(7, 4)
    p = model.get_weights()
    want = dense(dense(dense(x, p[0], p[1], "relu"), p[2], p[3]), p[4], p[5])
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-5)
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, normal(7, 2), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    with pytest.raises(ValueError, match="input 'input_layer.*' has shape \\(None, 4\\), got a tensor of shape"):
        block(fc.Input((6,)))


def test_layer_input_output_and_feature_extractor():
    inp = fc.Input((4,), name="x")
    hidden = L.Dense(3, activation="relu", name="hidden")
    h = hidden(inp)
    out = L.Dense(2, name="out")(h)
    model = fc.Model(inp, out)
    assert hidden.input is inp and hidden.output is h
    assert model.get_layer("x").output is inp and model.get_layer("x").input is inp
    # Keras's feature-extractor idiom: a model to an inner layer's output.
    extractor = fc.Model(inputs=model.inputs, outputs=model.get_layer("hidden").output)
    x = normal(5, 4)
    k, b = hidden.get_weights()
    np.testing.assert_allclose(extractor.predict(x, verbose=0), dense(x, k, b, "relu"), rtol=1e-5, atol=1e-6)
    with pytest.raises(AttributeError, match="Layer never has never been called and thus has no defined output"):
        L.Dense(2, name="never").output


def test_sequential_layer_outputs_for_a_feature_extractor():
    model = fc.Sequential([fc.Input((4,)), L.Dense(3, name="h"), L.Dense(2, name="o")])
    extractor = fc.Model(model.inputs, model.get_layer("h").output)
    x = normal(3, 4)
    k, b = model.get_layer("h").get_weights()
    np.testing.assert_allclose(extractor.predict(x, verbose=0), x @ k + b, rtol=1e-5, atol=1e-6)


def test_get_layer_by_name_and_index_and_errors():
    model = fc.Sequential([fc.Input((4,)), L.Dense(3, name="first"), L.Dense(2, name="second")])
    assert model.get_layer(index=1).name == "second" and model.get_layer(index=-1).name == "second"
    assert model.get_layer("first") is model.layers[0]
    with pytest.raises(ValueError, match=r"No such layer: nope. Existing layers are: \['first', 'second'\]."):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="Was asked to retrieve layer at index 5 but model only has 2 layers."):
        model.get_layer(index=5)
    with pytest.raises(ValueError, match="Provide either a layer name or layer index"):
        model.get_layer()


def test_sequential_pop():
    model = fc.Sequential([fc.Input((4,)), L.Dense(3, name="keep"), L.Dense(2, name="drop")])
    popped = model.pop()
    assert popped.name == "drop" and [layer.name for layer in model.layers] == ["keep"]
    assert model.output_shapes == [(3,)] and model.predict(normal(2, 4), verbose=0).shape == (2, 3)
    model.add(L.Dense(5, name="new"))
    assert model.predict(normal(2, 4), verbose=0).shape == (2, 5)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(normal(8, 4), normal(8, 5), epochs=1, verbose=0)
    empty = fc.Sequential()
    with pytest.raises(TypeError, match="There are no layers in the model."):
        empty.pop()


@pytest.mark.parametrize("kwargs", [{"input_shape": (4,)}, {"input_dim": 4}, {"input_shape": 4},
                                    {"batch_input_shape": (None, 4)}])
def test_input_shape_on_the_first_layer(kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fc.Sequential([L.Dense(3, activation="relu", **kwargs), L.Dense(1)])
    assert model.built and model.input_shapes == [(4,)]
    assert model.count_params() == 4 * 3 + 3 + 3 + 1
    with pytest.raises(ValueError, match=r"^Dense: `input_shape` must be a non-empty tuple of positive ints \(no batch "
                                         r"axis\), got \(0,\)$"):
        L.Dense(3, input_shape=(0,))


def test_input_batch_shape_and_batch_size():
    x = fc.Input(batch_shape=(None, 6, 2), name="bs")
    assert x.shape == (None, 6, 2) and x.layer.name == "bs"
    assert fc.Input(shape=(3,), batch_size=16).shape == (None, 3)
    with pytest.raises(ValueError, match="Input: pass `shape` or `batch_shape`, not both"):
        fc.Input((3,), batch_shape=(None, 3))
    with pytest.raises(ValueError, match="Input: `batch_shape` must be a tuple with the batch axis first"):
        fc.Input(batch_shape=(3,))
    with pytest.raises(ValueError, match="Input: pass `shape`"):
        fc.Input()


def test_models_with_the_new_layers_save_and_load(tmp_path):
    a, b = fc.Input((3, 4)), fc.Input((4,))
    h = L.Permute((2, 1))(a)
    r = L.RepeatVector(3)(b)
    s = L.Flatten()(L.Dot(axes=(2, 1))([h, r])) * 0.5 - 1.0
    t = L.Flatten()(L.Dot(axes=(1, 2), normalize=True)([r, h]))
    model = fc.Model([a, b], L.Dense(2)(L.concatenate([L.subtract([s, t]), L.maximum([s, t]), L.average([s, t])])))
    model.save(tmp_path / "m.fitcore")
    loaded = fc.models.load_model(tmp_path / "m.fitcore")
    x = [normal(5, 3, 4), normal(5, 4)]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]


def test_a_model_containing_a_model_saves_its_weights_not_yet_whole(tmp_path):
    inner = fc.Sequential([fc.Input((4,)), L.Dense(3)])
    outer = fc.Sequential([fc.Input((4,)), inner, L.Dense(1)])
    with pytest.raises(ValueError, match=r"save: a model containing other models \(sequential.*\) cannot be saved"):
        outer.save(tmp_path / "nested.keras")
    assert not (tmp_path / "nested.keras").exists()
    outer.save_weights(tmp_path / "nested.weights.npz")
    before = outer.get_weights()
    outer.set_weights([w + 1 for w in before])
    outer.load_weights(tmp_path / "nested.weights.npz")
    for want, got in zip(before, outer.get_weights()):
        np.testing.assert_array_equal(want, got)


def test_summary_shows_a_nested_model_as_one_row():
    block = fc.Sequential([L.Dense(5, name="b1"), L.Dense(3, name="b2")], name="block")
    model = fc.Sequential([fc.Input((4,)), block, L.Dense(2, name="top")])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "block (Sequential)" in text and "(None, 3)" in text and "b1 (Dense)" not in text
    row = next(line for line in lines if "block (Sequential)" in line)
    assert row.split()[-1] == f"{4 * 5 + 5 + 5 * 3 + 3:,}"
    x = fc.Input((4,), name="x")
    functional = fc.Model(x, L.Dense(1, name="head")(block(x)))
    lines = []
    functional.summary(print_fn=lines.append)
    assert any("block (Sequential)" in line and line.rstrip().endswith("x") for line in lines)
    assert any("head (Dense)" in line and line.rstrip().endswith("block") for line in lines)

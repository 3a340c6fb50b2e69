"""Conv1D/Conv2D, windowed and global pooling, ZeroPadding, UpSampling, Reshape, SpatialDropout and
BatchNormalization over feature maps: forward values against float64 numpy references written from
the definitions (tests/conv_reference.py), parameter and input gradients against central
differences of those references, thread-count independence, Keras's shapes, names and weights."""
import numpy as np
import pytest
from conftest import core_gradients
from conv_reference import conv1d, conv2d, pool1d, pool2d
from reference import ACTIVATIONS, batch_norm, check_gradients, dense

import fitcore as fc

L = fc.layers
RNG = np.random.default_rng(11)


def normal(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def mse(pred, y):
    return np.mean((pred - y) ** 2, axis=-1)


def _check_layer(layer, input_shape, reference, atol=3e-4):
    """Forward against reference(x, weights) and gradients against central differences, with a
    per-position Dense before the layer so its input gradient is checked too (through the Dense's
    weights)."""
    channels = input_shape[-1]
    model = fc.Sequential([fc.Input(input_shape), L.Dense(channels), layer, L.Flatten()])
    weights = model.get_weights()
    # Non-zero biases, so a bias that is dropped or misplaced shows.
    model.set_weights([w if w.ndim > 1 else RNG.normal(size=w.shape).astype(np.float32) for w in weights])
    x = normal(3, *input_shape)

    def forward(params, x):
        h = dense(x.astype(np.float64), params[0], params[1])
        return reference(h, params[2:]).reshape(len(x), -1)

    params = [w.astype(np.float64) for w in model.get_weights()]
    want = forward(params, x)
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=2e-5)
    model.compile(optimizer="sgd", loss="mse")
    check_gradients(model, x, normal(*want.shape), mse, forward, atol=atol)


# --- Conv2D / Conv1D -----------------------------------------------------------------------------
CONV2D_CASES = [
    ((5, 7, 3), dict(filters=4, kernel_size=3)),
    ((5, 7, 3), dict(filters=4, kernel_size=(3, 2), strides=(2, 1), padding="same")),
    ((6, 5, 2), dict(filters=3, kernel_size=3, strides=2, padding="same")),
    ((6, 5, 2), dict(filters=3, kernel_size=(2, 3), strides=(3, 2), padding="valid")),
    ((7, 7, 3), dict(filters=2, kernel_size=3, dilation_rate=2, padding="same")),
    ((7, 6, 2), dict(filters=3, kernel_size=(2, 3), dilation_rate=(3, 1))),
    ((4, 5, 3), dict(filters=5, kernel_size=1)),
    ((4, 5, 3), dict(filters=2, kernel_size=1, strides=2)),
    ((4, 5, 2), dict(filters=3, kernel_size=(4, 5))),
    ((4, 5, 2), dict(filters=3, kernel_size=(4, 5), padding="same")),
    ((5, 5, 4), dict(filters=6, kernel_size=3, groups=2, padding="same")),
    ((5, 6, 6), dict(filters=3, kernel_size=2, groups=3, strides=2)),
    ((5, 6, 4), dict(filters=4, kernel_size=3, activation="relu", use_bias=False)),
    ((5, 6, 4), dict(filters=4, kernel_size=3, padding="same", activation="tanh")),
    ((5, 6, 4), dict(filters=4, kernel_size=2, activation="gelu")),
    ((5, 6, 4), dict(filters=4, kernel_size=2, activation="softmax")),
]


def _conv_reference(layer, fn):
    def reference(h, params):
        out = fn(h, params[0], params[1] if layer.use_bias else None, layer.strides if fn is conv2d else
                 layer.strides[0], layer.padding, layer.dilation_rate if fn is conv2d else layer.dilation_rate[0],
                 layer.groups)
        return ACTIVATIONS[layer.activation](out)
    return reference


@pytest.mark.parametrize("input_shape,kwargs", CONV2D_CASES, ids=[str(c[1]) for c in CONV2D_CASES])
def test_conv2d_forward_and_gradients(input_shape, kwargs):
    layer = L.Conv2D(**kwargs)
    _check_layer(layer, input_shape, _conv_reference(layer, conv2d))


CONV1D_CASES = [
    ((9, 3), dict(filters=4, kernel_size=3)),
    ((9, 3), dict(filters=4, kernel_size=4, strides=2, padding="same")),
    ((10, 2), dict(filters=3, kernel_size=3, dilation_rate=2, padding="causal")),
    ((10, 2), dict(filters=3, kernel_size=3, strides=3, padding="causal")),
    ((8, 3), dict(filters=5, kernel_size=1)),
    ((6, 2), dict(filters=3, kernel_size=6)),
    ((7, 2), dict(filters=3, kernel_size=7, padding="same")),
    ((9, 4), dict(filters=2, kernel_size=3, groups=2, padding="same", activation="relu")),
    ((11, 3), dict(filters=4, kernel_size=2, dilation_rate=3, use_bias=False, activation="sigmoid")),
]


@pytest.mark.parametrize("input_shape,kwargs", CONV1D_CASES, ids=[str(c[1]) for c in CONV1D_CASES])
def test_conv1d_forward_and_gradients(input_shape, kwargs):
    layer = L.Conv1D(**kwargs)
    _check_layer(layer, input_shape, _conv_reference(layer, conv1d))


def test_conv_matches_torch_on_a_larger_batch():
    # A second, independent reference (PyTorch's float64 convolution) on a batch large enough for
    # the core's multi-tile, multi-chunk paths; weights in Keras's (kh, kw, in, out) order.
    torch = pytest.importorskip("torch")
    layer = L.Conv2D(16, 3, strides=(1, 2), padding="same", dilation_rate=1)
    model = fc.Sequential([fc.Input((17, 19, 8)), layer])
    x = normal(40, 17, 19, 8)  # 14 chunks of 3 samples, the last of 1
    kernel, bias = model.get_weights()
    xt = torch.from_numpy(x.astype(np.float64)).permute(0, 3, 1, 2)
    wt = torch.from_numpy(kernel.astype(np.float64)).permute(3, 2, 0, 1)
    want = torch.nn.functional.conv2d(torch.nn.functional.pad(xt, (1, 1, 1, 1)), wt, stride=(1, 2))
    np.testing.assert_allclose(model.predict(x, batch_size=40, verbose=0), want.permute(0, 2, 3, 1).numpy(),
                               rtol=1e-4, atol=1e-4)
    y = normal(40, 17, 10, 16)
    model.compile(optimizer="sgd", loss="mse")
    got = core_gradients(model, x, y)
    wt.requires_grad_(True)
    bt = torch.from_numpy(bias.astype(np.float64)).requires_grad_(True)
    out = torch.nn.functional.conv2d(torch.nn.functional.pad(xt, (1, 1, 1, 1)), wt, bt, stride=(1, 2))
    ((out.permute(0, 2, 3, 1) - torch.from_numpy(y.astype(np.float64))) ** 2).mean().backward()
    np.testing.assert_allclose(got[0], wt.grad.permute(2, 3, 1, 0).numpy(), rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(got[1], bt.grad.numpy(), rtol=1e-3, atol=1e-5)


def test_conv_results_do_not_depend_on_the_thread_count(restore_threads):
    def train(threads):
        fc.config.set_num_threads(threads)
        fc.utils.set_random_seed(5)
        model = fc.Sequential([fc.Input((12, 12, 8)), L.Conv2D(16, 3, activation="relu"), L.MaxPooling2D(),
                               L.Conv2D(8, 3, padding="same", groups=2), L.BatchNormalization(),
                               L.GlobalAveragePooling2D(), L.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        rng = np.random.default_rng(0)
        x = rng.normal(size=(90, 12, 12, 8)).astype(np.float32)
        # Batches of 40, 40 and 10 samples: chunks of 3 samples and a shorter last one, then fewer chunks.
        model.fit(x, rng.integers(0, 3, 90), batch_size=40, epochs=2, verbose=0)
        return model.get_weights()

    for a, b in zip(train(1), train(2)):
        np.testing.assert_array_equal(a, b)


# --- pooling -------------------------------------------------------------------------------------
POOL2D_CASES = [
    ((5, 7, 3), dict()),
    ((6, 5, 2), dict(pool_size=3, strides=2, padding="same")),
    ((6, 7, 2), dict(pool_size=(2, 3), strides=(1, 2))),
    ((4, 5, 2), dict(pool_size=(4, 5))),
    ((5, 5, 2), dict(pool_size=3, strides=1, padding="same")),
    ((7, 4, 3), dict(pool_size=(3, 2), strides=(2, 3), padding="same")),
]


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("input_shape,kwargs", POOL2D_CASES, ids=[str(c[1]) for c in POOL2D_CASES])
def test_pooling2d_forward_and_gradients(mode, input_shape, kwargs):
    layer = (L.MaxPooling2D if mode == "max" else L.AveragePooling2D)(**kwargs)
    _check_layer(layer, input_shape, lambda h, _: pool2d(h, layer.pool_size, layer.strides, layer.padding, mode))


POOL1D_CASES = [
    ((7, 3), dict()),
    ((7, 3), dict(pool_size=3, strides=2, padding="same")),
    ((8, 2), dict(pool_size=3, strides=1)),
    ((6, 2), dict(pool_size=6)),
    ((9, 2), dict(pool_size=4, strides=3, padding="same")),
]


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("input_shape,kwargs", POOL1D_CASES, ids=[str(c[1]) for c in POOL1D_CASES])
def test_pooling1d_forward_and_gradients(mode, input_shape, kwargs):
    layer = (L.MaxPooling1D if mode == "max" else L.AveragePooling1D)(**kwargs)
    _check_layer(layer, input_shape,
                 lambda h, _: pool1d(h, layer.pool_size[0], layer.strides[0], layer.padding, mode))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("cls,input_shape", [(L.GlobalAveragePooling1D, (7, 3)), (L.GlobalMaxPooling1D, (7, 3)),
                                             (L.GlobalAveragePooling2D, (4, 5, 3)),
                                             (L.GlobalMaxPooling2D, (4, 5, 3))])
def test_global_pooling_forward_and_gradients(cls, input_shape, keepdims):
    layer = cls(keepdims=keepdims)
    axes = tuple(range(1, len(input_shape)))
    reduce = np.max if "Max" in cls.__name__ else np.mean
    _check_layer(layer, input_shape, lambda h, _: reduce(h, axis=axes, keepdims=keepdims))
    want = (1,) * (len(input_shape) - 1) + (3,) if keepdims else (3,)
    assert fc.Sequential([fc.Input(input_shape), cls(keepdims=keepdims)]).output_shapes[0] == want


# --- padding, upsampling, reshape ------------------------------------------------------------------
@pytest.mark.parametrize("layer,input_shape,reference", [
    (L.ZeroPadding1D(), (5, 3), lambda h: np.pad(h, ((0, 0), (1, 1), (0, 0)))),
    (L.ZeroPadding1D((2, 0)), (5, 3), lambda h: np.pad(h, ((0, 0), (2, 0), (0, 0)))),
    (L.ZeroPadding2D(), (3, 4, 2), lambda h: np.pad(h, ((0, 0), (1, 1), (1, 1), (0, 0)))),
    (L.ZeroPadding2D((2, 1)), (3, 4, 2), lambda h: np.pad(h, ((0, 0), (2, 2), (1, 1), (0, 0)))),
    (L.ZeroPadding2D(((1, 0), (0, 3))), (3, 4, 2), lambda h: np.pad(h, ((0, 0), (1, 0), (0, 3), (0, 0)))),
    (L.UpSampling1D(), (4, 3), lambda h: np.repeat(h, 2, axis=1)),
    (L.UpSampling1D(3), (4, 3), lambda h: np.repeat(h, 3, axis=1)),
    (L.UpSampling2D(), (3, 2, 2), lambda h: np.repeat(np.repeat(h, 2, axis=1), 2, axis=2)),
    (L.UpSampling2D((1, 3)), (3, 2, 2), lambda h: np.repeat(h, 3, axis=2)),
    (L.Reshape((-1, 2)), (3, 4, 2), lambda h: h.reshape(len(h), -1, 2)),
    (L.Reshape((4, 6)), (3, 4, 2), lambda h: h.reshape(len(h), 4, 6)),
], ids=["zp1d", "zp1d-before", "zp2d", "zp2d-sym", "zp2d-asym", "up1d", "up1d-3", "up2d", "up2d-1x3", "reshape-1",
        "reshape"])
def test_reshaping_layers_forward_and_gradients(layer, input_shape, reference):
    _check_layer(layer, input_shape, lambda h, _: reference(h))


def test_layers_compose_after_reshaping():
    # ZeroPadding2D -> Conv2D 'valid' equals Conv2D on the zero-padded map; UpSampling before a conv.
    conv = L.Conv2D(3, 3)
    _check_layer_chain = fc.Sequential([fc.Input((4, 5, 2)), L.ZeroPadding2D(1), conv, L.UpSampling2D(2)])
    x = normal(2, 4, 5, 2)
    kernel, bias = conv.get_weights()
    want = conv2d(np.pad(x.astype(np.float64), ((0, 0), (1, 1), (1, 1), (0, 0))), kernel, bias)
    want = np.repeat(np.repeat(want, 2, axis=1), 2, axis=2)
    np.testing.assert_allclose(_check_layer_chain.predict(x, verbose=0), want, rtol=1e-5, atol=1e-5)


# --- BatchNormalization, Dropout and SpatialDropout over feature maps ------------------------------
def test_batch_normalization_over_feature_maps():
    # Statistics over batch, height and width per channel; gradients through the conv before it.
    model = fc.Sequential([fc.Input((5, 4, 3)), L.Conv2D(4, 3, padding="same"), L.BatchNormalization(),
                           L.Flatten()])
    x = normal(6, 5, 4, 3)

    def forward(p, x):
        h = conv2d(x.astype(np.float64), p[0], p[1], padding="same")
        return batch_norm(h, p[2], p[3]).reshape(len(x), -1)

    model.compile(optimizer=fc.optimizers.SGD(learning_rate=0.0), loss="mse")
    y = normal(6, 80)
    check_gradients(model, x, y, mse, forward)
    # One training step moves the moving statistics towards the per-channel batch statistics.
    h = conv2d(x.astype(np.float64), *model.layers[0].get_weights(), padding="same")
    bn = model.layers[1]
    gamma, beta, mean, variance = bn.get_weights()
    bn.set_weights([gamma, beta, np.zeros_like(mean), np.ones_like(variance)])  # computing gradients moved them
    model.fit(x, y, batch_size=6, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.01 * h.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.99 + 0.01 * h.var(axis=(0, 1, 2)), rtol=1e-5)


def _feature_map_mask(layer, positions=(3, 4), channels=256):
    # One sample whose position p carries a one-hot input e_p, through a zero kernel: the kernel
    # gradient at (p, c) is the loss gradient at position p, channel c -- zero where dropped.
    h, w = positions
    model = fc.Sequential([fc.Input((h, w, h * w)), L.Dense(channels, kernel_initializer="zeros"), layer])
    model.compile(optimizer="sgd", loss="mse")
    x = np.eye(h * w, dtype=np.float32).reshape(1, h, w, h * w)
    t = RNG.uniform(1.0, 2.0, size=(1, h, w, channels)).astype(np.float32)
    grad = core_gradients(model, x, t)[0]
    return grad, t.reshape(h * w, channels)


def test_spatial_dropout2d_drops_whole_channels():
    rate = 0.4
    grad, t = _feature_map_mask(L.SpatialDropout2D(rate))
    kept = grad != 0
    assert np.all(kept == kept[0])  # one mask per channel, shared by every position
    assert abs(1.0 - kept[0].mean() - rate) < 0.1
    np.testing.assert_allclose(grad[kept], (-2.0 * t / (1.0 - rate) / t.size)[kept], rtol=1e-5)
    # Plain Dropout over the same map draws every value independently.
    independent = _feature_map_mask(L.Dropout(rate))[0] != 0
    assert not np.all(independent == independent[0])


def test_spatial_dropout1d_drops_whole_channels():
    model = fc.Sequential([fc.Input((6, 6)), L.Dense(128, kernel_initializer="zeros"), L.SpatialDropout1D(0.5)])
    model.compile(optimizer="sgd", loss="mse")
    grad = core_gradients(model, np.eye(6, dtype=np.float32)[None], np.ones((1, 6, 128), np.float32))[0]
    kept = grad != 0
    assert np.all(kept == kept[0]) and 0.3 < kept[0].mean() < 0.7


@pytest.mark.parametrize("layer", [L.SpatialDropout1D(0.5), L.SpatialDropout2D(0.5)])
def test_spatial_dropout_is_identity_outside_training(layer):
    shape = (5, 3) if isinstance(layer, L.SpatialDropout2D) is False else (4, 5, 3)
    model = fc.Sequential([fc.Input(shape), layer])
    x = normal(4, *shape)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)

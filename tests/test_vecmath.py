"""The vectorised elementwise kernels at every instruction-set level this CPU has (baseline, AVX2,
AVX-512; a level the CPU lacks is skipped with a message naming it): activations forward and
backward against float64 references over the whole float range (maximum ULP error asserted, NaN,
inf and denormals included), softmax rows and crossentropy from logits against numpy, dropout masks
bit for bit against the counter hash written out in numpy, GaussianNoise's normal draws bit for bit
against the scalar generator (its log and cos over their whole input grids), and whole trainings
that agree across levels and give the same bits at any thread count."""
import numpy as np
import pytest

import fitcore as fc
from fitcore import _core
from vecmath_reference import (DERIVATIVE_FROM_Y, DERIVATIVE_FROM_Z, DERIVATIVE_SCALE, FORWARD, errors,
                               sample_inputs)

LEVELS = ("baseline", "avx2", "avx512")

# Maximum errors measured over sample_inputs() (ULPs; see vecmath_reference.errors). Where the
# true result is a float32 denormal, the bound is on the absolute error in units of 2^-126.
# tanh: Eigen's rational tanh saturates to +-1 from |z| = 7.9988 (7.9053 without FMA), up to 5 ulp
# short of tanh there.
# gelu: 1 + erf(z / sqrt 2) cancels for z in [-sqrt 2, 0) (up to 12 ulp); below, the erfc form.
# silu: for z in [-104, -87] sigmoid(z) is a denormal with fewer bits than a float (up to 46 ulp).
FORWARD_MAX_ULP = {"relu": 0, "sigmoid": 2, "tanh": 5, "gelu": 12, "elu": 2, "silu": 48, "softplus": 2}
BACKWARD_MAX_ULP = {"relu": 0, "sigmoid": 1, "tanh": 1, "gelu": 12, "elu": 1, "silu": 48, "softplus": 2}


@pytest.fixture(params=LEVELS)
def isa(request):
    """Caps the kernels at one level for the test, then puts the CPU's own level back."""
    supported = _core.supported_isa()
    if LEVELS.index(request.param) > LEVELS.index(supported):
        pytest.skip(f"this CPU lacks {request.param} (it has {supported})")
    _core.set_isa_limit(request.param)
    assert _core.active_isa() == request.param
    yield request.param
    _core.set_isa_limit(supported)


@pytest.fixture(scope="module")
def inputs():
    return sample_inputs()


@pytest.mark.parametrize("name", sorted(FORWARD))
def test_activation_forward_max_ulp_over_all_floats(isa, inputs, name):
    y = _core._activation_forward(name, inputs.reshape(1, -1))[0]
    with np.errstate(all="ignore"):
        err = errors(y, FORWARD[name](inputs.astype(np.float64)))
    worst = int(np.argmax(err))
    assert err.max() <= FORWARD_MAX_ULP[name], (name, isa, inputs[worst], y[worst], err.max())


@pytest.mark.parametrize("name", sorted(FORWARD))
def test_activation_backward_max_ulp_over_all_floats(isa, inputs, name):
    z = inputs.reshape(1, -1)
    y = _core._activation_forward(name, z)
    d = _core._activation_backward(name, z, y, np.ones_like(z))[0]
    x64, y64 = inputs.astype(np.float64), y[0].astype(np.float64)
    with np.errstate(all="ignore"):
        reference = DERIVATIVE_FROM_Z[name](x64) if name in DERIVATIVE_FROM_Z else DERIVATIVE_FROM_Y[name](y64)
        scale = DERIVATIVE_SCALE[name](x64, y64) if name in DERIVATIVE_SCALE else None
        err = errors(d, reference, scale)
    worst = int(np.argmax(err))
    assert err.max() <= BACKWARD_MAX_ULP[name], (name, isa, inputs[worst], d[worst], err.max())


def test_backward_multiplies_the_incoming_gradient(isa):
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, (7, 37)).astype(np.float32)
    g = rng.normal(0, 1, z.shape).astype(np.float32)
    for name in FORWARD:
        y = _core._activation_forward(name, z)
        ones = _core._activation_backward(name, z, y, np.ones_like(z))
        np.testing.assert_allclose(_core._activation_backward(name, z, y, g), g * ones, rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize("cols", [1, 3, 4, 7, 8, 15, 16, 17, 33, 100, 1000])
def test_softmax_rows_match_float64(isa, cols):
    rng = np.random.default_rng(cols)
    z = (rng.normal(0, 20, (5, cols))).astype(np.float32)
    z[0] += 1e4  # large shifts: the row maximum is subtracted first
    z[1, 0] = -np.inf
    y = _core._activation_forward("softmax", z)
    # exp of the float32 differences z - max (their rounding is the input's, not the kernel's)
    with np.errstate(invalid="ignore"):
        shifted = (z - z.max(axis=1, keepdims=True)).astype(np.float64)
    reference = np.exp(shifted)
    reference /= reference.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(y, reference, rtol=3e-6, atol=1e-37)
    assert y[1, 0] == 0.0 if cols > 1 else np.isnan(y[1, 0])


@pytest.mark.parametrize("classes", [2, 5, 16, 19, 300])
def test_sparse_crossentropy_from_logits_matches_numpy(isa, classes):
    rng = np.random.default_rng(classes)
    x = rng.normal(0, 1, (64, 6)).astype(np.float32)
    y = rng.integers(0, classes, 64)
    model = fc.Sequential([fc.Input((6,)), fc.layers.Dense(classes, kernel_initializer="glorot_uniform")])
    model.compile(optimizer="sgd", loss=fc.losses.SparseCategoricalCrossentropy(from_logits=True))
    logits = model.predict(x, verbose=0).astype(np.float64) * 30.0  # scale: large logits too
    model.set_weights([w * 30.0 for w in model.get_weights()])
    m = logits.max(axis=1, keepdims=True)
    log_softmax = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
    expected = -log_softmax[np.arange(64), y].mean()
    assert model.evaluate(x, y, verbose=0, batch_size=64) == pytest.approx(expected, rel=2e-5)


def mix64(x):
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def dropout_reference(key, counter, rate, x):
    """random.hpp's uniform01(key, counter + i) >= rate, each kept value times 1 / (1 - rate)."""
    counters = np.uint64(counter) + np.arange(x.size, dtype=np.uint64)
    uniform = (mix64(np.uint64(key) ^ mix64(counters)) >> np.uint64(40)).astype(np.float32) * np.float32(2.0**-24)
    scale = np.float32(1.0) / (np.float32(1.0) - np.float32(rate)) if rate < 1 else np.float32(0.0)
    return x * np.where(uniform >= np.float32(rate), scale, np.float32(0.0)).astype(np.float32)


@pytest.mark.parametrize("n", [1, 5, 16, 37, 1000])
@pytest.mark.parametrize("rate", [0.0, 0.1, 0.5, 0.999, 1.0])
def test_dropout_mask_is_the_counter_hash_bit_for_bit(isa, n, rate):
    rng = np.random.default_rng(n)
    x = rng.normal(0, 1, n).astype(np.float32)
    x[0] = np.nan  # NaN * 0 stays NaN where dropped, as before
    key, counter = 0xDEADBEEF12345678, 2**40 + 3
    got = _core._dropout(key, counter, rate, x)
    expected = dropout_reference(key, counter, rate, x)
    np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))


@pytest.mark.parametrize("n", [1, 5, 16, 37, 1000])
@pytest.mark.parametrize("rate", [0.0, 0.1, 0.5, 0.999, 1.0])
def test_dropout_backward_applies_the_stored_mask_bit_for_bit(isa, n, rate):
    # The backward pass scales gradients by the mask bytes the forward wrote, not by a second hash:
    # a byte written for the wrong lane, or a tail left unscaled, differs from the hash's mask.
    rng = np.random.default_rng(n + 1)
    x = rng.normal(0, 1, n).astype(np.float32)
    x[0] = 0.0  # a dropped zero and a kept zero look alike in y: the mask must come from the draw
    g = rng.normal(0, 1, n).astype(np.float32)
    g[-1] = np.nan
    key, counter = 0x0123456789ABCDEF, 2**33 + 5
    got = _core._dropout_backward(key, counter, rate, x, g)
    expected = dropout_reference(key, counter, rate, g)
    np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))


def test_dropout_keeps_the_expected_fraction(isa):
    x = np.ones(200_000, np.float32)
    kept = _core._dropout(7, 0, 0.3, x) != 0
    assert abs(kept.mean() - 0.7) < 0.005


def sum_of_squares_reference(x):
    """The clipping norm's sum: lane k sums x[i]^2 (float64) for i = k mod 16 in order, the tail after
    the last whole 16 goes to lane 0, then the lanes are added in order."""
    whole = x.size // 16 * 16
    squares = x.astype(np.float64) ** 2
    lanes = np.cumsum(squares[:whole].reshape(-1, 16), axis=0)[-1] if whole else np.zeros(16)  # cumsum: in order
    s = lanes[0]
    for v in squares[whole:]:
        s += v
    for v in lanes[1:]:
        s += v
    return s


@pytest.mark.parametrize("n", [0, 3, 16, 1001, 16384])
def test_sum_of_squares_is_the_same_at_every_level(isa, n):
    x = np.random.default_rng(n).normal(0, 3, n).astype(np.float32)
    assert _core._sum_of_squares(x) == sum_of_squares_reference(x)


# --- GaussianNoise's generator --------------------------------------------------------------------
# random.hpp's standard_normal(key, c): u1 = 1 - uniform01(key, 2c), u2 = uniform01(key, 2c + 1),
# z = sqrt(-2 log u1) cos(6.2831855f u2) in float32, log and cos in float64 rounded once to float32.
# Each uniform lies on a grid of 2^24 points, so the vector kernel's log and cos are checked on all.
GRID = np.arange(1 << 24, dtype=np.float32) * np.float32(2.0**-24)  # u2; u1 = 1 - GRID


def uniform_reference(key, counters):
    return (mix64(np.uint64(key) ^ mix64(counters)) >> np.uint64(40)).astype(np.float32) * np.float32(2.0**-24)


def box_muller_reference(u1, u2):
    log_u1 = np.log(u1.astype(np.float64)).astype(np.float32)
    cos_t = np.cos((np.float32(6.283185307179586) * u2).astype(np.float64)).astype(np.float32)
    return np.sqrt(np.float32(-2.0) * log_u1) * cos_t


def normal_reference(key, counter, n):
    c = np.uint64(counter) + np.arange(n, dtype=np.uint64)  # wraps modulo 2^64, as the core
    u1 = np.float32(1.0) - uniform_reference(key, np.uint64(2) * c)
    return box_muller_reference(u1, uniform_reference(key, np.uint64(2) * c + np.uint64(1)))


@pytest.mark.parametrize("counter", [0, 2**40 + 3, 2**63 - 7, 2**64 - 100])
def test_scalar_normal_generator_is_the_numpy_reference_bit_for_bit(counter):
    got = _core._standard_normal(0x0123456789ABCDEF, counter, 200_000)
    want = normal_reference(0x0123456789ABCDEF, counter, 200_000)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
    assert abs(got.mean()) < 0.01 and abs(got.std() - 1.0) < 0.01


def test_box_muller_log_over_the_whole_grid(isa):
    u1 = np.float32(1.0) - GRID  # every u1 with u2 = 0 (cos 0 = 1): z = sqrt(-2 log u1)
    got = _core._box_muller(u1, np.zeros_like(u1))
    np.testing.assert_array_equal(got.view(np.uint32), box_muller_reference(u1, np.zeros_like(u1)).view(np.uint32))


def test_box_muller_cos_over_the_whole_grid(isa):
    # The u1 whose float32 log is -0.5 exactly makes sqrt(-2 log u1) = 1, so z is cos(2 pi u2) itself.
    u1 = np.float32(0.60653067)
    assert np.float32(np.log(np.float64(u1))) == np.float32(-0.5)
    got = _core._box_muller(np.full_like(GRID, u1), GRID)
    want = np.cos((np.float32(6.283185307179586) * GRID).astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize("n", [1, 5, 16, 37, 1000, 4099])
def test_gaussian_noise_is_the_scalar_generator_bit_for_bit(isa, n):
    rng = np.random.default_rng(n)
    x = rng.normal(0, 1, n).astype(np.float32)
    x[0] = np.nan  # NaN + noise stays NaN
    key, counter, stddev = 0xDEADBEEF12345678, 2**40 + 3, np.float32(0.37)
    got = _core._gaussian_noise(key, counter, stddev, x)
    scalar = _core._standard_normal(key, counter, n)
    np.testing.assert_array_equal(scalar.view(np.uint32), normal_reference(key, counter, n).view(np.uint32))
    want = x + stddev * scalar  # two roundings, never fused
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


def _train(threads, activation, dropout, units=40, batch_size=32):
    fc.config.set_num_threads(threads)
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (300, 24)).astype(np.float32)
    y = (x[:, :3].sum(axis=1) > 0).astype(np.int64)
    fc.utils.set_random_seed(5)
    layers = [fc.Input((24,)), fc.layers.Dense(units, activation=activation)]
    if dropout:
        layers.append(fc.layers.Dropout(0.3))
    layers.append(fc.layers.Dense(2, activation="softmax"))
    model = fc.Sequential(layers)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=batch_size, epochs=2, verbose=0)
    return model.get_weights(), history.history["loss"]


@pytest.mark.parametrize("activation", ["gelu", "sigmoid"])
def test_split_elementwise_loops_give_the_bits_of_one_thread(activation):
    # 100 x 300 = 30,000 values a layer: the activation and the dropout mask run in 4,096-value chunks
    # on both threads (parallel_compute_chunks), and the stored mask is read back by the backward
    # pass; a chunk drawing the wrong counters or a mask byte left from another chunk changes the bits.
    threads = _core.get_num_threads()
    try:
        one = _train(1, activation, dropout=True, units=300, batch_size=100)
        two = _train(2, activation, dropout=True, units=300, batch_size=100)
    finally:
        _core.set_num_threads(threads)
    assert one[1] == two[1]
    for a, b in zip(one[0], two[0]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("activation", ["gelu", "tanh", "silu"])
def test_training_bits_do_not_depend_on_threads_and_levels_agree(activation):
    supported = _core.supported_isa()
    threads = _core.get_num_threads()
    results = {}
    try:
        for level in LEVELS[:LEVELS.index(supported) + 1]:
            _core.set_isa_limit(level)
            one = _train(1, activation, dropout=True)
            two = _train(2, activation, dropout=True)
            for a, b in zip(one[0], two[0]):
                np.testing.assert_array_equal(a, b)
            results[level] = one
    finally:
        _core.set_isa_limit(supported)
        _core.set_num_threads(threads)
    first = results["baseline"]
    for level, (weights, losses) in results.items():
        np.testing.assert_allclose(losses, first[1], rtol=1e-4, err_msg=level)
        for a, b in zip(weights, first[0]):
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4, err_msg=level)


def test_isa_limit_refuses_unknown_and_unsupported_levels():
    with pytest.raises(ValueError, match="unknown instruction set 'sse9'"):
        _core.set_isa_limit("sse9")
    supported = _core.supported_isa()
    if supported != "avx512":
        with pytest.raises(ValueError, match="not supported by this CPU"):
            _core.set_isa_limit("avx512")
    assert _core.active_isa() == supported

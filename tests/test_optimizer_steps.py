"""SGD (momentum, nesterov), Adam, AdamW, RMSprop and Adagrad steps, and Keras's clipnorm /
global_clipnorm / clipvalue / weight_decay, against Keras's formulas in numpy float64 on a linear
model whose mse gradient is written out by hand; argument errors; config round trips."""
import json

import numpy as np
import pytest

import fitcore as fc
from conftest import weight_offsets
from isa_levels import isa, level_params

RNG = np.random.default_rng(11)
X = RNG.normal(size=(8, 3)).astype(np.float32)
Y = RNG.normal(size=(8, 2)).astype(np.float32)


def _grads(kernel, bias):
    err = X.astype(np.float64) @ kernel + bias - Y
    scale = 2.0 / err.size
    return [scale * X.T @ err, scale * err.sum(0)]


def _keras_sgd(lr, momentum, nesterov):
    state = {}

    def step(i, w, g, t):
        if momentum == 0:
            return w - lr * g
        m = state.get(i, np.zeros_like(w))
        m = momentum * m - lr * g
        state[i] = m
        return w + momentum * m - lr * g if nesterov else w + m
    return step


def _keras_adam(lr, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False):
    state = {}

    def step(i, w, g, t):
        m, v, vh = state.get(i, (np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)))
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        vh = np.maximum(vh, v)
        state[i] = (m, v, vh)
        return w - alpha * m / (np.sqrt(vh if amsgrad else v) + eps)
    return step


def _keras_rmsprop(lr, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    state = {}

    def step(i, w, g, t):
        v, m, ag = state.get(i, (np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)))
        v = rho * v + (1 - rho) * g * g
        if centered:
            ag = rho * ag + (1 - rho) * g
            denominator = v - ag * ag
        else:
            denominator = v
        increment = lr * g / np.sqrt(denominator + eps)
        if momentum > 0:
            m = momentum * m + increment
            w = w - m
        else:
            w = w - increment
        state[i] = (v, m, ag)
        return w
    return step


@pytest.mark.parametrize("optimizer, reference", [
    (lambda: fc.optimizers.SGD(0.1), _keras_sgd(0.1, 0.0, False)),
    (lambda: fc.optimizers.SGD(0.1, momentum=0.9), _keras_sgd(0.1, 0.9, False)),
    (lambda: fc.optimizers.SGD(0.1, momentum=0.9, nesterov=True), _keras_sgd(0.1, 0.9, True)),
    (lambda: fc.optimizers.Adam(0.05), _keras_adam(0.05)),
    (lambda: fc.optimizers.Adam(0.05, beta_1=0.8, beta_2=0.99, epsilon=1e-3), _keras_adam(0.05, 0.8, 0.99, 1e-3)),
    (lambda: fc.optimizers.Adam(0.05, amsgrad=True), _keras_adam(0.05, amsgrad=True)),
    (lambda: fc.optimizers.RMSprop(0.01), _keras_rmsprop(0.01)),
    (lambda: fc.optimizers.RMSprop(0.01, momentum=0.5, centered=True), _keras_rmsprop(0.01, momentum=0.5,
                                                                                     centered=True)),
])
def test_steps_match_keras_formulas(optimizer, reference):
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    model.compile(optimizer=optimizer(), loss="mse")
    params = [w.astype(np.float64) for w in model.get_weights()]
    for t in range(1, 6):
        grads = _grads(*params)
        params = [reference(i, w, g, t) for i, (w, g) in enumerate(zip(params, grads))]
    model.fit(X, Y, batch_size=8, epochs=5, shuffle=False, verbose=0)
    for got, want in zip(model.get_weights(), params):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)
    assert model.optimizer.iterations == 5


@pytest.mark.parametrize("level", level_params())
def test_adam_first_step_is_kerass_formula_to_the_bit(level):
    """One Adam step from zero moments on a gradient known exactly (one-hot inputs, a zero kernel, a
    power-of-two batch, so the mse gradient is -2 y / 64 with no rounding): every operation of the
    step then rounds once, in the order Keras writes it, and the weights must equal numpy's float32
    evaluation bit for bit, square root included (an rsqrt estimate with one Newton step, Eigen's
    fast psqrt, is a bit or two short on some of these values)."""
    n = 64
    rng = np.random.default_rng(3)
    y = (rng.standard_normal(n) * np.logspace(-3, 2, n)).astype(np.float32)
    with isa(level):
        model = fc.Sequential([fc.Input((n,)), fc.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
        model.compile(optimizer=fc.optimizers.Adam(1e-3), loss="mse")
        model.fit(np.eye(n, dtype=np.float32), y[:, None], batch_size=n, epochs=1, shuffle=False, verbose=0)
        got = model.get_weights()[0].ravel()
    f = np.float32
    g = (f(0) - y) * f(2 / n)
    alpha = f(1e-3) * np.sqrt(f(1) - f(0.999)) / (f(1) - f(0.9))
    m = g * (f(1) - f(0.9))
    v = (g * g) * (f(1) - f(0.999))
    want = f(0) - (m * alpha) / (np.sqrt(v) + f(1e-7))
    assert want.dtype == np.float32
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


def test_learning_rate_can_be_set_between_fits():
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    model.compile(optimizer=fc.optimizers.SGD(0.1), loss="mse")
    model.optimizer.learning_rate = 0.0
    before = model.get_weights()
    model.fit(X, Y, batch_size=8, epochs=2, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.learning_rate == 0.0


def _keras_adagrad(lr, initial=0.1, eps=1e-7):
    state = {}

    def step(i, w, g, t):
        a = state.get(i, np.full_like(w, initial)) + g * g
        state[i] = a
        return w - lr * g / np.sqrt(a + eps)
    return step


@pytest.mark.parametrize("optimizer, reference", [
    (lambda: fc.optimizers.Adagrad(0.1), _keras_adagrad(0.1)),
    (lambda: fc.optimizers.Adagrad(0.05, initial_accumulator_value=0.5, epsilon=1e-3), _keras_adagrad(0.05, 0.5, 1e-3)),
])
def test_adagrad_steps_match_keras_formulas(optimizer, reference):
    test_steps_match_keras_formulas(optimizer, reference)


def _keras_apply(rule, lr, clipnorm=None, clipvalue=None, global_clipnorm=None, weight_decay=None):
    """Keras's BaseOptimizer.apply: clip the gradients, decay the weights with this step's rate, update.
    `lr` is a number or a function of the iteration count before the step's increment."""
    rate = lr if callable(lr) else (lambda it: lr)

    def step(params, grads, t):
        if clipnorm:
            grads = [g * clipnorm / max(np.sqrt(np.sum(g * g)), clipnorm) for g in grads]
        elif global_clipnorm:
            norm = np.sqrt(sum(np.sum(g * g) for g in grads))
            grads = [g * global_clipnorm * min(1.0 / norm, 1.0 / global_clipnorm) for g in grads]
        elif clipvalue:
            grads = [np.clip(g, -clipvalue, clipvalue) for g in grads]
        if weight_decay:
            params = [w - w * weight_decay * rate(t - 1) for w in params]
        return [rule(i, w, g, t) for i, (w, g) in enumerate(zip(params, grads))]
    return step


def _run_both(optimizer, reference, steps=5):
    """Weights after `steps` full-batch steps in fitcore and in the float64 reference, and the start."""
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    model.compile(optimizer=optimizer, loss="mse")
    params = [w.astype(np.float64) for w in model.get_weights()]
    start = [p.copy() for p in params]
    for t in range(1, steps + 1):
        params = reference(params, _grads(*params), t)
    model.fit(X, Y, batch_size=8, epochs=steps, shuffle=False, verbose=0)
    return model.get_weights(), params, start


CLIP_CASES = [
    # (fitcore optimizer, reference, the same rule unclipped/undecayed: must differ, so the case bites)
    (lambda: fc.optimizers.SGD(0.5, clipnorm=0.3), _keras_apply(_keras_sgd(0.5, 0, False), 0.5, clipnorm=0.3),
     _keras_apply(_keras_sgd(0.5, 0, False), 0.5)),
    (lambda: fc.optimizers.SGD(0.5, momentum=0.9, global_clipnorm=0.3),
     _keras_apply(_keras_sgd(0.5, 0.9, False), 0.5, global_clipnorm=0.3), _keras_apply(_keras_sgd(0.5, 0.9, False), 0.5)),
    (lambda: fc.optimizers.SGD(0.5, clipvalue=0.1), _keras_apply(_keras_sgd(0.5, 0, False), 0.5, clipvalue=0.1),
     _keras_apply(_keras_sgd(0.5, 0, False), 0.5)),
    (lambda: fc.optimizers.Adam(0.05, clipnorm=0.2), _keras_apply(_keras_adam(0.05), 0.05, clipnorm=0.2),
     _keras_apply(_keras_adam(0.05), 0.05)),
    (lambda: fc.optimizers.RMSprop(0.01, global_clipnorm=0.1),
     _keras_apply(_keras_rmsprop(0.01), 0.01, global_clipnorm=0.1), _keras_apply(_keras_rmsprop(0.01), 0.01)),
    (lambda: fc.optimizers.SGD(0.5, weight_decay=0.2), _keras_apply(_keras_sgd(0.5, 0, False), 0.5, weight_decay=0.2),
     _keras_apply(_keras_sgd(0.5, 0, False), 0.5)),
    (lambda: fc.optimizers.AdamW(0.05), _keras_apply(_keras_adam(0.05), 0.05, weight_decay=0.004),
     _keras_apply(_keras_adam(0.05), 0.05)),
    (lambda: fc.optimizers.AdamW(0.05, weight_decay=0.5, clipvalue=0.05, amsgrad=True),
     _keras_apply(_keras_adam(0.05, amsgrad=True), 0.05, clipvalue=0.05, weight_decay=0.5),
     _keras_apply(_keras_adam(0.05, amsgrad=True), 0.05)),
    (lambda: fc.optimizers.Adagrad(0.1, weight_decay=0.1, clipnorm=0.2),
     _keras_apply(_keras_adagrad(0.1), 0.1, clipnorm=0.2, weight_decay=0.1), _keras_apply(_keras_adagrad(0.1), 0.1)),
]


@pytest.mark.parametrize("optimizer, reference, plain", CLIP_CASES)
def test_clipping_and_weight_decay_match_keras_order(optimizer, reference, plain):
    got, want, start = _run_both(optimizer(), reference)
    unclipped = start
    for t in range(1, 6):
        unclipped = plain(unclipped, _grads(*unclipped), t)
    assert max(np.abs(u - w).max() for u, w in zip(unclipped, want)) > 1e-4  # clipping/decay changed the steps
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)


def test_clipnorm_clips_each_weight_by_its_own_norm():
    # One step of SGD(lr=1): each weight moves by its clipped gradient, kernel and bias separately.
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    model.compile(optimizer=fc.optimizers.SGD(1.0, clipnorm=0.05), loss="mse")
    before = [w.astype(np.float64) for w in model.get_weights()]
    grads = _grads(*before)
    assert all(np.linalg.norm(g) > 0.05 for g in grads)
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
    for b, a in zip(before, model.get_weights()):
        np.testing.assert_allclose(np.linalg.norm(b - a), 0.05, rtol=1e-5)


@pytest.mark.parametrize("kwargs", [dict(clipnorm=1.0, clipvalue=1.0), dict(clipnorm=1.0, global_clipnorm=1.0),
                                    dict(clipvalue=0.5, global_clipnorm=1.0)])
def test_two_clipping_arguments_raise_as_keras(kwargs):
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set"):
        fc.optimizers.Adam(**kwargs)


@pytest.mark.parametrize("make, message", [
    (lambda: fc.optimizers.SGD(0.1, clipnorm=-1.0), "`clipnorm` must be in"),
    (lambda: fc.optimizers.Adam(weight_decay="a lot"), "`weight_decay` must be a number"),
    (lambda: fc.optimizers.AdamW(weight_decay=None), "Argument `weight_decay` must be a float"),
    (lambda: fc.optimizers.Adagrad(initial_accumulator_value=-0.1), "`initial_accumulator_value` must be in"),
    (lambda: fc.optimizers.Adagrad(epsilon=None), "`epsilon` must be a number"),
    (lambda: fc.optimizers.SGD(0.1, use_ema=True), "`use_ema` is not supported by fitcore; leave it at False"),
    (lambda: fc.optimizers.SGD(0.1, gradient_accumulation_steps=4), "`gradient_accumulation_steps` is not supported"),
    (lambda: fc.optimizers.SGD(0.1, clip_norm=1.0), r"unexpected keyword argument\(s\) \['clip_norm'\]"),
])
def test_bad_hyper_parameters_name_the_argument(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_unknown_optimizer_name_lists_the_valid_ones():
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    with pytest.raises(ValueError, match="valid optimizers are: adagrad, adam, adamw, rmsprop, sgd"):
        model.compile(optimizer="adamax", loss="mse")


@pytest.mark.parametrize("name, cls", [("adamw", fc.optimizers.AdamW), ("Adagrad", fc.optimizers.Adagrad)])
def test_new_optimizers_by_name_have_keras_defaults(name, cls):
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    model.compile(optimizer=name, loss="mse")
    assert type(model.optimizer) is cls
    cfg = model.optimizer.get_config()
    assert cfg["learning_rate"] == 0.001
    if cls is fc.optimizers.AdamW:
        assert (cfg["weight_decay"], cfg["beta_1"], cfg["beta_2"], cfg["epsilon"]) == (0.004, 0.9, 0.999, 1e-7)
    else:
        assert (cfg["initial_accumulator_value"], cfg["epsilon"], cfg["weight_decay"]) == (0.1, 1e-7, None)


def test_slot_variables_carry_keras_names():
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
    model.compile(optimizer=fc.optimizers.Adagrad(initial_accumulator_value=0.25), loss="mse")
    start = [w.astype(np.float64) for w in model.get_weights()]
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    (name, values), = model._core.optimizer_state()
    assert name == "accumulators"
    for offset, g in zip(weight_offsets(model), _grads(*start)):
        np.testing.assert_allclose(values[offset:offset + g.size], 0.25 + g.ravel() ** 2, rtol=1e-5)


@pytest.mark.parametrize("optimizer", [
    lambda: fc.optimizers.SGD(0.05, momentum=0.9, nesterov=True, clipvalue=0.5),
    lambda: fc.optimizers.Adam(0.01, amsgrad=True, global_clipnorm=1.0),
    lambda: fc.optimizers.AdamW(0.01, weight_decay=0.1, clipnorm=0.5),
    lambda: fc.optimizers.RMSprop(0.01, momentum=0.5, centered=True, weight_decay=0.01),
    lambda: fc.optimizers.Adagrad(0.1, initial_accumulator_value=0.2),
    lambda: fc.optimizers.SGD(fc.optimizers.schedules.CosineDecay(0.1, 4, alpha=0.1, warmup_target=0.2,
                                                                  warmup_steps=2), weight_decay=0.05),
])
def test_optimizer_config_round_trip_trains_identically(optimizer):
    original = optimizer()
    cfg = json.loads(json.dumps(original.get_config()))
    rebuilt = type(original).from_config(cfg)
    assert type(original)(**cfg).get_config() == rebuilt.get_config() == original.get_config()
    assert fc.optimizers.get(json.loads(json.dumps(fc.optimizers.serialize(original)))).get_config() == cfg
    trained = []
    for opt in (original, rebuilt):
        fc.utils.set_random_seed(7)
        model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
        model.compile(optimizer=opt, loss="mse")
        model.fit(X, Y, batch_size=3, epochs=2, shuffle=False, verbose=0)
        trained.append((model.get_weights(), [(n, np.array(v)) for n, v in model._core.optimizer_state()]))
    (w0, s0), (w1, s1) = trained
    for a, b in zip(w0, w1):
        np.testing.assert_array_equal(a, b)
    assert [n for n, _ in s0] == [n for n, _ in s1]
    for (_, a), (_, b) in zip(s0, s1):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs", [dict(global_clipnorm=0.5), dict(clipnorm=0.1), dict(clipvalue=0.01)])
def test_clipping_does_not_depend_on_the_thread_count(kwargs, restore_threads):
    # Large enough (40k parameters) for the core's norm reductions and sweeps to run in parallel.
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(64, 200)).astype(np.float32), rng.normal(size=(64, 200)).astype(np.float32)
    weights = []
    for threads in (1, 2):
        fc.config.set_num_threads(threads)
        fc.utils.set_random_seed(9)
        model = fc.Sequential([fc.Input((200,)), fc.layers.Dense(200)])
        model.compile(optimizer=fc.optimizers.AdamW(0.01, **kwargs), loss="mse")
        model.fit(x, y, batch_size=16, epochs=1, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_keras_only_arguments_at_their_defaults_are_accepted():
    opt = fc.optimizers.Adam(use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                             gradient_accumulation_steps=None)
    assert opt.get_config()["learning_rate"] == 0.001
    with pytest.warns(UserWarning, match="Argument `decay` is no longer supported and will be ignored"):
        fc.optimizers.SGD(decay=0.01)


def test_exclude_from_weight_decay_by_name_and_by_variable():
    # AdamW decays every trainable weight unless excluded (Keras's _use_weight_decay).
    for exclude in (dict(var_names=["bias"]), "var_list"):
        model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2)])
        opt = fc.optimizers.AdamW(0.05, weight_decay=0.5)
        opt.exclude_from_weight_decay(**(dict(var_list=[model.layers[-1].weights[1]]) if exclude == "var_list"
                                         else exclude))
        model.compile(optimizer=opt, loss="mse")
        params = [w.astype(np.float64) for w in model.get_weights()]
        adam = _keras_adam(0.05)
        for t in range(1, 6):
            grads = _grads(*params)
            params = [params[0] - params[0] * 0.5 * 0.05, params[1]]  # the kernel decays, the bias does not
            params = [adam(i, w, g, t) for i, (w, g) in enumerate(zip(params, grads))]
        model.fit(X, Y, batch_size=8, epochs=5, shuffle=False, verbose=0)
        for got, want in zip(model.get_weights(), params):
            np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)
        with pytest.raises(ValueError, match="can only be configured before the optimizer is built"):
            opt.exclude_from_weight_decay(var_names=["kernel"])


def test_exclude_from_weight_decay_matches_the_weight_name_not_the_layer_path():
    # Keras searches var_names in variable.name ("kernel", "bias"), not in the path "dense/kernel":
    # the layer's name excludes nothing, so both weights decay.
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(2, name="dense_head")])
    opt = fc.optimizers.AdamW(0.05, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["dense", "head"])
    model.compile(optimizer=opt, loss="mse")
    params = [w.astype(np.float64) for w in model.get_weights()]
    adam = _keras_adam(0.05)
    for t in range(1, 6):
        grads = _grads(*params)
        params = [adam(i, w * (1 - 0.5 * 0.05), g, t) for i, (w, g) in enumerate(zip(params, grads))]
    model.fit(X, Y, batch_size=8, epochs=5, shuffle=False, verbose=0)
    for got, want in zip(model.get_weights(), params):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


# --- The vectorised sweeps at every instruction-set level --------------------------------------
# A model wide enough that each weight fills whole packets at every level and leaves a tail
# (37 x 19 kernel: 703 values; 19 biases), so both the packet loop and the padded tail run.
WIDE_X = np.random.default_rng(5).normal(size=(32, 37)).astype(np.float32)
WIDE_Y = np.random.default_rng(6).normal(size=(32, 19)).astype(np.float32)

VECTOR_CASES = {  # name: (optimizer, a fresh float64 reference: it keeps the slots)
    "rmsprop": (lambda: fc.optimizers.RMSprop(0.01), lambda: _keras_apply(_keras_rmsprop(0.01), 0.01)),
    "rmsprop_rho_momentum": (lambda: fc.optimizers.RMSprop(0.01, rho=0.7, momentum=0.6, epsilon=1e-4),
                             lambda: _keras_apply(_keras_rmsprop(0.01, rho=0.7, momentum=0.6, eps=1e-4), 0.01)),
    "rmsprop_centered": (lambda: fc.optimizers.RMSprop(0.005, centered=True),
                         lambda: _keras_apply(_keras_rmsprop(0.005, centered=True), 0.005)),
    "rmsprop_centered_momentum": (lambda: fc.optimizers.RMSprop(0.005, rho=0.8, momentum=0.9, centered=True),
                                  lambda: _keras_apply(_keras_rmsprop(0.005, rho=0.8, momentum=0.9, centered=True), 0.005)),
    "adagrad": (lambda: fc.optimizers.Adagrad(0.1), lambda: _keras_apply(_keras_adagrad(0.1), 0.1)),
    "adagrad_initial_epsilon": (lambda: fc.optimizers.Adagrad(0.05, initial_accumulator_value=0.01, epsilon=1e-3),
                                lambda: _keras_apply(_keras_adagrad(0.05, 0.01, 1e-3), 0.05)),
    "rmsprop_clipnorm": (lambda: fc.optimizers.RMSprop(0.01, clipnorm=0.05),
                         lambda: _keras_apply(_keras_rmsprop(0.01), 0.01, clipnorm=0.05)),
    "adagrad_global_clipnorm": (lambda: fc.optimizers.Adagrad(0.1, global_clipnorm=0.05),
                                lambda: _keras_apply(_keras_adagrad(0.1), 0.1, global_clipnorm=0.05)),
    "adagrad_clipvalue": (lambda: fc.optimizers.Adagrad(0.1, clipvalue=0.01),
                          lambda: _keras_apply(_keras_adagrad(0.1), 0.1, clipvalue=0.01)),
}


def _wide_grads(kernel, bias):
    err = WIDE_X.astype(np.float64) @ kernel + bias - WIDE_Y
    scale = 2.0 / err.size
    return [scale * WIDE_X.T @ err, scale * err.sum(0)]


@pytest.mark.parametrize("level", level_params())
@pytest.mark.parametrize("case", list(VECTOR_CASES))
def test_vectorised_steps_match_keras_formulas_at_each_level(level, case):
    make, make_reference = VECTOR_CASES[case]
    reference = make_reference()
    with isa(level):
        model = fc.Sequential([fc.Input((37,)), fc.layers.Dense(19, bias_initializer="ones")])
        model.compile(optimizer=make(), loss="mse")
        params = [w.astype(np.float64) for w in model.get_weights()]
        start = [p.copy() for p in params]
        for t in range(1, 7):
            params = reference(params, _wide_grads(*params), t)
        model.fit(WIDE_X, WIDE_Y, batch_size=32, epochs=6, shuffle=False, verbose=0)
        got = model.get_weights()
    assert max(np.abs(p - s).max() for p, s in zip(params, start)) > 1e-3  # the steps moved the weights
    for g, w in zip(got, params):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("level", level_params())
@pytest.mark.parametrize("case", ["rmsprop_centered_momentum", "adagrad_clipvalue", "rmsprop_clipnorm",
                                  "adagrad_global_clipnorm"])
def test_vectorised_steps_do_not_depend_on_the_thread_count(level, case, restore_threads):
    # 400 x 400 + 400 weights: above the size where the core splits the sweeps over threads.
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(64, 400)).astype(np.float32), rng.normal(size=(64, 400)).astype(np.float32)
    weights = []
    with isa(level):
        for threads in (1, 2):
            fc.config.set_num_threads(threads)
            fc.utils.set_random_seed(4)
            model = fc.Sequential([fc.Input((400,)), fc.layers.Dense(400)])
            model.compile(optimizer=VECTOR_CASES[case][0](), loss="mse")
            model.fit(x, y, batch_size=32, epochs=1, verbose=0)
            weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)

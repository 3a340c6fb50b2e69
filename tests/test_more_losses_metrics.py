"""The losses and metrics Keras programs use beyond the foundation's: MAPE, MSLE, cosine
similarity, log-cosh, KL divergence, Poisson, hinge, squared hinge, categorical hinge, and the
confusion counts (TruePositives, ...). Each loss's gradient against its exact float64 derivative
(not only finite differences: a derivative off by a little, e.g. a wrong clip bound, is caught),
each value against a float64 numpy reference and against Keras itself where installed, each
metric against Keras's metric objects."""
import os

import numpy as np
import pytest
from conftest import core_gradients
from reference import EPS, confusion_counts, weighted_mean

import fitcore as fc

RNG = np.random.default_rng(41)
N, D = 12, 4


def _clipped(v, low, high):
    return np.minimum(np.maximum(v, low), high)


def _normalized(v):
    return v * np.minimum(1 / np.sqrt((v ** 2).sum(-1, keepdims=True)), 1 / EPS)


def _hinge_labels(t):
    return 2 * t - 1 if np.all((t == 0) | (t == 1)) else t


# name -> (per-element value, exact derivative with respect to the prediction), float64
def _categorical_hinge(p, t):
    pos = (t * p).sum(-1)
    neg = ((1 - t) * p).max(-1)
    value = np.maximum(neg - pos + 1, 0)
    at = np.eye(p.shape[-1])[((1 - t) * p).argmax(-1)]
    return value, np.where(value[:, None] > 0, at * (1 - t) - t, 0.0)


def _cosine(p, t):
    inv = np.minimum(1 / np.sqrt((p ** 2).sum(-1, keepdims=True)), 1 / EPS)
    pn, tn = p * inv, _normalized(t)
    dot = (pn * tn).sum(-1, keepdims=True)
    return -dot[:, 0], -inv * (tn - pn * dot)


REFERENCE = {
    "mean_absolute_percentage_error": lambda p, t: (
        100 * np.mean(np.abs((t - p) / np.maximum(np.abs(t), EPS)), -1),
        100 * np.sign(p - t) / np.maximum(np.abs(t), EPS) / p.shape[-1]),
    "mean_squared_logarithmic_error": lambda p, t: (
        np.mean((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2, -1),
        2 * (np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) / (np.maximum(p, EPS) + 1)
        * (p >= EPS) / p.shape[-1]),
    "cosine_similarity": _cosine,
    "log_cosh": lambda p, t: (np.mean(np.log(np.cosh(p - t)), -1), np.tanh(p - t) / p.shape[-1]),
    "kl_divergence": lambda p, t: (
        np.sum(_clipped(t, EPS, 1) * np.log(_clipped(t, EPS, 1) / _clipped(p, EPS, 1)), -1),
        -_clipped(t, EPS, 1) / _clipped(p, EPS, 1) * ((p >= EPS) & (p <= 1))),
    "poisson": lambda p, t: (np.mean(p - t * np.log(p + EPS), -1), (1 - t / (p + EPS)) / p.shape[-1]),
    "hinge": lambda p, t: (np.mean(np.maximum(1 - _hinge_labels(t) * p, 0), -1),
                           -_hinge_labels(t) * (1 - _hinge_labels(t) * p > 0) / p.shape[-1]),
    "squared_hinge": lambda p, t: (np.mean(np.maximum(1 - _hinge_labels(t) * p, 0) ** 2, -1),
                                   -2 * _hinge_labels(t) * np.maximum(1 - _hinge_labels(t) * p, 0) / p.shape[-1]),
    "categorical_hinge": _categorical_hinge,
}

# (loss class, string names, Keras class name, how targets and predictions are drawn)
LOSSES = [
    (fc.losses.MeanAbsolutePercentageError, ["mape", "MAPE", "mean_absolute_percentage_error"],
     "MeanAbsolutePercentageError", "signed"),
    (fc.losses.MeanSquaredLogarithmicError, ["msle", "MSLE", "mean_squared_logarithmic_error"],
     "MeanSquaredLogarithmicError", "straddle"),
    (fc.losses.CosineSimilarity, ["cosine_similarity"], "CosineSimilarity", "signed"),
    (fc.losses.LogCosh, ["log_cosh", "logcosh"], "LogCosh", "signed"),
    (fc.losses.KLDivergence, ["kl_divergence", "kld", "KLD"], "KLDivergence", "probabilities"),
    (fc.losses.Poisson, ["poisson"], "Poisson", "positive"),
    (fc.losses.Hinge, ["hinge"], "Hinge", "binary"),
    (fc.losses.Hinge, [], "Hinge", "plus_minus"),
    (fc.losses.Hinge, [], "Hinge", "real"),
    (fc.losses.SquaredHinge, ["squared_hinge"], "SquaredHinge", "binary"),
    (fc.losses.SquaredHinge, [], "SquaredHinge", "plus_minus"),
    (fc.losses.CategoricalHinge, ["categorical_hinge"], "CategoricalHinge", "onehot"),
]


def _data(kind):
    """(x, targets, kernel, bias): the predictions x @ kernel + bias land where the loss is tested,
    including past clip bounds (MSLE below eps, KL above 1)."""
    x = RNG.normal(size=(N, D)).astype(np.float32)
    kernel = RNG.normal(scale=0.3, size=(D, D)).astype(np.float32)
    bias = np.zeros(D, np.float32)
    t = RNG.normal(size=(N, D))
    if kind == "straddle":
        bias += 0.2
        t = RNG.uniform(-0.5, 2, size=(N, D))
    elif kind == "probabilities":
        kernel *= 0.5
        bias += 0.5
        t = RNG.dirichlet(np.ones(D), size=N)
    elif kind == "positive":
        kernel *= 0.3
        bias += 1.5
        t = RNG.poisson(2.0, size=(N, D))
    elif kind == "binary":
        t = RNG.integers(0, 2, size=(N, D))
    elif kind == "plus_minus":
        t = RNG.choice([-1.0, 1.0], size=(N, D))
    elif kind == "onehot":
        t = np.eye(D)[RNG.integers(0, D, size=N)]
    return x, t.astype(np.float32), kernel, bias


def _linear_model(loss, kernel, bias):
    model = fc.Sequential([fc.Input((D,)), fc.layers.Dense(D)])
    model.set_weights([kernel, bias])
    model.compile(optimizer="sgd", loss=loss)
    return model


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("case", range(len(LOSSES)), ids=lambda i: f"{LOSSES[i][2]}-{LOSSES[i][3]}")
def test_loss_value_and_exact_gradient(case, weighted):
    cls, _, _, kind = LOSSES[case]
    x, t, kernel, bias = _data(kind)
    w = RNG.uniform(0.2, 2.0, size=N).astype(np.float32) if weighted else None
    model = _linear_model(cls(), kernel, bias)
    pred = x.astype(np.float64) @ kernel + bias
    values, derivative = REFERENCE[cls.core_name](pred, t.astype(np.float64))
    weights = np.ones(N) if w is None else w.astype(np.float64)
    if kind == "straddle":
        assert (pred < EPS).any() and (pred > EPS).any()  # both sides of MSLE's clip are tested
    if kind == "probabilities":
        assert (pred > 1).any() and (pred < 1).any()  # both sides of KL's clip are tested
    # The reported loss: sum_over_batch_size of the weighted per-element values.
    loss = model.evaluate(x, t, sample_weight=w, batch_size=N, verbose=0)
    np.testing.assert_allclose(loss, (values * weights).sum() / N, rtol=2e-5, atol=1e-6)
    # Gradients: G = dL/dpred exactly, so dL/dkernel = x^T G and dL/dbias = sum of G's rows.
    g = derivative * weights[:, None] / N
    got_kernel, got_bias = core_gradients(model, x, t, w)
    np.testing.assert_allclose(got_bias, g.sum(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_kernel, x.T.astype(np.float64) @ g, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", range(len(LOSSES)), ids=lambda i: f"{LOSSES[i][2]}-{LOSSES[i][3]}")
def test_loss_value_matches_keras(case):
    keras = _keras()
    cls, _, keras_name, kind = LOSSES[case]
    x, t, kernel, bias = _data(kind)
    pred = (x @ kernel + bias).astype(np.float32)
    w = RNG.uniform(0.2, 2.0, size=N).astype(np.float32)
    model = _linear_model(cls(), kernel, bias)
    for weights in (None, w):
        want = float(getattr(keras.losses, keras_name)()(t, pred, sample_weight=weights))
        got = model.evaluate(x, t, sample_weight=weights, batch_size=N, verbose=0)
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)


def test_loss_names_and_classes_resolve_as_keras():
    for cls, names, keras_name, _ in LOSSES:
        for name in names + [keras_name if keras_name != "LogCosh" else "LogCosh"]:
            assert type(fc.losses.get(name)) is cls, name
    assert fc.losses.LogCosh().name == "log_cosh" and fc.losses.Hinge().name == "hinge"
    assert fc.losses.KLDivergence().get_config() == {"name": "kl_divergence"}
    with pytest.raises(ValueError, match="CosineSimilarity: fitcore supports axis=-1"):
        fc.losses.CosineSimilarity(axis=0)
    with pytest.raises(ValueError, match="Unknown loss 'hingee'; valid losses are: .*categorical_hinge"):
        fc.losses.get("hingee")


@pytest.mark.parametrize("make, error, message", [
    (lambda: fc.losses.Huber(delta=0), ValueError, "Huber: `delta` must be in (0, inf], got 0.0"),
    (lambda: fc.losses.Huber(delta="1"), TypeError, "Huber: `delta` must be a number, got '1'"),
    (lambda: fc.losses.CategoricalCrossentropy(label_smoothing=1.5), ValueError,
     "CategoricalCrossentropy: `label_smoothing` must be in [0, 1], got 1.5"),
    (lambda: fc.losses.BinaryCrossentropy(label_smoothing="x"), TypeError,
     "BinaryCrossentropy: `label_smoothing` must be a number, got 'x'"),
])
def test_loss_argument_errors_name_loss_and_argument(make, error, message):
    with pytest.raises(error) as info:
        make()
    assert type(info.value) is error and str(info.value) == message


def test_hinge_converts_labels_per_batch_as_keras():
    """Keras maps {0, 1} to {-1, 1} only when every target of the batch is 0 or 1: a batch that also
    holds a -1 is taken as it is, so the same rows give another loss."""
    pred = np.array([[0.3], [-0.2], [0.8]], np.float32)
    x = fc.Input((1,))
    model = fc.Model(x, fc.layers.Rescaling(1.0)(x))
    model.compile(optimizer="sgd", loss="hinge")
    binary = np.array([[1], [0], [1]], np.float32)
    assert model.evaluate(pred, binary, batch_size=3, verbose=0) == pytest.approx(
        np.mean(np.maximum(1 - (2 * binary - 1) * pred, 0)), rel=1e-6)
    mixed = np.array([[1], [0], [-1]], np.float32)
    assert model.evaluate(pred, mixed, batch_size=3, verbose=0) == pytest.approx(
        np.mean(np.maximum(1 - mixed * pred, 0)), rel=1e-6)


# --- metrics -------------------------------------------------------------------------------------

METRICS = [  # (fitcore class, Keras class name, string name, data kind, default name)
    (fc.metrics.MeanAbsolutePercentageError, "MeanAbsolutePercentageError", "mape", "signed",
     "mean_absolute_percentage_error"),
    (fc.metrics.MeanSquaredLogarithmicError, "MeanSquaredLogarithmicError", "msle", "straddle",
     "mean_squared_logarithmic_error"),
    (fc.metrics.CosineSimilarity, "CosineSimilarity", "cosine_similarity", "signed", "cosine_similarity"),
    (fc.metrics.LogCoshError, "LogCoshError", "logcosh", "signed", "logcosh"),
    (fc.metrics.KLDivergence, "KLDivergence", "kl_divergence", "probabilities", "kl_divergence"),
    (fc.metrics.Poisson, "Poisson", "poisson", "positive", "poisson"),
]


@pytest.mark.parametrize("case", range(len(METRICS)), ids=lambda i: METRICS[i][1])
def test_mean_metric_against_reference_and_weighted(case):
    cls, _, string, kind, default = METRICS[case]
    x, t, kernel, bias = _data(kind)
    w = RNG.uniform(0.2, 2.0, size=N).astype(np.float32)
    model = fc.Sequential([fc.Input((D,)), fc.layers.Dense(D)])
    model.set_weights([kernel, bias])
    model.compile(optimizer="sgd", loss="mse", metrics=[cls(), string], weighted_metrics=[cls(name="w")])
    logs = model.evaluate(x, t, sample_weight=w, batch_size=5, verbose=0, return_dict=True)
    values = REFERENCE[cls.core_name if cls.core_name != "log_cosh" else "log_cosh"](
        x.astype(np.float64) @ kernel + bias, t.astype(np.float64))[0]
    sign = -1.0 if cls is fc.metrics.CosineSimilarity else 1.0
    assert logs[default] == pytest.approx(sign * weighted_mean(values), rel=2e-5, abs=1e-6)
    assert logs[string] == pytest.approx(logs[default], rel=1e-7)
    assert logs["w"] == pytest.approx(sign * weighted_mean(values, w), rel=2e-5, abs=1e-6)


@pytest.mark.parametrize("case", range(len(METRICS)), ids=lambda i: METRICS[i][1])
def test_mean_metric_matches_keras(case):
    keras = _keras()
    cls, keras_name, _, kind, _ = METRICS[case]
    x, t, kernel, bias = _data(kind)
    pred = (x @ kernel + bias).astype(np.float32)
    w = RNG.uniform(0.2, 2.0, size=N).astype(np.float32)
    theirs = getattr(keras.metrics, keras_name)()
    theirs.update_state(t[:5], pred[:5], sample_weight=w[:5])
    theirs.update_state(t[5:], pred[5:], sample_weight=w[5:])
    model = fc.Sequential([fc.Input((D,)), fc.layers.Dense(D)])
    model.set_weights([kernel, bias])
    model.compile(optimizer="sgd", loss="mse", weighted_metrics=[cls(name="m")])
    got = model.evaluate(x, t, sample_weight=w, batch_size=5, verbose=0, return_dict=True)["m"]
    assert got == pytest.approx(float(theirs.result()), rel=2e-5, abs=1e-6)
    assert cls().name == theirs.name


COUNTS = [(fc.metrics.TruePositives, 0, "true_positives", "TruePositives"),
          (fc.metrics.FalsePositives, 1, "false_positives", "FalsePositives"),
          (fc.metrics.TrueNegatives, 2, "true_negatives", "TrueNegatives"),
          (fc.metrics.FalseNegatives, 3, "false_negatives", "FalseNegatives")]


@pytest.mark.parametrize("threshold", [None, 0.3, 0.8])
@pytest.mark.parametrize("cls, which, name, _", COUNTS, ids=[c[2] for c in COUNTS])
def test_confusion_counts(cls, which, name, _, threshold):
    x = fc.Input((3,))
    model = fc.Model(x, fc.layers.Activation("sigmoid")(x))
    logits = RNG.normal(size=(20, 3)).astype(np.float32)
    labels = RNG.integers(0, 2, size=(20, 3)).astype(np.float32)
    w = RNG.uniform(0.1, 2, size=20).astype(np.float32)
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[cls(thresholds=threshold, name="given"), name],
                  weighted_metrics=[cls(thresholds=threshold, name="weighted")])
    logs = model.evaluate(logits, labels, sample_weight=w, batch_size=7, verbose=0, return_dict=True)
    probs = 1 / (1 + np.exp(-logits.astype(np.float32)))
    t = 0.5 if threshold is None else threshold
    assert logs["given"] == pytest.approx(confusion_counts(probs, labels, [t])[which][0])
    assert logs[name] == pytest.approx(confusion_counts(probs, labels, [0.5])[which][0])  # by name: 0.5
    assert logs["weighted"] == pytest.approx(confusion_counts(probs, labels, [t], w)[which][0], rel=1e-6)


def test_confusion_counts_match_keras_and_their_errors():
    keras = _keras()
    probs = RNG.uniform(size=(30, 2)).astype(np.float32)
    labels = RNG.integers(0, 2, size=(30, 2)).astype(np.float32)
    x = fc.Input((2,))
    model = fc.Model(x, fc.layers.Rescaling(1.0)(x))
    model.compile(optimizer="sgd", loss="mse", metrics=[cls(thresholds=0.4) for cls, _, _, _ in COUNTS])
    logs = model.evaluate(probs, labels, batch_size=8, verbose=0, return_dict=True)
    for cls, _, name, keras_name in COUNTS:
        theirs = getattr(keras.metrics, keras_name)(thresholds=0.4)
        theirs.update_state(labels, probs)
        assert logs[name] == float(theirs.result()) and cls().name == theirs.name
    with pytest.raises(ValueError, match="TruePositives: fitcore logs one value per metric, so `thresholds` must be"):
        fc.metrics.TruePositives(thresholds=[0.2, 0.5])
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]. Received: \[1.5\]"):
        fc.metrics.FalseNegatives(thresholds=1.5)
    assert fc.metrics.get("false_negatives").get_config() == {"name": "false_negatives", "thresholds": None}


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")

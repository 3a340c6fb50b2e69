"""Float64 numpy references for the tests: Keras's formulas written out by hand."""
import math

import numpy as np

_erf = np.vectorize(math.erf)


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": sigmoid,
    "tanh": np.tanh,
    "softmax": softmax,
    "gelu": lambda z: 0.5 * z * (1.0 + _erf(z / np.sqrt(2.0))),
    "elu": lambda z: np.where(z > 0, z, np.expm1(z)),
    "silu": lambda z: z * sigmoid(z),
    "softplus": lambda z: np.logaddexp(z, 0.0),
}

EPS = 1e-7  # Keras's backend epsilon
# Keras clips float32 outputs to [eps, 1 - eps] in float32, where 1 - 1e-7 rounds to 1 - 2**-23:
# it decides log(1 - p) for saturated sigmoids (-log(2**-23) = 15.94, not 16.12).
ONE_MINUS_EPS = float(np.float32(1.0 - EPS))


def per_element_loss(name, pred, target, from_logits=False, label_smoothing=0.0, delta=1.0):
    """Keras 3's loss per element (the last axis reduced)."""
    if name == "mean_squared_error":
        return np.mean((pred - target) ** 2, axis=-1)
    if name == "mean_absolute_error":
        return np.mean(np.abs(pred - target), axis=-1)
    if name == "huber":
        d = np.abs(pred - target)
        return np.mean(np.where(d <= delta, 0.5 * d ** 2, delta * d - 0.5 * delta ** 2), axis=-1)
    if name == "binary_crossentropy":
        t = target * (1 - label_smoothing) + 0.5 * label_smoothing
        if from_logits:
            return np.mean(np.logaddexp(0, pred) - pred * t, axis=-1)
        p = np.clip(pred, EPS, ONE_MINUS_EPS)
        return np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p)), axis=-1)
    if name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        if name == "sparse_categorical_crossentropy":
            target = np.eye(pred.shape[-1])[target.reshape(pred.shape[:-1]).astype(int)]
        t = target * (1 - label_smoothing) + label_smoothing / pred.shape[-1]
        if from_logits:
            logp = pred - pred.max(-1, keepdims=True)
            logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
        else:
            logp = np.log(np.clip(pred / pred.sum(-1, keepdims=True), EPS, ONE_MINUS_EPS))
        return -np.sum(t * logp, axis=-1)
    raise KeyError(name)


def reduced_loss(values, sample_weight=None):
    """Keras 3's sum_over_batch_size: sum of weighted element losses over the element count."""
    if sample_weight is not None:
        values = values * sample_weight
    return values.sum() / values.size


def mlp_forward(x, layers):
    """layers: list of (kernel, bias, activation)."""
    h = x
    for kernel, bias, activation in layers:
        h = ACTIVATIONS[activation](h @ kernel + bias)
    return h


def numeric_gradient(f, params, eps=1e-5):
    """Central differences of scalar f over every entry of every array in params (in place)."""
    grads = []
    for p in params:
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            up = f()
            p[idx] = old - eps
            down = f()
            p[idx] = old
            g[idx] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def dense(x, kernel, bias, activation="linear"):
    return ACTIVATIONS[activation](x @ kernel + bias)


def batch_norm(x, gamma, beta, epsilon=1e-3, mean=None, variance=None):
    """Keras's BatchNormalization over the last axis; batch statistics (biased variance) unless
    mean/variance (the moving statistics) are given."""
    axes = tuple(range(x.ndim - 1))
    if mean is None:
        mean, variance = x.mean(axis=axes), x.var(axis=axes)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def regularization(weights, l1=0.0, l2=0.0):
    """Keras's penalty: l1 * sum|w| + l2 * sum w^2 over the given weights."""
    return sum(l1 * np.abs(w).sum() + l2 * np.square(w).sum() for w in weights)


def check_gradients(model, x, y, loss_fn, forward, sample_weight=None, atol=2e-4, rtol=1e-3, extra=None):
    """The core's parameter gradients against central differences of the float64 reference
    loss_fn(forward(params, x), y) (+ extra(params)), over model.weights in order."""
    from conftest import core_gradients

    params = [w.astype(np.float64) for w in model.get_weights()]

    def total():
        value = reduced_loss(loss_fn(forward(params, x), y), sample_weight)
        return value + (extra(params) if extra else 0.0)

    got = core_gradients(model, x, y, sample_weight)
    want = numeric_gradient(total, params)
    trainable = {id(w) for w in model.trainable_weights}
    for g, w, weight in zip(got, want, model.weights):
        if id(weight) in trainable:
            np.testing.assert_allclose(g, w, atol=atol, rtol=rtol, err_msg=weight.name)
    return total


# --- metrics -------------------------------------------------------------------------------------

def weighted_mean(values, weights=None):
    """Keras's Mean over per-element values: sum(w * v) / sum(w)."""
    values = np.asarray(values, np.float64)
    weights = np.ones_like(values) if weights is None else np.broadcast_to(np.asarray(weights, np.float64),
                                                                          values.shape)
    return float((values * weights).sum() / weights.sum())


def auc_thresholds(num_thresholds):
    """Keras's AUC thresholds, float32 as the metric's variables: -eps, i/(n-1) ..., 1+eps."""
    inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return np.array([0.0 - EPS] + inner + [1.0 + EPS], np.float32)


def confusion_counts(pred, label, thresholds, weights=None):
    """tp, fp, tn, fn per threshold by direct comparison: predicted positive when pred > t, labels
    positive when nonzero; weights broadcast over the trailing axes of pred."""
    pred = np.asarray(pred, np.float32)
    w = np.ones(pred.shape) if weights is None else np.asarray(weights, np.float64).reshape(
        np.shape(weights) + (1,) * (pred.ndim - np.ndim(weights))) * np.ones(pred.shape)
    positive = np.asarray(label) != 0
    predicted = pred[None, ...] > np.asarray(thresholds, np.float32).reshape((-1,) + (1,) * pred.ndim)
    axes = tuple(range(1, pred.ndim + 1))

    def count(mask):
        return (mask * w).sum(axes)
    tp, fp = count(predicted & positive), count(predicted & ~positive)
    tn, fn = count(~predicted & ~positive), count(~predicted & positive)
    return tp, fp, tn, fn


def _div(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


def auc(tp, fp, tn, fn, curve="ROC", summation="interpolation"):
    """The area under the curve through the thresholds' points: trapezoids (interpolation), or
    rectangles of the lower/upper neighbour (minoring/majoring); PR interpolation as Davis &
    Goadrich (Keras's interpolate_pr_auc)."""
    if curve == "PR" and summation == "interpolation":
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _div(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        ratio = np.where((p[:-1] > 0) & (p[1:] > 0), _div(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return float(np.sum(_div(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))))
    recall = _div(tp, tp + fn)
    x, y = (_div(fp, fp + tn), recall) if curve == "ROC" else (recall, _div(tp, tp + fp))
    heights = {"interpolation": (y[:-1] + y[1:]) / 2, "minoring": np.minimum(y[:-1], y[1:]),
               "majoring": np.maximum(y[:-1], y[1:])}[summation]
    return float(np.sum((x[:-1] - x[1:]) * heights))

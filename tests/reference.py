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


def per_element_loss(name, pred, target, from_logits=False, label_smoothing=0.0):
    """Keras 3's loss per element (the last axis reduced)."""
    if name == "mean_squared_error":
        return np.mean((pred - target) ** 2, axis=-1)
    if name == "mean_absolute_error":
        return np.mean(np.abs(pred - target), axis=-1)
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

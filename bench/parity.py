"""Keras parity: the same small training in Keras 3 (JAX backend, float32) and in fitcore, from
identical initial weights (Keras's get_weights() copied into fitcore's set_weights()),
shuffle=False, a fixed batch size, 3 epochs. Compares every History key (same key set, every value),
History.epoch and History.params, the final weights and, where a case asks, evaluate() (dict and
list), train_on_batch()/test_on_batch() and predict().

Usage:  python bench/parity.py [-k SUBSTRING ...] [--batch-size 16] [--rtol 1e-4] [--verbose]
        KERAS_BACKEND=torch python bench/parity.py     (cross-check against another Keras backend)
Prints one line per case: name, max abs difference, max rel difference (over values >= atol/rtol),
status and the worst value outside the tolerance. PASS: within tolerance. KNOWN: differs, for the
documented reason printed (a SPEC choice, a refused option, a Keras quirk or a backend's autodiff
tie). FAIL: anything else (exit status 1). Not part of the pytest suite (CI does not install Keras).
--batch-size 20 leaves a partial last batch (20, 20, 8), which weights Keras's epoch means.

Tolerance: a value passes when |fitcore - keras| <= rtol * |keras| + atol, rtol = 1e-4, and atol the
larger of 1e-6 and 1e-5 * the largest magnitude in that array. Both sides compute in float32 (eps
1.2e-7) but sum in different orders (Eigen/OpenMP partitions against XLA's fused reductions), so
each step differs by a few ulps; over 9 steps those differences compound through the weights to
~1e-7..1e-5 relative (Adam's m / sqrt(v) amplifies them most). 1e-4 (about 1000 float32 ulps)
leaves a margin above that noise while a formula difference (a missing factor, an epsilon in the
wrong place, an off-by-one step count) shows as >= 1e-3. Rounding errors scale with the terms
summed, not with the result, so a value that is a near-cancellation (a weight passing through
zero, a prediction near 0) gets the absolute allowance of its array's scale.
"""
import argparse
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import keras  # noqa: E402

import fitcore  # noqa: E402

EPOCHS = 3
BATCH = 16
N = 48  # 3 steps per epoch (9 optimizer steps): small enough for a 2-core machine shared by others


# ---------------------------------------------------------------------------------------------------
# data (float64 generation, cast to float32; targets derived from a fixed teacher so training moves)

def _rng(seed=0):
    return np.random.default_rng(seed)


def data_classes(n=N, features=6, classes=3, seed=0):
    r = _rng(seed)
    x = r.standard_normal((n, features)).astype(np.float32)
    y = np.argmax(x @ r.standard_normal((features, classes)), axis=1).astype(np.int32)
    return x, y


def data_regression(n=N, features=6, outputs=2, seed=1):
    r = _rng(seed)
    x = r.standard_normal((n, features)).astype(np.float32)
    y = (np.tanh(x @ r.standard_normal((features, outputs))) * 2.0).astype(np.float32)
    return x, y


def data_binary(n=N, features=6, seed=2):
    r = _rng(seed)
    x = r.standard_normal((n, features)).astype(np.float32)
    y = (x @ r.standard_normal(features) > 0).astype(np.float32).reshape(-1, 1)
    return x, y


def one_hot(y, classes=3):
    return np.eye(classes, dtype=np.float32)[y]


def sample_weights(n=N, seed=3):
    return _rng(seed).uniform(0.2, 2.0, n).astype(np.float32)


# ---------------------------------------------------------------------------------------------------
# models: written once against the shared API (keras.* and fitcore.* spell it the same way)

def mlp(api, features=6, hidden=8, out=3, out_activation="softmax", hidden_activation="tanh", **dense_kwargs):
    return api.Sequential([api.Input((features,)),
                           api.layers.Dense(hidden, activation=hidden_activation, **dense_kwargs),
                           api.layers.Dense(out, activation=out_activation, **dense_kwargs)])


class Case:
    """One parity case. model(api) builds the model, compile(api) returns compile kwargs, fit(api)
    the fit kwargs (x, y and the rest); evaluate/predict compare those outputs after fit."""

    def __init__(self, name, model, compile, fit, evaluate=False, predict=False, train=True, known=None,
                 on_batch=False):
        self.name, self.model, self.compile, self.fit = name, model, compile, fit
        self.evaluate, self.predict, self.train = evaluate, predict, train  # evaluate: True or extra kwargs
        self.on_batch = on_batch  # also compare train_on_batch / test_on_batch on the first batch
        self.known = known  # a documented, deliberate difference: reported as KNOWN, not FAIL


def classifier_case(name, optimizer, metrics=("accuracy",)):
    x, y = data_classes()
    return Case(name, lambda api: mlp(api),
                lambda api: dict(optimizer=optimizer(api), loss="sparse_categorical_crossentropy",
                                 metrics=list(metrics)),
                lambda api: dict(x=x, y=y))


OPTIMIZERS = {
    "SGD": lambda api, **kw: api.optimizers.SGD(0.1, **kw),
    "SGD(momentum)": lambda api, **kw: api.optimizers.SGD(0.1, momentum=0.9, **kw),
    "SGD(nesterov)": lambda api, **kw: api.optimizers.SGD(0.1, momentum=0.9, nesterov=True, **kw),
    "Adam": lambda api, **kw: api.optimizers.Adam(0.01, **kw),
    "Adam(amsgrad)": lambda api, **kw: api.optimizers.Adam(0.01, amsgrad=True, **kw),
    "AdamW": lambda api, **kw: api.optimizers.AdamW(0.01, **kw),
    "RMSprop": lambda api, **kw: api.optimizers.RMSprop(0.01, **kw),
    "RMSprop(centered)": lambda api, **kw: api.optimizers.RMSprop(0.01, centered=True, **kw),
    "RMSprop(momentum)": lambda api, **kw: api.optimizers.RMSprop(0.01, momentum=0.9, **kw),
    "RMSprop(centered,momentum)": lambda api, **kw: api.optimizers.RMSprop(0.01, centered=True, momentum=0.9, **kw),
    "Adagrad": lambda api, **kw: api.optimizers.Adagrad(0.1, **kw),
}
# small limits so that clipping really acts on these gradients (their norms are ~0.1..1)
CLIPPING = {"": {}, "clipnorm": {"clipnorm": 0.05}, "clipvalue": {"clipvalue": 0.01},
            "global_clipnorm": {"global_clipnorm": 0.1}, "weight_decay": {"weight_decay": 0.05}}


def optimizer_cases():
    cases = []
    for opt_name, make in OPTIMIZERS.items():
        for clip_name, kwargs in CLIPPING.items():
            name = f"opt {opt_name}" + (f" {clip_name}" if clip_name else "")
            cases.append(classifier_case(name, lambda api, make=make, kwargs=kwargs: make(api, **kwargs)))
    return cases


def loss_cases():
    cases = []
    xr, yr = data_regression()
    for loss in ("mse", "mae", "huber"):
        def make_loss(api, loss=loss):
            return api.losses.Huber(delta=0.5) if loss == "huber" else loss
        cases.append(Case(f"loss {loss}", lambda api: mlp(api, out=2, out_activation=None),
                          lambda api, make_loss=make_loss: dict(optimizer=api.optimizers.SGD(0.05),
                                                                loss=make_loss(api)),
                          lambda api: dict(x=xr, y=yr)))
    xb, yb = data_binary()
    xc, yc = data_classes()
    for from_logits in (False, True):
        for smoothing in (0.0, 0.1):
            tag = f"from_logits={from_logits} label_smoothing={smoothing}"
            cases.append(Case(f"loss binary_crossentropy {tag}",
                              lambda api, fl=from_logits: mlp(api, out=1, out_activation=None if fl else "sigmoid"),
                              lambda api, fl=from_logits, s=smoothing: dict(
                                  optimizer=api.optimizers.SGD(0.1),
                                  loss=api.losses.BinaryCrossentropy(from_logits=fl, label_smoothing=s)),
                              lambda api: dict(x=xb, y=yb)))
            cases.append(Case(f"loss categorical_crossentropy {tag}",
                              lambda api, fl=from_logits: mlp(api, out_activation=None if fl else "softmax"),
                              lambda api, fl=from_logits, s=smoothing: dict(
                                  optimizer=api.optimizers.SGD(0.1),
                                  loss=api.losses.CategoricalCrossentropy(from_logits=fl, label_smoothing=s)),
                              lambda api: dict(x=xc, y=one_hot(yc))))
        cases.append(Case(f"loss sparse_categorical_crossentropy from_logits={from_logits}",
                          lambda api, fl=from_logits: mlp(api, out_activation=None if fl else "softmax"),
                          lambda api, fl=from_logits: dict(
                              optimizer=api.optimizers.SGD(0.1),
                              loss=api.losses.SparseCategoricalCrossentropy(from_logits=fl)),
                          lambda api: dict(x=xc, y=yc)))
    return cases


def metric_cases():
    xb, yb = data_binary()
    xc, yc = data_classes()
    xr, yr = data_regression()
    sw = sample_weights()
    sgd = lambda api: api.optimizers.SGD(0.1)  # noqa: E731
    cases = [
        Case("metrics accuracy->binary", lambda api: mlp(api, out=1, out_activation="sigmoid"),
             lambda api: dict(optimizer=sgd(api), loss="binary_crossentropy", metrics=["accuracy"]),
             lambda api: dict(x=xb, y=yb)),
        Case("metrics accuracy->categorical", lambda api: mlp(api),
             lambda api: dict(optimizer=sgd(api), loss="categorical_crossentropy", metrics=["accuracy"]),
             lambda api: dict(x=xc, y=one_hot(yc))),
        Case("metrics accuracy->sparse", lambda api: mlp(api),
             lambda api: dict(optimizer=sgd(api), loss="sparse_categorical_crossentropy", metrics=["accuracy"]),
             lambda api: dict(x=xc, y=yc)),
        Case("metrics AUC/Precision/Recall", lambda api: mlp(api, out=1, out_activation="sigmoid"),
             lambda api: dict(optimizer=sgd(api), loss="binary_crossentropy",
                              metrics=[api.metrics.AUC(), api.metrics.AUC(curve="PR", name="pr_auc"),
                                       api.metrics.Precision(), api.metrics.Recall(),
                                       api.metrics.BinaryAccuracy(threshold=0.6)]),
             lambda api: dict(x=xb, y=yb), evaluate=True),
        Case("metrics top-k/categorical", lambda api: mlp(api),
             lambda api: dict(optimizer=sgd(api), loss="categorical_crossentropy",
                              metrics=[api.metrics.TopKCategoricalAccuracy(k=2),
                                       api.metrics.CategoricalAccuracy()]),
             lambda api: dict(x=xc, y=one_hot(yc))),
        Case("metrics rmse/mse/mae", lambda api: mlp(api, out=2, out_activation=None),
             lambda api: dict(optimizer=api.optimizers.SGD(0.05), loss="mse",
                              metrics=[api.metrics.RootMeanSquaredError(), api.metrics.MeanSquaredError(),
                                       api.metrics.MeanAbsoluteError()]),
             lambda api: dict(x=xr, y=yr)),
        Case("metrics weighted_metrics+sample_weight", lambda api: mlp(api),
             lambda api: dict(optimizer=sgd(api), loss="sparse_categorical_crossentropy",
                              metrics=["accuracy"], weighted_metrics=["accuracy"]),
             lambda api: dict(x=xc, y=yc, sample_weight=sw)),
        Case("metrics weighted rmse+AUC sample_weight", lambda api: mlp(api, out=1, out_activation="sigmoid"),
             lambda api: dict(optimizer=sgd(api), loss="binary_crossentropy",
                              metrics=[api.metrics.AUC()],
                              weighted_metrics=[api.metrics.RootMeanSquaredError(), api.metrics.AUC(name="wauc"),
                                                api.metrics.Precision(name="wprecision")]),
             lambda api: dict(x=xb, y=yb, sample_weight=sw)),
        Case("class_weight", lambda api: mlp(api),
             lambda api: dict(optimizer=sgd(api), loss="sparse_categorical_crossentropy",
                              metrics=["accuracy"], weighted_metrics=["accuracy"]),
             lambda api: dict(x=xc, y=yc, class_weight={0: 0.5, 2: 3.0})),
        Case("class_weight one-hot", lambda api: mlp(api),
             lambda api: dict(optimizer=sgd(api), loss="categorical_crossentropy", metrics=["accuracy"]),
             lambda api: dict(x=xc, y=one_hot(yc), class_weight={1: 2.0})),
        Case("validation_split", lambda api: mlp(api),
             lambda api: dict(optimizer=api.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                              metrics=["accuracy"]),
             lambda api: dict(x=xc, y=yc, validation_split=0.25)),
        Case("validation_split categorical", lambda api: mlp(api),
             lambda api: dict(optimizer=api.optimizers.Adam(0.01), loss="categorical_crossentropy",
                              metrics=["accuracy", api.metrics.TopKCategoricalAccuracy(k=2)]),
             lambda api: dict(x=xc, y=one_hot(yc), validation_split=0.25)),
        Case("validation_data+sample_weight", lambda api: mlp(api),
             lambda api: dict(optimizer=api.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                              metrics=["accuracy"], weighted_metrics=["accuracy"]),
             lambda api: dict(x=xc[:32], y=yc[:32], sample_weight=sw[:32],
                              validation_data=(xc[32:], yc[32:], sw[32:]))),
    ]
    return cases


def layer_cases():
    xc, yc = data_classes()
    r = _rng(5)
    tokens = r.integers(0, 10, (N, 4)).astype(np.int32)
    ytok = (tokens.sum(axis=1) % 3).astype(np.int32)
    xa, xb = r.standard_normal((N, 4)).astype(np.float32), r.standard_normal((N, 5)).astype(np.float32)
    ya = np.argmax(np.concatenate([xa, xb], 1) @ r.standard_normal((9, 3)), 1).astype(np.int32)
    yb2 = np.tanh(xa[:, :2] + xb[:, :2]).astype(np.float32)

    def bn_model(api):
        # no bias before BN (as users write it): BN removes its gradient, leaving float noise that
        # Adam would normalise into full-size steps
        return api.Sequential([api.Input((6,)), api.layers.Dense(8, use_bias=False), api.layers.BatchNormalization(),
                               api.layers.Activation("relu"), api.layers.Dense(3, activation="softmax")])

    def emb_model(api):
        return api.Sequential([api.Input((4,), dtype="int32"), api.layers.Embedding(10, 3), api.layers.Flatten(),
                               api.layers.Dense(3, activation="softmax")])

    def two_out(api):
        a = api.Input((4,), name="a")
        b = api.Input((5,), name="b")
        ha = api.layers.Dense(6, activation="relu")(a)
        hb = api.layers.Dense(6, activation="relu")(b)
        cat = api.layers.Concatenate()([ha, hb])
        out_a = api.layers.Dense(3, activation="softmax", name="cls")(cat)
        added = api.layers.Add()([ha, hb])
        out_b = api.layers.Dense(2, name="reg")(added)
        return api.Model(inputs=[a, b], outputs=[out_a, out_b])

    def reg_model(api, bias_initializer="ones"):
        return api.Sequential([
            api.Input((6,)),
            api.layers.Dense(8, activation="tanh", kernel_regularizer=api.regularizers.L2(0.01),
                             bias_regularizer=api.regularizers.L1(0.02), bias_initializer=bias_initializer),
            api.layers.Dense(3, activation="softmax", kernel_regularizer=api.regularizers.L1L2(l1=0.01, l2=0.005))])

    def drop_model(api):
        return api.Sequential([api.Input((6,)), api.layers.Dense(8, activation="relu"), api.layers.Dropout(0.0),
                               api.layers.Dense(3, activation="softmax")])

    def noise_model(api):
        return api.Sequential([api.Input((6,)), api.layers.GaussianNoise(0.5), api.layers.Dense(8, activation="relu"),
                               api.layers.Dropout(0.5), api.layers.Dense(3, activation="softmax")])

    sparse = lambda api, opt=None: dict(optimizer=opt or api.optimizers.SGD(0.1),  # noqa: E731
                                        loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return [
        Case("layer BatchNormalization", bn_model, lambda api: sparse(api),
             lambda api: dict(x=xc, y=yc), evaluate=True, predict=True),
        Case("layer BatchNormalization+validation", bn_model, lambda api: sparse(api, api.optimizers.Adam(0.01)),
             lambda api: dict(x=xc, y=yc, validation_split=0.25)),
        Case("layer Embedding", emb_model, lambda api: sparse(api, api.optimizers.Adam(0.01)),
             lambda api: dict(x=tokens, y=ytok), evaluate=True, predict=True),
        Case("layer two-output Concatenate/Add", two_out,
             lambda api: dict(optimizer=api.optimizers.Adam(0.01),
                              loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                              loss_weights={"cls": 1.0, "reg": 0.5},
                              metrics={"cls": ["accuracy"], "reg": [api.metrics.MeanAbsoluteError()]}),
             lambda api: dict(x={"a": xa, "b": xb}, y={"cls": ya, "reg": yb2}, validation_split=0.25),
             evaluate=True, predict=True),
        Case("layer two-output list losses", two_out,
             lambda api: dict(optimizer=api.optimizers.SGD(0.1),
                              loss=["sparse_categorical_crossentropy", "mse"], metrics=[["accuracy"], ["mae"]]),
             lambda api: dict(x=[xa, xb], y=[ya, yb2])),
        Case("regularizers L1/L2/L1L2", reg_model, lambda api: sparse(api),
             lambda api: dict(x=xc, y=yc, validation_split=0.25), evaluate=True),
        Case("regularizers L1 on zero biases", lambda api: reg_model(api, "zeros"), lambda api: sparse(api),
             lambda api: dict(x=xc, y=yc),
             known="d|w|/dw at w == 0: JAX's autodiff gives 1, TensorFlow and torch (and fitcore) give 0"),
        Case("layer Dropout(0)", drop_model, lambda api: sparse(api), lambda api: dict(x=xc, y=yc)),
        Case("layer GaussianNoise/Dropout inference", noise_model, lambda api: sparse(api),
             lambda api: dict(x=xc, y=yc), evaluate=True, predict=True, train=False),
    ]


def schedule_cases():
    xc, yc = data_classes()
    S = lambda api: api.optimizers.schedules  # noqa: E731
    schedules = {
        "ExponentialDecay": lambda api: S(api).ExponentialDecay(0.1, decay_steps=2, decay_rate=0.7),
        "ExponentialDecay(staircase)": lambda api: S(api).ExponentialDecay(0.1, 2, 0.7, staircase=True),
        "PiecewiseConstantDecay": lambda api: S(api).PiecewiseConstantDecay([2, 5], [0.1, 0.05, 0.01]),
        "CosineDecay": lambda api: S(api).CosineDecay(0.1, decay_steps=6, alpha=0.1),
        "CosineDecay(warmup)": lambda api: S(api).CosineDecay(0.0, decay_steps=5, warmup_target=0.1,
                                                             warmup_steps=3),
    }
    cases = []
    for name, make in schedules.items():
        for opt in ("SGD", "Adam"):
            cases.append(classifier_case(f"schedule {name} {opt}",
                                         lambda api, make=make, opt=opt: getattr(api.optimizers, opt)(make(api))))
    return cases


def callback_cases():
    xc, yc = data_classes()

    def halve(epoch, lr):
        return lr * 0.5 if epoch > 0 else lr

    return [
        Case("callback LearningRateScheduler", lambda api: mlp(api),
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy"),
             lambda api: dict(x=xc, y=yc, callbacks=[api.callbacks.LearningRateScheduler(halve)])),
        Case("callback ReduceLROnPlateau", lambda api: mlp(api),
             lambda api: dict(optimizer=api.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy"),
             lambda api: dict(x=xc, y=yc, validation_split=0.25, callbacks=[
                 api.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=10.0)])),
    ]


def more_cases():
    """Second round: activations, temporal outputs, non-default arguments, on-batch calls, multi-output,
    metric names, callbacks, regularizers on every layer kind, saturated outputs."""
    xc, yc = data_classes()
    xb, yb = data_binary()
    xr, yr = data_regression()
    sw = sample_weights()
    r = _rng(7)
    xt = r.standard_normal((N, 4, 6)).astype(np.float32)
    yt = np.tanh(xt @ r.standard_normal((6, 2))).astype(np.float32)
    yt_cls = np.argmax(xt @ r.standard_normal((6, 3)), -1).astype(np.int32)
    swt = r.uniform(0.0, 2.0, (N, 4)).astype(np.float32)
    sparse = lambda api, opt=None, **kw: dict(optimizer=opt or api.optimizers.SGD(0.1),  # noqa: E731
                                              loss="sparse_categorical_crossentropy", metrics=["accuracy"], **kw)
    cases = []
    for act in ("relu", "sigmoid", "gelu", "elu", "silu", "softplus", "linear"):
        cases.append(Case(f"activation {act}", lambda api, act=act: mlp(api, hidden_activation=act),
                          lambda api: sparse(api), lambda api: dict(x=xc, y=yc), predict=True))

    def temporal(api, out=2, activation=None):
        return api.Sequential([api.Input((4, 6)), api.layers.Dense(5, activation="tanh"),
                               api.layers.Dense(out, activation=activation)])

    def bn_custom(api):
        return api.Sequential([api.Input((6,)), api.layers.Dense(8, use_bias=False),
                               api.layers.BatchNormalization(momentum=0.8, epsilon=1e-2),
                               api.layers.Activation("relu"), api.layers.Dense(3, activation="softmax")])

    cases += [
        Case("temporal Dense mse + 2-D sample_weight", temporal,
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss="mse", weighted_metrics=["mae"]),
             lambda api: dict(x=xt, y=yt, sample_weight=swt), evaluate=lambda api: dict(sample_weight=swt)),
        Case("temporal sparse crossentropy + accuracy", lambda api: temporal(api, 3, "softmax"),
             lambda api: sparse(api), lambda api: dict(x=xt, y=yt_cls), evaluate=True),
        Case("layer BatchNormalization(momentum=0.8, epsilon=1e-2)", bn_custom, lambda api: sparse(api),
             lambda api: dict(x=xc, y=yc), evaluate=True, predict=True),
        Case("evaluate sample_weight + weighted_metrics", lambda api: mlp(api),
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss="categorical_crossentropy", metrics=["accuracy"],
                              weighted_metrics=[api.metrics.TopKCategoricalAccuracy(k=2), "mse"]),
             lambda api: dict(x=xc, y=one_hot(yc), sample_weight=sw),
             evaluate=lambda api: dict(sample_weight=sw[::-1].copy())),
        Case("evaluate list: 'accuracy' both unweighted and weighted", lambda api: mlp(api),
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss="categorical_crossentropy", metrics=["accuracy"],
                              weighted_metrics=["accuracy", api.metrics.TopKCategoricalAccuracy(k=2)]),
             lambda api: dict(x=xc, y=one_hot(yc), sample_weight=sw),
             evaluate=lambda api: dict(sample_weight=sw[::-1].copy()),
             known="Keras's evaluate() list repeats 'accuracy' (its weighted twin's metric object is also named "
                   "'accuracy') and appends 'weighted_accuracy' last; fitcore's list is its dict's order"),
        Case("train_on_batch/test_on_batch", lambda api: mlp(api),
             lambda api: sparse(api, api.optimizers.Adam(0.01)), lambda api: dict(x=xc, y=yc, sample_weight=sw),
             on_batch=True),
        Case("metrics AUC variants", lambda api: mlp(api, out=1, out_activation=None),
             lambda api: dict(optimizer=api.optimizers.SGD(0.1),
                              loss=api.losses.BinaryCrossentropy(from_logits=True),
                              metrics=[api.metrics.AUC(from_logits=True),
                                       api.metrics.AUC(num_thresholds=20, summation_method="minoring",
                                                       from_logits=True, name="auc_min"),
                                       api.metrics.AUC(num_thresholds=20, summation_method="majoring", curve="PR",
                                                       from_logits=True, name="pr_maj")]),
             lambda api: dict(x=xb, y=yb), evaluate=True),
        Case("metrics AUC multi_label", lambda api: mlp(api, out=2, out_activation="sigmoid"),
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss="binary_crossentropy",
                              metrics=[api.metrics.AUC(multi_label=True),
                                       api.metrics.AUC(multi_label=True, num_labels=2, label_weights=[0.3, 1.0],
                                                       name="auc_lw")]),
             lambda api: dict(x=xb, y=np.concatenate([yb, 1 - yb[::-1]], 1)),
             known="fitcore refuses AUC(multi_label=True) with a clear ValueError (not in SPEC's metric list)"),
        Case("metrics Precision/Recall thresholds", lambda api: mlp(api, out=1, out_activation="sigmoid"),
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss="binary_crossentropy",
                              metrics=[api.metrics.Precision(thresholds=0.3), api.metrics.Recall(thresholds=0.7)]),
             lambda api: dict(x=xb, y=yb)),
        Case("metrics Precision/Recall class_id", lambda api: mlp(api),
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss="categorical_crossentropy",
                              metrics=[api.metrics.Precision(class_id=1), api.metrics.Recall(class_id=2)]),
             lambda api: dict(x=xc, y=one_hot(yc))),
        Case("binary class_weight, y shape (n,)", lambda api: mlp(api, out=1, out_activation="sigmoid"),
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss="binary_crossentropy",
                              metrics=["accuracy"], weighted_metrics=["accuracy"]),
             lambda api: dict(x=xb, y=yb[:, 0], class_weight={0: 2.0, 1: 0.5})),
        Case("validation_freq=2", lambda api: mlp(api), lambda api: sparse(api),
             lambda api: dict(x=xc, y=yc, validation_split=0.25, validation_freq=2)),
        Case("huber default, mse sample_weight", lambda api: mlp(api, out=2, out_activation=None),
             lambda api: dict(optimizer=api.optimizers.SGD(0.05), loss=api.losses.Huber(), metrics=["mse"],
                              weighted_metrics=["mse"]),
             lambda api: dict(x=xr, y=yr, sample_weight=sw)),
        Case("loss reduction='sum'", lambda api: mlp(api, out=2, out_activation=None),
             lambda api: dict(optimizer=api.optimizers.SGD(0.01), loss=api.losses.MeanSquaredError(reduction="sum")),
             lambda api: dict(x=xr, y=yr),
             known="SPEC: reduction is sum_over_batch_size; other reductions are refused with a clear ValueError"),
        Case("two-output sample_weight list + weighted_metrics", lambda api: _two_out(api),
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss=["sparse_categorical_crossentropy", "mse"],
                              metrics=[["accuracy"], []], weighted_metrics=[["accuracy"], ["mae"]]),
             lambda api: dict(x=[xc[:, :4], xc[:, 2:]], y=[yc, yr], sample_weight=[sw, sw[::-1].copy()])),
        Case("ReduceLROnPlateau val_loss cooldown min_lr", lambda api: mlp(api),
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy"),
             lambda api: dict(x=xc, y=yc, epochs=5, validation_split=0.25, callbacks=[
                 api.callbacks.ReduceLROnPlateau(factor=0.3, patience=0, min_delta=10.0, cooldown=1,
                                                 min_lr=0.02)])),
    ]
    def emb_dense(api):
        return api.Sequential([api.Input((4,), dtype="int32"), api.layers.Embedding(10, 3),
                               api.layers.Dense(2, activation="relu"), api.layers.Flatten(),
                               api.layers.Dense(3, activation="softmax")])

    def bn_plain(api):
        return api.Sequential([api.Input((6,)), api.layers.Dense(8, use_bias=False),
                               api.layers.BatchNormalization(center=False, scale=False),
                               api.layers.Activation("tanh"), api.layers.Dense(3, activation="softmax")])

    tokens = r.integers(0, 10, (N, 4)).astype(np.int32)
    ytok = (tokens[:, 0] % 3).astype(np.int32)
    ExpDecay = lambda api: api.optimizers.schedules.ExponentialDecay(0.1, 2, 0.7)  # noqa: E731
    cases += [
        Case("two fits: schedule and iterations continue", lambda api: mlp(api),
             lambda api: sparse(api, api.optimizers.Adam(ExpDecay(api))),
             lambda api: [dict(x=xc, y=yc, epochs=2), dict(x=xc, y=yc, epochs=4, initial_epoch=2)]),
        Case("initial_epoch + LearningRateScheduler", lambda api: mlp(api),
             lambda api: sparse(api),
             lambda api: dict(x=xc, y=yc, epochs=4, initial_epoch=1, callbacks=[
                 api.callbacks.LearningRateScheduler(lambda epoch, lr: 0.2 / (epoch + 1))])),
        Case("EarlyStopping restore_best_weights", lambda api: mlp(api),
             lambda api: sparse(api, api.optimizers.SGD(3.0)),
             lambda api: dict(x=xc, y=yc, epochs=8, callbacks=[
                 api.callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)])),
        Case("EarlyStopping val_accuracy baseline start_from_epoch", lambda api: mlp(api),
             lambda api: sparse(api, api.optimizers.SGD(0.5)),
             lambda api: dict(x=xc, y=yc, epochs=8, validation_split=0.25, callbacks=[
                 api.callbacks.EarlyStopping(monitor="val_accuracy", patience=1, baseline=0.6, start_from_epoch=2,
                                             restore_best_weights=True)])),
        Case("class_weight + sample_weight", lambda api: mlp(api), lambda api: sparse(api),
             lambda api: dict(x=xc, y=yc, sample_weight=sw, class_weight={0: 0.5, 2: 3.0}),
             known="SPEC: class_weight is multiplied into sample_weight; Keras 3 refuses the pair with a ValueError"),
        Case("layer BatchNormalization(center=False, scale=False)", bn_plain, lambda api: sparse(api),
             lambda api: dict(x=xc, y=yc), evaluate=True),
        Case("layer Embedding -> per-token Dense -> Flatten", emb_dense,
             lambda api: sparse(api, api.optimizers.Adam(0.01)), lambda api: dict(x=tokens, y=ytok),
             evaluate=True, predict=True),
        Case("binary multi-label (n, 2) accuracy", lambda api: mlp(api, out=2, out_activation="sigmoid"),
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss="binary_crossentropy", metrics=["accuracy"]),
             lambda api: dict(x=xb, y=np.concatenate([yb, 1 - yb[::-1]], 1)), evaluate=True),
        Case("sparse targets (n, 1)", lambda api: mlp(api), lambda api: sparse(api),
             lambda api: dict(x=xc, y=yc.reshape(-1, 1), class_weight={1: 2.0}), evaluate=True),
        Case("validation_batch_size=7", lambda api: mlp(api),
             lambda api: sparse(api),
             lambda api: dict(x=xc, y=yc, validation_data=(xc[:30], yc[:30]), validation_batch_size=7)),
        Case("ReduceLROnPlateau val_accuracy (mode auto)", lambda api: mlp(api),
             lambda api: sparse(api),
             lambda api: dict(x=xc, y=yc, epochs=5, validation_split=0.25, callbacks=[
                 api.callbacks.ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=0)])),
    ]

    def excluded(api, names):
        opt = api.optimizers.AdamW(0.01, weight_decay=0.2)
        opt.exclude_from_weight_decay(var_names=names)
        return opt

    def time_concat(api):
        a = api.Input((4, 6))
        h1 = api.layers.Dense(3, activation="tanh")(a)
        h2 = api.layers.Dense(3, activation="relu")(a)
        h = api.layers.Flatten()(api.layers.Concatenate(axis=1)([h1, h2]))
        return api.Model(a, api.layers.Dense(3, activation="softmax")(h))

    cases += [
        Case("AdamW exclude_from_weight_decay(var_names=['bias'])", lambda api: bn_custom(api),
             lambda api: sparse(api, excluded(api, ["bias", "gamma"])), lambda api: dict(x=xc, y=yc)),
        Case("AdamW exclude_from_weight_decay(var_names=['dense'])", lambda api: mlp(api),
             lambda api: sparse(api, excluded(api, ["dense"])), lambda api: dict(x=xc, y=yc)),
        Case("functional Concatenate(axis=1) on 3-D", time_concat, lambda api: sparse(api),
             lambda api: dict(x=xt, y=yc), predict=True),
    ]

    def two_out_reg(api):
        a, b = api.Input((4,), name="a"), api.Input((4,), name="b")
        h = api.layers.Concatenate()([api.layers.Dense(5, activation="relu",
                                                       kernel_regularizer=api.regularizers.L2(0.05))(a),
                                      api.layers.Dense(5)(b)])
        return api.Model(inputs=[a, b], outputs=[api.layers.Dense(3, activation="softmax", name="cls")(h),
                                                 api.layers.Dense(2, name="reg", bias_initializer="ones",
                                                                  bias_regularizer=api.regularizers.L1(0.1))(h)])

    xy2 = lambda: dict(x=[xc[:, :4], xc[:, 2:]], y=[one_hot(yc), yr])  # noqa: E731
    cases += [
        Case("metric auto-names: two unnamed AUCs", lambda api: mlp(api, out=1, out_activation="sigmoid"),
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss="binary_crossentropy",
                              metrics=[api.metrics.AUC(), api.metrics.AUC(curve="PR"), api.metrics.Precision(),
                                       api.metrics.Precision(thresholds=0.3)]),
             lambda api: dict(x=xb, y=yb)),
        Case("metric strings", lambda api: mlp(api),
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss="categorical_crossentropy",
                              metrics=["categorical_accuracy", "top_k_categorical_accuracy", "mse", "mae",
                                       "mean_squared_error", "auc", "precision", "recall"]),
             lambda api: dict(x=xc, y=one_hot(yc)), evaluate=True),
        Case("metric strings binary", lambda api: mlp(api, out=1, out_activation="sigmoid"),
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss="binary_crossentropy",
                              metrics=["binary_accuracy", "root_mean_squared_error", "AUC"]),
             lambda api: dict(x=xb, y=yb)),
        Case("two-output one loss for all outputs", lambda api: _two_out(api),
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss="mse", metrics=[["mae"], ["mae"]]),
             lambda api: xy2() | dict(y=[one_hot(yc), yr]), evaluate=True),
        Case("two-output regularizers: loss includes the penalty", two_out_reg,
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss=["categorical_crossentropy", "mse"],
                              loss_weights=[0.7, 2.0], metrics=[["accuracy"], ["mse"]]),
             lambda api: xy2() | dict(validation_split=0.25), evaluate=True, predict=True),
    ]
    cases += [
        Case("saturated sigmoid binary_crossentropy (clipped at eps)",
             lambda api: mlp(api, out=1, out_activation="sigmoid", hidden_activation="linear"),
             lambda api: dict(optimizer=api.optimizers.SGD(0.01), loss="binary_crossentropy",
                              metrics=["accuracy", api.metrics.AUC()]),
             lambda api: dict(x=xb * 30.0, y=yb), evaluate=True,
             known="an output exactly at the clip bound float32(1 - 1e-7) (happens at --batch-size 20): JAX's clip "
                   "passes half the gradient there, torch/TF (and fitcore) all of it"),
        Case("saturated softmax categorical_crossentropy (clipped at eps)",
             lambda api: mlp(api, hidden_activation="linear"),
             lambda api: dict(optimizer=api.optimizers.SGD(0.01),
                              loss=api.losses.CategoricalCrossentropy(label_smoothing=0.05)),
             lambda api: dict(x=xc * 30.0, y=one_hot(yc)), evaluate=True),
    ]

    def emb_reg(api):
        return api.Sequential([api.Input((4,), dtype="int32"),
                               api.layers.Embedding(10, 3, embeddings_regularizer=api.regularizers.L2(0.1)),
                               api.layers.Flatten(), api.layers.Dense(8, use_bias=False),
                               api.layers.BatchNormalization(beta_regularizer=api.regularizers.L2(0.1),
                                                             gamma_regularizer=api.regularizers.L1L2(0.01, 0.1)),
                               api.layers.Dense(3, activation="softmax")])

    cases += [
        Case("class_weight + validation_split (validation unweighted)", lambda api: mlp(api),
             lambda api: sparse(api, weighted_metrics=["accuracy"]),
             lambda api: dict(x=xc, y=yc, class_weight={0: 0.2, 1: 3.0}, validation_split=0.25)),
        Case("sample_weight + validation_split", lambda api: mlp(api),
             lambda api: sparse(api, weighted_metrics=["accuracy"]),
             lambda api: dict(x=xc, y=yc, sample_weight=sw, validation_split=0.25)),
        Case("steps_per_epoch=2 (fewer than the data)", lambda api: mlp(api), lambda api: sparse(api),
             lambda api: dict(x=xc, y=yc, epochs=4, steps_per_epoch=2),
             known="SPEC: arrays repeat as one stream (batches 0,1 | 2,0 | 1,2 ...); Keras 3 continues too but "
                   "cuts an epoch short where the data end (0,1 | 2 | 0,1 | 2) with a 'ran out of data' warning"),
        Case("validation_steps=1", lambda api: mlp(api), lambda api: sparse(api),
             lambda api: dict(x=xc, y=yc, validation_data=(xc[:40], yc[:40]), validation_steps=1)),
        Case("kernel_regularizer + SGD weight_decay",
             lambda api: mlp(api, kernel_regularizer=api.regularizers.L2(0.05)),
             lambda api: sparse(api, api.optimizers.SGD(0.1, momentum=0.5, weight_decay=0.05)),
             lambda api: dict(x=xc, y=yc)),
        Case("Embedding/BatchNormalization regularizers", emb_reg,
             lambda api: sparse(api, api.optimizers.SGD(0.1)), lambda api: dict(x=tokens, y=ytok), evaluate=True),
        Case("EarlyStopping restore_best_weights, never stops", lambda api: mlp(api),
             lambda api: sparse(api, api.optimizers.SGD(3.0)),
             lambda api: dict(x=xc, y=yc, epochs=5, callbacks=[
                 api.callbacks.EarlyStopping(monitor="loss", patience=10, restore_best_weights=True)])),
    ]
    def bn_3d(api):
        return api.Sequential([api.Input((4, 6)), api.layers.Dense(5, use_bias=False),
                               api.layers.BatchNormalization(momentum=0.9), api.layers.Activation("relu"),
                               api.layers.Flatten(), api.layers.Dense(3, activation="softmax")])

    def temporal_softmax(api):
        return api.Sequential([api.Input((4, 6)), api.layers.Dense(3), api.layers.Activation("softmax")])

    cases += [
        Case("layer BatchNormalization on 3-D (stats over batch and time)", bn_3d,
             lambda api: sparse(api, api.optimizers.SGD(0.1)), lambda api: dict(x=xt, y=yc, validation_split=0.25),
             evaluate=True, predict=True),
        Case("temporal Activation(softmax) + categorical_crossentropy + 2-D sample_weight", temporal_softmax,
             lambda api: dict(optimizer=api.optimizers.SGD(0.1),
                              loss=api.losses.CategoricalCrossentropy(label_smoothing=0.1),
                              metrics=["accuracy"], weighted_metrics=["mae", api.metrics.AUC()]),
             lambda api: dict(x=xt, y=one_hot(yt_cls), sample_weight=swt),
             evaluate=lambda api: dict(sample_weight=swt)),
        Case("temporal huber + 2-D sample_weight", temporal,
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss=api.losses.Huber(0.3),
                              weighted_metrics=[api.metrics.RootMeanSquaredError()]),
             lambda api: dict(x=xt, y=yt, sample_weight=swt)),
        Case("sample_weight shape (n, 1)", lambda api: mlp(api, out=1, out_activation="sigmoid"),
             lambda api: dict(optimizer=api.optimizers.SGD(0.1), loss="binary_crossentropy",
                              weighted_metrics=["accuracy"]),
             lambda api: dict(x=xb, y=yb, sample_weight=sw.reshape(-1, 1))),
        Case("schedule CosineDecay(warmup, alpha) + clipnorm",
             lambda api: mlp(api),
             lambda api: sparse(api, api.optimizers.SGD(api.optimizers.schedules.CosineDecay(
                 0.02, decay_steps=4, alpha=0.2, warmup_target=0.2, warmup_steps=3), clipnorm=0.5)),
             lambda api: dict(x=xc, y=yc, epochs=5)),
    ]
    def set_lr_callback(api):
        class SetLearningRate(api.callbacks.Callback):  # a user's callback writing the attribute
            def on_epoch_begin(self, epoch, logs=None):
                self.model.optimizer.learning_rate = 0.05 * (epoch + 1)
        return SetLearningRate()

    cases += [
        Case("callback sets optimizer.learning_rate (Adam)", lambda api: mlp(api),
             lambda api: sparse(api, api.optimizers.Adam(0.01)),
             lambda api: dict(x=xc, y=yc, callbacks=[set_lr_callback(api)])),
        Case("callback sets optimizer.learning_rate (RMSprop centered+momentum)", lambda api: mlp(api),
             lambda api: sparse(api, api.optimizers.RMSprop(0.01, momentum=0.5, centered=True)),
             lambda api: dict(x=xc, y=yc, callbacks=[set_lr_callback(api)])),
    ]
    opts = {
        "Adam(beta_1=0.5, beta_2=0.9, epsilon=1e-3)": lambda api: api.optimizers.Adam(0.01, 0.5, 0.9, 1e-3),
        "AdamW+ExponentialDecay": lambda api: api.optimizers.AdamW(
            api.optimizers.schedules.ExponentialDecay(0.01, 2, 0.5), weight_decay=0.1),
        "SGD weight_decay+CosineDecay": lambda api: api.optimizers.SGD(
            api.optimizers.schedules.CosineDecay(0.1, 6), momentum=0.5, weight_decay=0.1),
        "Adagrad(initial_accumulator_value=0.5, epsilon=1e-3)": lambda api: api.optimizers.Adagrad(
            0.1, initial_accumulator_value=0.5, epsilon=1e-3),
        "RMSprop(rho=0.5, epsilon=1e-3)": lambda api: api.optimizers.RMSprop(0.01, rho=0.5, epsilon=1e-3),
        "Adam clipvalue+weight_decay": lambda api: api.optimizers.Adam(0.01, clipvalue=0.01, weight_decay=0.1),
        "RMSprop global_clipnorm+weight_decay": lambda api: api.optimizers.RMSprop(
            0.01, global_clipnorm=0.1, weight_decay=0.1),
    }
    for name, make in opts.items():
        cases.append(classifier_case(f"opt {name}", make))
    return cases


def _two_out(api):
    a, b = api.Input((4,), name="a"), api.Input((4,), name="b")
    h = api.layers.Concatenate()([api.layers.Dense(5, activation="relu")(a), api.layers.Dense(5)(b)])
    return api.Model(inputs=[a, b], outputs=[api.layers.Dense(3, activation="softmax", name="cls")(h),
                                             api.layers.Dense(2, name="reg")(h)])


def conv_cases():
    """Convolution, pooling and reshaping layers over small feature maps (channels_last)."""
    r = _rng(9)
    images = r.standard_normal((N, 8, 8, 2)).astype(np.float32)
    yi = np.argmax(images.reshape(N, -1) @ r.standard_normal((128, 3)), 1).astype(np.int32)
    seqs = r.standard_normal((N, 10, 3)).astype(np.float32)
    ys = np.argmax(seqs.reshape(N, -1) @ r.standard_normal((30, 3)), 1).astype(np.int32)
    tokens = r.integers(0, 12, (N, 9)).astype(np.int32)
    ytok = (tokens.max(axis=1) % 3).astype(np.int32)
    L = lambda api: api.layers  # noqa: E731

    def mnist_like(api):
        return api.Sequential([api.Input((8, 8, 2)), L(api).Conv2D(4, 3, activation="relu"), L(api).MaxPooling2D(),
                               L(api).Flatten(), L(api).Dense(3, activation="softmax")])

    def strided(api):
        return api.Sequential([api.Input((8, 8, 2)), L(api).Conv2D(4, 3, strides=2, padding="same"),
                               L(api).Conv2D(4, 3, dilation_rate=2, padding="same", groups=2, activation="tanh"),
                               L(api).AveragePooling2D(3, strides=2, padding="same"), L(api).GlobalMaxPooling2D(),
                               L(api).Dense(3, activation="softmax")])

    def bn(api):
        return api.Sequential([api.Input((8, 8, 2)), L(api).Conv2D(4, 3, use_bias=False), L(api).BatchNormalization(),
                               L(api).Activation("relu"), L(api).GlobalAveragePooling2D(),
                               L(api).Dense(3, activation="softmax")])

    def sequence(api):
        return api.Sequential([api.Input((10, 3)), L(api).Conv1D(4, 3, padding="causal", activation="relu"),
                               L(api).MaxPooling1D(2), L(api).Conv1D(4, 2, padding="same", dilation_rate=2),
                               L(api).AveragePooling1D(2, padding="same"), L(api).GlobalAveragePooling1D(),
                               L(api).Dense(3, activation="softmax")])

    def reshaping(api):
        return api.Sequential([api.Input((128,)), L(api).Reshape((8, 8, 2)), L(api).ZeroPadding2D(((1, 0), (2, 1))),
                               L(api).Conv2D(3, 3, activation="relu"), L(api).UpSampling2D((2, 1)),
                               L(api).ZeroPadding2D(1), L(api).GlobalMaxPooling2D(),
                               L(api).Dense(3, activation="softmax")])

    def sequence_reshaping(api):
        return api.Sequential([api.Input((10, 3)), L(api).ZeroPadding1D((2, 1)), L(api).UpSampling1D(2),
                               L(api).Conv1D(4, 5, strides=3), L(api).Flatten(), L(api).Dense(3, activation="softmax")])

    def text(api):
        return api.Sequential([api.Input((9,), dtype="int32"), L(api).Embedding(12, 4), L(api).Conv1D(6, 3,
                               activation="relu"), L(api).GlobalMaxPooling1D(), L(api).Dense(3, activation="softmax")])

    def spatial_dropout(api):
        return api.Sequential([api.Input((8, 8, 2)), L(api).SpatialDropout2D(0.5), L(api).Conv2D(3, 3),
                               L(api).Reshape((-1, 3)), L(api).SpatialDropout1D(0.5), L(api).GlobalAveragePooling1D(),
                               L(api).Dense(3, activation="softmax")])

    sparse = lambda api, opt=None: dict(optimizer=opt or api.optimizers.Adam(0.01),  # noqa: E731
                                        loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return [
        Case("conv Conv2D/MaxPooling2D/Flatten", mnist_like, sparse, lambda api: dict(x=images, y=yi,
             validation_split=0.25), evaluate=True, predict=True),
        Case("conv Conv2D strides/dilation/groups, AveragePooling2D same, GlobalMaxPooling2D", strided, sparse,
             lambda api: dict(x=images, y=yi), evaluate=True, predict=True),
        Case("conv Conv2D -> BatchNormalization over feature maps", bn,
             lambda api: sparse(api, api.optimizers.SGD(0.1)), lambda api: dict(x=images, y=yi), evaluate=True,
             predict=True),
        Case("conv Conv1D causal/same/dilation, pooling 1D", sequence, sparse, lambda api: dict(x=seqs, y=ys),
             evaluate=True, predict=True),
        Case("conv Reshape/ZeroPadding2D/UpSampling2D", reshaping, sparse,
             lambda api: dict(x=images.reshape(N, -1), y=yi), evaluate=True, predict=True),
        Case("conv ZeroPadding1D/UpSampling1D/Conv1D strides", sequence_reshaping, sparse,
             lambda api: dict(x=seqs, y=ys), evaluate=True, predict=True),
        Case("conv Embedding -> Conv1D -> GlobalMaxPooling1D", text, sparse, lambda api: dict(x=tokens, y=ytok),
             evaluate=True, predict=True),
        Case("conv SpatialDropout1D/2D inference", spatial_dropout, sparse, lambda api: dict(x=images, y=yi),
             evaluate=True, predict=True, train=False),
    ]


def all_cases():
    return (optimizer_cases() + loss_cases() + metric_cases() + layer_cases() + schedule_cases() + callback_cases()
            + more_cases() + conv_cases())


# ---------------------------------------------------------------------------------------------------
# running and comparing

def run(api, case, initial_weights):
    if api is keras:
        keras.backend.clear_session()  # fresh auto-names (auc, not auc_1 after an earlier case)
        keras.utils.set_random_seed(0)
    model = case.model(api)
    if initial_weights is not None:
        model.set_weights(initial_weights)
    start = [np.array(w) for w in model.get_weights()]
    model.compile(**case.compile(api))
    fits = case.fit(api)
    fits = [dict(epochs=EPOCHS) | f for f in (fits if isinstance(fits, list) else [fits])]  # successive fit() calls
    kwargs = fits[0]
    out = {"weights0": start}
    if case.train:
        out["history"], out["params"] = {}, {}
        for i, kwargs in enumerate(fits):
            history = model.fit(batch_size=BATCH, shuffle=False, verbose=0, **kwargs)
            tag = f"fit{i + 1}:" if len(fits) > 1 else ""
            out["history"] |= {tag + k: [float(v) for v in vals] for k, vals in history.history.items()}
            out["history"][tag + "<History.epoch>"] = [float(e) for e in history.epoch]
            out["params"][tag] = {k: history.params.get(k) for k in ("verbose", "epochs", "steps")}
    out["weights"] = [np.array(w) for w in model.get_weights()]
    x, y = kwargs["x"], kwargs["y"]
    if case.evaluate:
        extra = case.evaluate(api) if callable(case.evaluate) else {}
        out["evaluate"] = {k: float(v) for k, v in model.evaluate(x, y, batch_size=BATCH, verbose=0,
                                                                  return_dict=True, **extra).items()}
        listed = model.evaluate(x, y, batch_size=BATCH, verbose=0, **extra)  # return_dict=False: the order
        out["evaluate"]["<list>"] = np.atleast_1d(np.asarray(listed, dtype=np.float64))
    if case.on_batch:
        first = lambda v: v[:BATCH] if not isinstance(v, dict) else {k: a[:BATCH] for k, a in v.items()}  # noqa
        out["train_on_batch"] = {k: float(v) for k, v in model.train_on_batch(
            first(x), first(y), sample_weight=first(kwargs["sample_weight"]) if "sample_weight" in kwargs else None,
            return_dict=True).items()}
        out["test_on_batch"] = {k: float(v) for k, v in model.test_on_batch(first(x), first(y),
                                                                            return_dict=True).items()}
        out["weights"] = [np.array(w) for w in model.get_weights()]
    if case.predict:
        pred = model.predict(x, batch_size=BATCH, verbose=0)
        out["predict"] = [np.asarray(p) for p in (pred if isinstance(pred, (list, tuple)) else [pred])]
    return out


def compare(name, a, b, rtol, atol, problems):
    """Max abs and rel difference of fitcore a against keras b; appends a description when outside.
    Rounding errors scale with the terms that were summed, not with the result, so an element that
    is a near-cancellation carries the error of its array's scale: the absolute allowance is atol
    or 0.1 * rtol * the array's largest magnitude, whichever is larger."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        problems.append(f"{name}: shape {a.shape} vs keras {b.shape}")
        return np.inf, np.inf
    atol = max(atol, 0.1 * rtol * float(np.abs(b).max(initial=0.0)))
    diff = np.abs(a - b)
    rel = diff / np.maximum(np.abs(b), 1e-300)
    bad = diff > rtol * np.abs(b) + atol
    if bad.any():
        i = np.unravel_index(np.argmax(np.where(bad, diff, -1)), diff.shape) if diff.ndim else ()
        where = [int(j) for j in i] if i else ""
        problems.append(f"{name}{where}: fitcore {a[i]:.8g} keras {b[i]:.8g}")
    # relative difference where it means something: values at least atol / rtol in magnitude
    big = np.abs(b) >= atol / rtol
    return float(diff.max(initial=0.0)), float(np.max(rel, where=big, initial=0.0))


def check(case, rtol, atol):
    theirs = run(keras, case, None)
    ours = run(fitcore, case, theirs["weights0"])  # from Keras's initial weights
    problems, worst_abs, worst_rel = [], 0.0, 0.0

    def cmp(name, a, b):
        nonlocal worst_abs, worst_rel
        d, r = compare(name, a, b, rtol, atol, problems)
        worst_abs, worst_rel = max(worst_abs, d), max(worst_rel, r)

    if case.train:
        h_ours, h_theirs = ours["history"], theirs["history"]
        if set(h_ours) != set(h_theirs):
            problems.append(f"History keys: fitcore {sorted(h_ours)} keras {sorted(h_theirs)}")
        for key in sorted(set(h_ours) & set(h_theirs)):
            cmp(f"history[{key!r}]", h_ours[key], h_theirs[key])
    if len(ours["weights"]) != len(theirs["weights"]):
        problems.append(f"weights: {len(ours['weights'])} arrays vs keras {len(theirs['weights'])}")
    for i, (a, b) in enumerate(zip(ours["weights"], theirs["weights"])):
        cmp(f"weights[{i}]", a, b)
    for what in ("evaluate", "train_on_batch", "test_on_batch", "predict"):
        if what not in theirs:
            continue
        if what != "predict":
            if set(ours[what]) != set(theirs[what]):
                problems.append(f"{what} keys: fitcore {sorted(ours[what])} keras {sorted(theirs[what])}")
            for key in sorted(set(ours[what]) & set(theirs[what])):
                cmp(f"{what}[{key!r}]", ours[what][key], theirs[what][key])
        else:
            for i, (a, b) in enumerate(zip(ours[what], theirs[what])):
                cmp(f"predict[{i}]", a, b)
    if case.train and ours["params"] != theirs["params"]:
        problems.append(f"History.params: fitcore {ours['params']} keras {theirs['params']}")
    return worst_abs, worst_rel, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", nargs="*", default=[], help="run only cases whose name contains one of these")
    parser.add_argument("--batch-size", type=int, default=16,
                        help="20 leaves a partial last batch (20, 20, 8): batch-size-weighted epoch means")
    parser.add_argument("--rtol", type=float, default=1e-4)
    parser.add_argument("--atol", type=float, default=1e-6)
    parser.add_argument("--verbose", action="store_true", help="print every difference outside the tolerance")
    args = parser.parse_args()
    globals()["BATCH"] = args.batch_size
    keras.config.set_floatx("float32")
    cases = [c for c in all_cases() if not args.k or any(k in c.name for k in args.k)]
    width = max(len(c.name) for c in cases)
    failures = 0
    print(f"keras {keras.__version__} ({keras.backend.backend()}) vs fitcore {fitcore.__version__}: "
          f"{EPOCHS} epochs, batch {BATCH}, {N} samples, shuffle=False, rtol {args.rtol:g} atol {args.atol:g}")
    print(f"{'case':<{width}}  {'max abs':>9}  {'max rel':>9}")
    for case in cases:
        try:
            worst_abs, worst_rel, problems = check(case, args.rtol, args.atol)
        except Exception as error:  # a case that cannot run at all is a failure, not a crash
            worst_abs = worst_rel = float("nan")
            problems = [f"{type(error).__name__}: {error}".splitlines()[0][:200]]
        status = "PASS" if not problems else "KNOWN" if case.known else "FAIL"
        failures += status == "FAIL"
        detail = f"  {problems[0]}" if problems else ""
        if status == "KNOWN":
            detail += f"  [{case.known}]"
        print(f"{case.name:<{width}}  {worst_abs:9.2e}  {worst_rel:9.2e}  {status}{detail}", flush=True)
        if args.verbose:
            for p in problems[1:]:
                print(f"{'':<{width}}    {p}")
    print(f"{len(cases) - failures}/{len(cases)} cases pass or differ only as documented (KNOWN)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

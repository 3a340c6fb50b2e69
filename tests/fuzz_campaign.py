"""The fuzz campaign (run as a child process by tests/test_fuzz.py, so a crash is reported, not fatal).

    python tests/fuzz_campaign.py --examples 300 [--seed 0] [--log last_example.txt]

Hypothesis draws small models and calls to compile / fit / evaluate / predict with random shapes,
dtypes, NaN/inf, empty arrays and odd argument values. Every call must either work or raise
ValueError/TypeError whose message names an argument; a failing call leaves the weights and the
optimizer untouched; afterwards a valid fit from the same starting weights gives exactly the
reference weights (nothing left corrupted). The last line printed is a JSON summary.
"""
import argparse
import collections
import faulthandler
import io
import json
import math
import os
import re
import signal
import sys
import traceback
from contextlib import redirect_stdout

import numpy as np
from hypothesis import HealthCheck, given, seed as hypothesis_seed, settings, strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fitcore as fc  # noqa: E402

# An error message must name one of these (the argument it rejects, or the part of it).
ARGUMENTS = ("x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data",
             "shuffle", "class_weight", "sample_weight", "initial_epoch", "steps_per_epoch", "validation_steps",
             "validation_batch_size", "validation_freq", "view_metrics", "steps", "optimizer", "loss", "metrics",
             "weighted_metrics", "loss_weights", "learning_rate", "return_dict", "momentum", "label_smoothing",
             "from_logits", "foo")  # foo: the unknown keyword the campaign passes
_NAMED = re.compile(r"(?<![A-Za-z_])(" + "|".join(sorted(ARGUMENTS, key=len, reverse=True)) + r")(?![A-Za-z_])")

TASKS = ("regression", "binary", "categorical", "sparse", "sparse_logits", "two_outputs")
DTYPES = ("float32", "float64", "float16", "int32", "int64", "uint8", "bool", "object", "complex64", "str")
SPECIALS = (None, None, None, "nan", "inf", "-inf", "huge")
N_VALID = 12  # samples in the valid data every check fits on


# --- the models ------------------------------------------------------------------------------
def make_model(task):
    """A small model for `task`, compiled with plain SGD (stateless, so reference fits are exact)."""
    fc.utils.set_random_seed(7)
    if task == "two_outputs":
        inp = fc.Input((4,), name="features")
        hidden = fc.layers.Dense(5, activation="relu")(inp)
        a = fc.layers.Dense(2, name="reg")(hidden)
        b = fc.layers.Dense(1, activation="sigmoid", name="bin")(hidden)
        model = fc.Model(inputs=inp, outputs=[a, b])
        model.compile(optimizer=fc.optimizers.SGD(learning_rate=0.05), loss=["mse", "binary_crossentropy"])
        return model
    units, activation, loss = {
        "regression": (2, "linear", "mse"),
        "binary": (1, "sigmoid", "binary_crossentropy"),
        "categorical": (3, "softmax", "categorical_crossentropy"),
        "sparse": (3, "softmax", "sparse_categorical_crossentropy"),
        "sparse_logits": (3, "linear", fc.losses.SparseCategoricalCrossentropy(from_logits=True)),
    }[task]
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(5, activation="relu"),
                           fc.layers.Dense(units, activation=activation)])
    model.compile(optimizer=fc.optimizers.SGD(learning_rate=0.05), loss=loss, metrics=["accuracy"])
    return model


def valid_targets(task, n, rng):
    if task == "regression":
        return rng.normal(size=(n, 2)).astype(np.float32)
    if task == "binary":
        return rng.integers(0, 2, size=(n, 1)).astype(np.float32)
    if task == "categorical":
        return np.eye(3, dtype=np.float32)[rng.integers(0, 3, size=n)]
    if task in ("sparse", "sparse_logits"):
        return rng.integers(0, 3, size=n)
    return [rng.normal(size=(n, 2)).astype(np.float32), rng.integers(0, 2, size=(n, 1)).astype(np.float32)]


class Subject:
    """One model per task, reused across examples: starting weights and the reference result of the
    valid fit from them."""

    def __init__(self, task):
        rng = np.random.default_rng(11)
        self.task = task
        self.model = make_model(task)
        self.start = self.model.get_weights()
        self.x = rng.normal(size=(N_VALID, 4)).astype(np.float32)
        self.y = valid_targets(task, N_VALID, rng)
        self.reference = self.valid_fit()

    def reset(self):
        """Back to the standard compile and the starting weights."""
        if self.task == "two_outputs":
            self.model.compile(optimizer=fc.optimizers.SGD(learning_rate=0.05), loss=["mse", "binary_crossentropy"])
        else:
            self.model.compile(optimizer=fc.optimizers.SGD(learning_rate=0.05),
                               loss=make_model_loss(self.task), metrics=["accuracy"])
        self.model.set_weights(self.start)

    def valid_fit(self):
        self.model.set_weights(self.start)
        history = self.model.fit(self.x, self.y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        assert len(history.history["loss"]) == 2 and all(math.isfinite(v) for v in history.history["loss"]), \
            history.history
        return self.model.get_weights()


def make_model_loss(task):
    return {"regression": "mse", "binary": "binary_crossentropy", "categorical": "categorical_crossentropy",
            "sparse": "sparse_categorical_crossentropy",
            "sparse_logits": fc.losses.SparseCategoricalCrossentropy(from_logits=True)}[task]


_SUBJECTS = {}


def subject(task):
    if task not in _SUBJECTS:
        _SUBJECTS[task] = Subject(task)
    return _SUBJECTS[task]


# --- drawing arrays --------------------------------------------------------------------------
def make_array(spec, rng):
    """Materialises an array description (kind, n, tail, dtype, special) drawn by hypothesis."""
    kind, n, tail, dtype, special = spec
    if kind == "none":
        return None
    if kind == "str":
        return "data.csv"
    if kind == "scalar":
        return 3.0
    if kind == "ragged":
        return [[1.0, 2.0], [3.0]] * max(n, 1)
    values = rng.normal(size=(n,) + tail) * 2
    if special == "nan":
        values.flat[:1] = np.nan
    elif special == "inf":
        values.flat[:1] = np.inf
    elif special == "-inf":
        values.flat[:1] = -np.inf
    elif special == "huge":
        values = values * 1e30
    if dtype == "str":
        array = values.astype(str)
    elif dtype == "object":
        array = values.astype(object)
    elif dtype in ("bool",):
        array = values > 0
    elif dtype in ("int32", "int64", "uint8"):
        array = np.nan_to_num(np.abs(values), posinf=9, neginf=0).astype(np.float64).clip(0, 200).astype(dtype)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            array = values.astype(dtype)
    if kind == "list":
        return array.tolist()
    if kind == "dict":  # by input name: right for the functional model ("features"), wrong for the others
        return {"features": array}
    if kind == "memmap_like":
        return np.asfortranarray(array) if array.ndim > 1 else array[::-1]
    return array


def mostly(valid, odd_values, weight=8):
    """A value from the strategy `valid` about weight/(weight+1) of the time, else an odd value: most calls
    then carry at most one or two odd arguments, so the campaign also reaches working fits."""
    return st.tuples(st.integers(0, weight), valid, st.sampled_from(odd_values)).map(
        lambda t: t[1] if t[0] else t[2])  # no flatmap: building strategies per draw is slow


def odd(valid, *others):
    return mostly(st.sampled_from(valid), others)


def array_specs(valid_tail, odd_tails, n_values=(1, 2, 5, 12, 17)):
    return st.tuples(
        odd(("array", "array", "dict"), "list", "memmap_like", "none", "str", "scalar", "ragged"),
        mostly(st.sampled_from(n_values), (0,)), odd((valid_tail,), *odd_tails),
        mostly(st.sampled_from(("float32", "float64")), DTYPES[2:]), odd((None,), *SPECIALS[3:]))


ints_or_odd = mostly(st.integers(1, 40), (None, -1, 0, 2.0, 2.5, "4", True, np.int64(3), float("nan")))


# --- callbacks -------------------------------------------------------------------------------
class StopAfter(fc.callbacks.Callback):
    """Stops training after a few steps: the only way steps_per_epoch=-1 ends."""

    def __init__(self, steps):
        super().__init__()
        self.steps = steps
        self.seen = 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen >= self.steps:
            self.model.stop_training = True


def make_callbacks(choice):
    return {
        "none": None, "empty": [],
        "early": [fc.callbacks.EarlyStopping(monitor="loss", patience=1)],
        "early_val": [fc.callbacks.EarlyStopping(patience=0, restore_best_weights=True)],
        "nan": [fc.callbacks.TerminateOnNaN()],
        "reduce_lr": [fc.callbacks.ReduceLROnPlateau(monitor="loss", patience=0)],
        "schedule": [fc.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)],
        "lambda": [fc.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: None)],
        "single": fc.callbacks.TerminateOnNaN(),
        "string": "EarlyStopping",
        "object": [object()],
        "class": [fc.callbacks.TerminateOnNaN],
    }[choice]


CALLBACK_CHOICES = ("none", "empty", "early", "early_val", "nan", "reduce_lr", "schedule", "lambda", "single",
                    "string", "object", "class")

FIT_ARGS = st.fixed_dictionaries({}, optional={
    "batch_size": ints_or_odd,
    "epochs": mostly(st.integers(0, 3), (-1, None, 2.0, "2")),
    "verbose": odd((0, 2), 1, "auto", 3, -1, True, None, "0"),
    "validation_split": mostly(st.one_of(st.sampled_from((0.0, 0.2, 0.5, 0.99)), st.floats(0, 1)),
                               (1.0, -0.1, 1.5, float("nan"), "0.2", None, True)),
    "shuffle": odd((True, False), "batch", None, 1, np.bool_(True)),
    "class_weight": odd((None, {0: 1.0, 1: 2.0}), {0: float("nan")}, {"a": 1.0}, [1.0, 2.0], {-1: 1.0},
                        {0: -1.0}, {5: 3.0}, {0: "x"}, {}, {1.5: 1.0}),
    "initial_epoch": mostly(st.integers(0, 4), (-1, None, 1.0)),
    "steps_per_epoch": mostly(st.sampled_from((None, -1, 1, 2, 5)), (0, 1.5, "3")),
    "validation_steps": odd((None, 1, 2), 0, -1, 1.0),
    "validation_batch_size": odd((None, 3), 0, -4, 2.5, "3"),
    "validation_freq": odd((1, 2, [1, 2]), 0, -1, "1", True, [0], [], (2,), {1, 3}, 1.0, [1.5], None),
    "view_metrics": odd((False, "auto"), True, 1, "yes", None),
})


# --- the property ----------------------------------------------------------------------------
class Stats:
    def __init__(self):
        self.counts = collections.Counter()

    def record(self, call, outcome):
        self.counts[f"{call}:{outcome}"] += 1
        self.counts["examples"] += 1


STATS = Stats()
LOG = None
TIMEOUT = 60


def log_example(text):
    """The example about to run, on disk: if the child dies, the parent can show it."""
    if LOG:
        with open(LOG, "w", encoding="utf-8") as f:
            f.write(text)


def weights_equal(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v, equal_nan=True) for u, v in zip(a, b))


def check_outcome(call, do):
    """Runs do(); returns 'ok' or the error class name after checking the error's type and message."""
    try:
        with redirect_stdout(io.StringIO()):
            do()
        return "ok"
    except (ValueError, TypeError) as error:
        message = str(error)
        assert _NAMED.search(message), f"{call}: {type(error).__name__} names no argument: {message!r}"
        return type(error).__name__


def check_untouched(s, before_weights, before_iterations, call):
    assert weights_equal(before_weights, s.model.get_weights()), f"{call} failed but changed the weights"
    assert int(s.model.optimizer.iterations) == before_iterations, f"{call} failed but stepped the optimizer"


def check_still_works(s):
    """A valid fit from the starting weights after the fuzzed call gives the reference weights."""
    s.reset()
    got = s.valid_fit()
    assert weights_equal(got, s.reference), "a valid fit after the fuzzed call gave other weights"


@st.composite
def fit_cases(draw):
    task = draw(st.sampled_from(TASKS))
    x_spec = draw(array_specs((4,), ((3,), (4, 1), (), (2, 2))))
    y_mode = draw(odd(("valid", "valid", "dict"), "drawn", "none", "short", "nan", "out_of_range"))
    y_spec = draw(array_specs((2,), ((1,), (3,), (), (3, 1))))
    sw = draw(odd((None, None, "ok", "zeros", "list"), "short", "nan", "2d", "str", "neg"))
    val = draw(odd((None, None, "ok", "ok_sw"), "short", "one", "bad_shape", "array", "empty"))
    kwargs = draw(FIT_ARGS)
    callbacks = draw(odd(CALLBACK_CHOICES[:9], *CALLBACK_CHOICES[9:]))
    seed = draw(st.integers(0, 2**16))
    return task, x_spec, y_mode, y_spec, sw, val, kwargs, callbacks, seed


def s_output_names(task):
    return subject(task).model.output_names


def build_fit_call(case):
    task, x_spec, y_mode, y_spec, sw, val, kwargs, callbacks, seed = case
    rng = np.random.default_rng(seed)
    x = make_array(x_spec, rng)
    n = len(x) if isinstance(x, (np.ndarray, list)) else len(x["features"]) if isinstance(x, dict) else 5
    if y_mode == "drawn":
        y = make_array(y_spec, rng)
    elif y_mode == "none":
        y = None
    else:
        y = valid_targets(task, n if y_mode != "short" else max(n - 1, 0), rng)
        if y_mode == "nan" and isinstance(y, np.ndarray):
            y = y.astype(np.float64)
            if y.size:
                y.flat[0] = np.nan
        elif y_mode == "out_of_range" and isinstance(y, np.ndarray):
            y = y + 7
        elif y_mode == "dict":  # by output name
            y = dict(zip(s_output_names(task), y if isinstance(y, list) else [y]))
    sample_weight = {None: None, "ok": rng.uniform(0, 2, size=n), "short": np.ones(n + 1),
                     "nan": np.full(n, np.nan), "2d": np.ones((n, 3)), "str": np.array(["a"] * n),
                     "neg": -np.ones(n), "zeros": np.zeros(n), "list": [1.0] * n}[sw]
    xv = rng.normal(size=(4, 4)).astype(np.float32)
    yv = valid_targets(task, 4, rng)
    validation_data = {None: None, "ok": (xv, yv), "ok_sw": (xv, yv, np.ones(4)), "short": (xv, yv[:2] if
                       isinstance(yv, np.ndarray) else yv), "one": (xv,), "bad_shape": (xv[:, :2], yv),
                       "array": xv, "empty": (xv[:0], yv[:0] if isinstance(yv, np.ndarray) else yv)}[val]
    kwargs = dict(kwargs)
    cbs = make_callbacks(callbacks)
    if kwargs.get("steps_per_epoch") == -1:
        cbs = (cbs if isinstance(cbs, list) else [] if cbs is None else [cbs]) + [StopAfter(3)]
    return dict(x=x, y=y, sample_weight=sample_weight, validation_data=validation_data, callbacks=cbs, **kwargs)


def run_fit_case(case):
    s = subject(case[0])
    s.reset()
    call = build_fit_call(case)
    log_example(f"fit {case!r}")
    before, iterations = s.model.get_weights(), int(s.model.optimizer.iterations)
    outcome = check_outcome("fit", lambda: s.model.fit(**call))
    if outcome != "ok":
        check_untouched(s, before, iterations, "fit")
    else:
        history = s.model.history
        assert isinstance(history, fc.callbacks.History)
        assert len(history.epoch) == len(history.history.get("loss", history.epoch))
    STATS.record("fit", outcome)
    check_still_works(s)


@st.composite
def infer_cases(draw):
    task = draw(st.sampled_from(TASKS))
    call = draw(st.sampled_from(("evaluate", "predict", "train_on_batch", "test_on_batch", "predict_on_batch")))
    x_spec = draw(array_specs((4,), ((3,), (4, 1), ())))
    y_ok = draw(st.booleans())
    y_spec = draw(array_specs((2,), ((1,), (3,), ())))
    kwargs = draw(st.fixed_dictionaries({}, optional={
        "batch_size": ints_or_odd, "verbose": odd((0, 2), 1, 5, "auto", None),
        "steps": odd((None, 1, 2), 0, -1, 1.5), "return_dict": st.booleans(),
        "sample_weight": odd((None,), "ok", "nan", "short")}))
    seed = draw(st.integers(0, 2**16))
    return task, call, x_spec, y_ok, y_spec, kwargs, seed


def run_infer_case(case):
    task, call, x_spec, y_ok, y_spec, kwargs, seed = case
    s = subject(task)
    s.reset()
    rng = np.random.default_rng(seed)
    x = make_array(x_spec, rng)
    n = len(x) if isinstance(x, (np.ndarray, list)) else len(x["features"]) if isinstance(x, dict) else 5
    y = valid_targets(task, n, rng) if y_ok else make_array(y_spec, rng)
    kwargs = dict(kwargs)
    sw = kwargs.pop("sample_weight", None)
    sample_weight = {None: None, "ok": np.ones(n), "nan": np.full(n, np.nan), "short": np.ones(n + 2)}[sw]
    log_example(f"{call} {case!r}")
    before, iterations = s.model.get_weights(), int(s.model.optimizer.iterations)
    m = s.model
    if call == "evaluate":
        do = lambda: m.evaluate(x, y, sample_weight=sample_weight, **kwargs)  # noqa: E731
    elif call == "predict":
        kwargs.pop("return_dict", None)

        def do():
            out = m.predict(x, **kwargs)
            outs = out if isinstance(out, list) else [out]
            rows = n if kwargs.get("steps") is None else min(n, kwargs["steps"] * (kwargs.get("batch_size") or 32))
            assert all(o.shape[0] == rows and o.dtype == np.float32 for o in outs), [o.shape for o in outs]
    elif call == "train_on_batch":
        do = lambda: m.train_on_batch(x, y, sample_weight=sample_weight,  # noqa: E731
                                      return_dict=kwargs.get("return_dict", False))
    elif call == "test_on_batch":
        do = lambda: m.test_on_batch(x, y, sample_weight=sample_weight,  # noqa: E731
                                     return_dict=kwargs.get("return_dict", False))
    else:
        do = lambda: m.predict_on_batch(x)  # noqa: E731
    outcome = check_outcome(call, do)
    if outcome != "ok" or call != "train_on_batch":
        check_untouched(s, before, iterations, call)
    STATS.record(call, outcome)
    check_still_works(s)


@st.composite
def compile_cases(draw):
    task = draw(st.sampled_from(TASKS))
    optimizer = draw(odd(("sgd", "adam", "rmsprop", "SGD", "Adam", "sgd_lr"),
                         "nope", None, 3, "sgd_neg_lr", "sgd_nan_lr", "sgd_str_lr", "adam_kw"))
    loss = draw(odd(("task", "task", "mse", "mae", "bce_logits", "cce_smooth", "MeanSquaredError"),
                    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy", "nope",
                    None, 5, "cce_bad_smooth", "list2", "dict_bad"))
    metrics = draw(odd((None, ["accuracy"], "accuracy", ["mse", "mae"]),
                       ["nope"], [None], 3, {"nope": ["mse"]}, [["accuracy"], ["mse"]], ["AUC"]))
    loss_weights = draw(odd((None, 0.5, [1.0]), [1.0, 2.0], {"nope": 1.0}, "a", float("nan")))
    extra = draw(odd(({}, {"run_eagerly": True}, {"weighted_metrics": ["accuracy"]}),
                     {"foo": 1}, {"weighted_metrics": "nope"}))
    fit_after = draw(st.booleans())
    return task, optimizer, loss, metrics, loss_weights, extra, fit_after


def _optimizer(choice):
    return {"sgd_lr": lambda: fc.optimizers.SGD(learning_rate=0.1),
            "sgd_neg_lr": lambda: fc.optimizers.SGD(learning_rate=-1.0),
            "sgd_nan_lr": lambda: fc.optimizers.SGD(learning_rate=float("nan")),
            "sgd_str_lr": lambda: fc.optimizers.SGD(learning_rate="0.1"),
            "adam_kw": lambda: fc.optimizers.Adam(foo=0.1)}.get(choice, lambda: choice)()


def _loss(choice, task):
    return {"task": lambda: (["mse", "binary_crossentropy"] if task == "two_outputs" else make_model_loss(task)),
            "bce_logits": lambda: fc.losses.BinaryCrossentropy(from_logits=True),
            "cce_smooth": lambda: fc.losses.CategoricalCrossentropy(label_smoothing=0.1),
            "cce_bad_smooth": lambda: fc.losses.CategoricalCrossentropy(label_smoothing="x"),
            "list2": lambda: ["mse", "binary_crossentropy"],
            "dict_bad": lambda: {"nope": "mse"}}.get(choice, lambda: choice)()


def run_compile_case(case):
    task, optimizer, loss, metrics, loss_weights, extra, fit_after = case
    s = subject(task)
    s.reset()
    log_example(f"compile {case!r}")
    before = s.model.get_weights()

    def do():
        s.model.compile(optimizer=_optimizer(optimizer), loss=_loss(loss, task), metrics=metrics,
                        loss_weights=loss_weights, **extra)
        if fit_after:
            s.model.fit(s.x, s.y, batch_size=4, epochs=1, verbose=0)

    outcome = check_outcome("compile", do)
    if outcome != "ok" and not fit_after:
        assert weights_equal(before, s.model.get_weights()), "compile failed but changed the weights"
    STATS.record("compile+fit" if fit_after else "compile", outcome)
    check_still_works(s)


CASES = st.one_of(fit_cases().map(lambda c: ("fit", c)), fit_cases().map(lambda c: ("fit", c)),
                  infer_cases().map(lambda c: ("infer", c)), compile_cases().map(lambda c: ("compile", c)))
RUNNERS = {"fit": run_fit_case, "infer": run_infer_case, "compile": run_compile_case}


def run(examples, seed):
    @settings(max_examples=examples, deadline=None, database=None, derandomize=seed is None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(CASES)
    def campaign(case):
        kind, c = case
        signal.alarm(TIMEOUT)  # a hang: SIGALRM prints every thread's traceback and ends the child
        RUNNERS[kind](c)

    if seed is not None:
        campaign = hypothesis_seed(seed)(campaign)
    campaign()


def main():
    global LOG, TIMEOUT
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=None, help="random campaign; default: derandomized")
    parser.add_argument("--log", default=None, help="file that holds the example being run")
    parser.add_argument("--timeout", type=int, default=60, help="seconds one example may take")
    args = parser.parse_args()
    LOG, TIMEOUT = args.log, args.timeout
    faulthandler.enable()
    faulthandler.register(signal.SIGALRM, all_threads=True, chain=True)
    np.seterr(all="ignore")
    import warnings
    warnings.simplefilter("ignore")
    failure = None
    try:
        run(args.examples, args.seed)
    except Exception:  # hypothesis re-raises the (shrunk) failing example's error
        failure = traceback.format_exc()
    finally:
        signal.alarm(0)
    if failure:
        print(failure, file=sys.stderr)
    print(json.dumps({"counts": dict(sorted(STATS.counts.items())), "failed": bool(failure)}))
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())

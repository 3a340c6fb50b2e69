"""Threads on one model (issue 11, rows 1, 2, 5, 7, 10, 11, 12): concurrent inference is correct,
training is exclusive with a clear error, predict during fit sees a finished step, the thread count
is process-wide, and neither a daemon thread inside fit at exit nor a thread limit ends the process.
Risky cases run in a subprocess (a crash is a failed test, not a dead pytest), all with timeouts."""
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
from reference import dense

import fitcore as fc

L = fc.layers
RNG = np.random.default_rng(5)
HERE = os.path.dirname(os.path.abspath(__file__))
# Where the fitcore this test imports lives (the source tree's python/ in development, site-packages
# when installed as CI does): the child processes must import the same one.
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(fc.__file__)))


def run_script(code, timeout=120, env=None):
    """Runs `code` in a fresh interpreter importing this tree's fitcore: (returncode, stdout, stderr)."""
    full_env = dict(os.environ, PYTHONPATH=PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    full_env.update(env or {})
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=full_env)
    return done.returncode, done.stdout, done.stderr


def _mlp(width=32, hidden=64, outputs=4, lr=0.01):
    model = fc.Sequential([fc.Input((width,)), L.Dense(hidden, activation="relu"), L.BatchNormalization(),
                           L.Dense(outputs, activation="softmax")])
    model.compile(fc.optimizers.Adam(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _run_threads(targets, timeout=120):
    errors = []

    def wrap(target):
        def run():
            try:
                target()
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)
        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a thread hung"
    return errors


def test_stress_many_threads_predicting_on_one_model_equal_sequential_calls():
    """N threads x M predict calls with growing and varying batch sizes (row 2: SIGSEGV, double free,
    13-18 % wrong results)."""
    model = _mlp()
    x = RNG.normal(size=(600, 32)).astype(np.float32)
    model.fit(x, RNG.integers(0, 4, 600), epochs=1, verbose=0)
    threads, calls = 8, 30
    plans = [[(int(RNG.integers(1, 600)), int(RNG.integers(1, 300))) for _ in range(calls)] for _ in range(threads)]
    want = {(rows, bs): model.predict(x[:rows], batch_size=bs, verbose=0) for plan in plans for rows, bs in plan}
    got = [[] for _ in range(threads)]

    def work(t):
        def run():
            for rows, bs in plans[t]:
                got[t].append(((rows, bs), model.predict(x[:rows], batch_size=bs, verbose=0)))
        return run

    assert _run_threads([work(t) for t in range(threads)]) == []
    mismatches = sum(not np.array_equal(out, want[key]) for results in got for key, out in results)
    print(f"\nstress: {threads} threads x {calls} predict calls, mismatches: {mismatches}")
    assert sum(len(r) for r in got) == threads * calls and mismatches == 0


def test_threads_mixing_evaluate_predict_and_on_batch_calls_agree_with_sequential_ones():
    model = _mlp()
    x, y = RNG.normal(size=(300, 32)).astype(np.float32), RNG.integers(0, 4, 300)
    model.fit(x, y, epochs=1, verbose=0)
    want_eval = model.evaluate(x, y, batch_size=50, verbose=0, return_dict=True)
    want_test = model.test_on_batch(x[:64], y[:64], return_dict=True)
    want_pred = model.predict_on_batch(x[:70])
    results = []

    def evaluator():
        for _ in range(10):
            results.append(("evaluate", model.evaluate(x, y, batch_size=50, verbose=0, return_dict=True)))

    def tester():
        for _ in range(10):
            results.append(("test_on_batch", model.test_on_batch(x[:64], y[:64], return_dict=True)))

    def predictor():
        for _ in range(10):
            results.append(("predict_on_batch", model.predict_on_batch(x[:70])))

    assert _run_threads([evaluator, evaluator, tester, tester, predictor, predictor]) == []
    assert len(results) == 60
    for kind, got in results:
        if kind == "predict_on_batch":
            np.testing.assert_array_equal(got, want_pred)
        else:
            assert got == (want_eval if kind == "evaluate" else want_test), kind


def test_a_second_fit_on_a_fitting_model_is_a_clear_error():
    """Row 1: two threads fitting one model crashed (SIGSEGV)."""
    model = _mlp()
    x, y = RNG.normal(size=(2000, 32)).astype(np.float32), RNG.integers(0, 4, 2000)
    started, release = threading.Event(), threading.Event()

    class Hold(fc.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            started.set()
            release.wait(60)

    errors = []
    first = threading.Thread(target=lambda: model.fit(x, y, epochs=1, verbose=0, callbacks=[Hold()]))
    first.start()
    assert started.wait(60)
    for call in (lambda: model.fit(x, y, batch_size=7, epochs=1, verbose=0), lambda: model.train_on_batch(x[:8], y[:8])):
        with pytest.raises(RuntimeError, match="is already running fit\\(\\) in another thread"):
            call()
    release.set()
    first.join(60)
    assert not first.is_alive() and errors == []
    assert len(model.fit(x, y, epochs=1, verbose=0).history["loss"]) == 1  # free again afterwards


def test_two_threads_fitting_one_model_never_crash():
    """Row 1 as reported (batch sizes 7 and 500): one fit runs, the other is refused."""
    code = """
        import threading, numpy as np, fitcore as fc
        m = fc.Sequential([fc.Input((20,)), fc.layers.Dense(64, activation="relu"), fc.layers.Dense(1)])
        m.compile("adam", "mse")
        x = np.random.rand(3000, 20).astype(np.float32); y = np.random.rand(3000, 1).astype(np.float32)
        outcomes = []
        def fit(b):
            try:
                m.fit(x, y, batch_size=b, epochs=3, verbose=0); outcomes.append("ok")
            except RuntimeError as e:
                outcomes.append("refused" if "already running fit()" in str(e) else repr(e))
        ts = [threading.Thread(target=fit, args=(b,)) for b in (7, 500)]
        [t.start() for t in ts]; [t.join() for t in ts]
        print(sorted(outcomes))
    """
    for _ in range(3):
        code_rc, out, err = run_script(code)
        assert code_rc == 0, err
        assert out.strip() in ("['ok', 'refused']", "['ok', 'ok']"), out  # refused, or ran one after the other


def test_fit_inside_its_own_callback_is_a_clear_error_and_the_outer_fit_goes_on():
    """Row 12: the inner fit broke the outer one with 'trainer: no training data set'."""
    model = _mlp()
    x, y = RNG.normal(size=(64, 32)).astype(np.float32), RNG.integers(0, 4, 64)
    messages = []

    class Nested(fc.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            try:
                model.fit(x, y, epochs=1, verbose=0)
            except RuntimeError as e:
                messages.append(str(e))

    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[Nested()])
    assert len(history.history["loss"]) == 3
    assert messages == [f"fit: model '{model.name}' is already running fit() in this thread (a callback of the "
                        f"running fit?); a model trains one fit or train_on_batch at a time"] * 3
    # evaluate and predict inside a callback are fine (Keras users do this)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[fc.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: messages.append(model.evaluate(x, y, verbose=0)))])
    assert isinstance(messages[-1], list)


def test_predict_and_evaluate_during_fit_with_learning_rate_zero_never_change():
    """Row 5: predict from another thread during fit was up to 3.9 off with learning rate 0, and the
    fit's own History changed (one epoch's loss exactly 0.0)."""
    def model():
        fc.utils.set_random_seed(3)
        m = fc.Sequential([fc.Input((16,)), L.Dense(256, activation="tanh"), L.Dense(256, activation="tanh"),
                           L.Dense(3)])
        m.compile(fc.optimizers.SGD(0.0), "mse", metrics=["mae"])
        return m

    x, y = RNG.normal(size=(4000, 16)).astype(np.float32), RNG.normal(size=(4000, 3)).astype(np.float32)
    quiet = model()
    want_history = quiet.fit(x, y, epochs=4, batch_size=32, verbose=0, shuffle=False).history
    want_pred = quiet.predict(x[:500], verbose=0)
    want_eval = quiet.evaluate(x[:500], y[:500], verbose=0)

    busy = model()
    done = threading.Event()
    seen = []

    def reader():
        while not done.is_set():
            seen.append(("predict", busy.predict(x[:500], batch_size=64, verbose=0)))
            seen.append(("evaluate", busy.evaluate(x[:500], y[:500], verbose=0)))

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        history = busy.fit(x, y, epochs=4, batch_size=32, verbose=0, shuffle=False).history
    finally:
        done.set()
        for t in readers:
            t.join(60)
    assert len(seen) >= 2
    assert history == want_history
    for kind, got in seen:
        if kind == "predict":
            np.testing.assert_array_equal(got, want_pred)
        else:
            assert got == want_eval


def test_predict_during_fit_sees_a_finished_step_never_a_half_applied_update():
    """Every step moves all 200,000 kernel entries by the same amount (all inputs equal), so a
    finished step leaves them all equal; one-hot rows read entries far apart in one predict."""
    width = 200_000
    model = fc.Sequential([fc.Input((width,)), L.Dense(1, kernel_initializer="ones", bias_initializer="zeros")])
    model.compile(fc.optimizers.SGD(1e-4), "mse")
    x = np.full((64, width), 1e-3, np.float32)
    y = RNG.normal(size=(64, 1)).astype(np.float32)
    probe = np.zeros((4, width), np.float32)
    probe[np.arange(4), [0, 70_000, 140_000, width - 1]] = 1.0
    done = threading.Event()
    outputs = []

    def reader():
        while not done.is_set():
            outputs.append(model.predict(probe, batch_size=4, verbose=0)[:, 0])

    t = threading.Thread(target=reader)
    t.start()
    try:
        model.fit(x, y, epochs=60, batch_size=8, verbose=0)
    finally:
        done.set()
        t.join(60)
    assert len(outputs) > 10
    torn = [o for o in outputs if np.ptp(o) != 0.0]
    assert torn == [], f"{len(torn)} of {len(outputs)} predictions mixed two steps' weights"
    assert len({float(o[0]) for o in outputs}) > 1  # the weights did move while predicting


def test_set_num_threads_applies_to_every_thread():
    """Row 10: after set_num_threads(1), a fit in another thread still used 2 threads."""
    code = """
        import os, threading, numpy as np, fitcore as fc
        fc.config.set_num_threads(1)
        m = fc.Sequential([fc.Input((256,)), fc.layers.Dense(512, activation="relu"), fc.layers.Dense(10)])
        m.compile("adam", "mse")
        x = np.random.rand(4096, 256).astype(np.float32); y = np.random.rand(4096, 10).astype(np.float32)
        before = len(os.listdir("/proc/self/task"))  # numpy's BLAS may hold threads of its own
        seen = []
        def fit():
            seen.append(fc.config.get_num_threads())
            m.fit(x, y, batch_size=256, epochs=1, verbose=0)
            m.predict(x, batch_size=1024, verbose=0)
            seen.append(len(os.listdir("/proc/self/task")) - before)  # this thread, and an OpenMP team's if any
        t = threading.Thread(target=fit); t.start(); t.join()
        print(*seen)
    """
    rc, out, err = run_script(code, env={"OMP_NUM_THREADS": "2"})
    assert rc == 0, err
    assert out.split() == ["1", "1"], out


def test_set_num_threads_bounds_and_thread_creation_failure_are_python_errors():
    """Row 11: set_num_threads(1000) under a process limit ended the process ("Thread creation failed")."""
    with pytest.raises(ValueError, match=r"set_num_threads: `n` must be at most \d+ on this machine"):
        fc.config.set_num_threads(1000)
    # Address space for only a few 8 MiB thread stacks: starting 59 threads fails.
    code = """
        import resource, numpy as np, fitcore as fc
        vm = int([l for l in open("/proc/self/status") if l.startswith("VmSize")][0].split()[1]) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (vm + 96 * 2**20, resource.RLIM_INFINITY))
        try:
            fc.config.set_num_threads(60)
        except RuntimeError as e:
            print("refused:", e)
        m = fc.Sequential([fc.Input((8,)), fc.layers.Dense(4)]); m.compile("sgd", "mse")
        m.fit(np.ones((64, 8), np.float32), np.ones((64, 4), np.float32), verbose=0)
        print("threads", fc.config.get_num_threads(), "still fits")
    """
    if "libasan" in os.environ.get("LD_PRELOAD", ""):
        # Under tools/sanitize ASan reserves its shadow and fake stacks beyond any such limit: the limit
        # would fail ASan itself. The normal run (and tools/sanitize-thread) check the refusal.
        return
    rc, out, err = run_script(code, env={"OMP_NUM_THREADS": "1"})
    assert rc == 0, err
    assert "refused: set_num_threads: cannot start 59 more threads" in out, out
    assert "threads 1 still fits" in out


def test_a_daemon_thread_inside_fit_at_interpreter_exit_does_not_abort():
    """Row 7: "terminate called without an active exception" (a noexcept GIL guard met CPython's
    pthread_exit of the daemon thread)."""
    code = """
        import threading, time, numpy as np, fitcore as fc
        x = np.random.rand(2000, 64).astype(np.float32); y = np.random.rand(2000, 8).astype(np.float32)
        m = fc.Sequential([fc.Input((64,)), fc.layers.Dense(256, activation="relu"), fc.layers.Dense(8)])
        m.compile("adam", "mse")
        threading.Thread(target=m.fit, args=(x, y), kwargs=dict(epochs=200, verbose=0), daemon=True).start()
        time.sleep(0.5)
        print("main done")
    """
    for _ in range(3):
        rc, out, err = run_script(code)
        assert rc == 0 and "terminate called" not in err, (rc, err)
        assert out.strip() == "main done"

"""Interrupts: KeyboardInterrupt or an exception in a callback, at any hook, leaves the weights of the
last finished step (equal to training exactly that many steps), `model.history` with the finished
epochs, and a next fit that works; SIGINT stops a long silent fit promptly."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import fitcore as fc

N, BATCH, EPOCHS = 40, 8, 3
STEPS = N // BATCH  # steps per epoch
X = np.random.default_rng(3).normal(size=(N, 4)).astype(np.float32)
Y = np.random.default_rng(4).integers(0, 3, size=N)
XV, YV = X[:12], Y[:12]


def make_model():
    fc.utils.set_random_seed(21)
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(6, activation="tanh"),
                           fc.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def stepped(steps):
    """A model trained by train_on_batch, one batch at a time in fit's unshuffled order: another path
    through the core to the weights after exactly `steps` steps."""
    model = make_model()
    for s in range(steps):
        first = (s % STEPS) * BATCH
        model.train_on_batch(X[first:first + BATCH], Y[first:first + BATCH])
    return model


class Raise(fc.callbacks.Callback):
    """Raises `error` in `hook` when its counter (global step, epoch or validation batch) reaches `at`."""

    def __init__(self, hook, at, error):
        super().__init__()
        self.hook, self.at, self.error = hook, at, error
        self.step = 0
        self.epoch = 0

    def overrides_batch_hooks(self):
        # Only a batch-hook interrupt makes fit step one batch at a time; the others run the
        # core's long stretches (a whole epoch per call), as a user's epoch-level callback does.
        return self.hook in ("batch_begin", "batch_end", "test_batch_end")

    def _maybe(self, hook, index):
        if hook == self.hook and index == self.at:
            raise self.error("interrupted by the test")

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self._maybe("epoch_begin", epoch)

    def on_epoch_end(self, epoch, logs=None):
        self._maybe("epoch_end", epoch)

    def on_train_batch_begin(self, batch, logs=None):
        self._maybe("batch_begin", self.step)

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        self._maybe("batch_end", self.step - 1)

    def on_test_begin(self, logs=None):
        self._maybe("test_begin", self.epoch)

    def on_test_batch_end(self, batch, logs=None):
        self._maybe("test_batch_end", self.epoch)


# (hook, at, steps finished when it raises, epochs finished (recorded in History) when it raises)
POINTS = [
    ("batch_begin", 0, 0, 0),
    ("batch_begin", 7, 7, 1),
    ("batch_end", 0, 1, 0),
    ("batch_end", 4, 5, 0),  # the last step of epoch 0: its epoch end never ran
    ("batch_end", 11, 12, 2),
    ("epoch_begin", 1, STEPS, 1),
    ("epoch_end", 0, STEPS, 0),  # user callbacks run before History, as in Keras
    ("epoch_end", 2, 3 * STEPS, 2),
    ("test_begin", 1, 2 * STEPS, 1),
    ("test_batch_end", 0, STEPS, 0),
]


@pytest.fixture(scope="module")
def uninterrupted():
    model = make_model()
    history = model.fit(X, Y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0,
                        validation_data=(XV, YV), validation_batch_size=4)
    return history.history


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
@pytest.mark.parametrize("hook, at, steps, epochs", POINTS)
def test_interrupt_keeps_the_last_finished_step(hook, at, steps, epochs, error, uninterrupted):
    model = make_model()
    with pytest.raises(error, match="interrupted by the test"):
        model.fit(X, Y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0, validation_data=(XV, YV),
                  validation_batch_size=4, callbacks=[Raise(hook, at, error)])
    reference = stepped(steps)
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert model.optimizer.iterations == steps
    # model.history: exactly the finished epochs, with the uninterrupted run's values
    assert model.history.epoch == list(range(epochs))
    assert model.history.history == ({k: v[:epochs] for k, v in uninterrupted.items()} if epochs else {})
    # the next fit works and continues from there, as the same steps by train_on_batch do
    history = model.fit(X, Y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    assert history.epoch == [0] and np.isfinite(history.history["loss"][0])
    for s in range(STEPS):
        reference.train_on_batch(X[s * BATCH:(s + 1) * BATCH], Y[s * BATCH:(s + 1) * BATCH])
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert model.optimizer.iterations == steps + STEPS


@pytest.mark.parametrize("call", ["evaluate", "predict"])
def test_interrupt_in_evaluate_or_predict_changes_nothing(call):
    model = make_model()
    before = model.get_weights()
    hook = "on_test_batch_end" if call == "evaluate" else "on_predict_end"
    stopper = fc.callbacks.LambdaCallback(**{hook: lambda *a: (_ for _ in ()).throw(KeyboardInterrupt())})
    args = (X, Y) if call == "evaluate" else (X,)
    with pytest.raises(KeyboardInterrupt):
        getattr(model, call)(*args, batch_size=BATCH, verbose=0, callbacks=[stopper])
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)
    assert model.evaluate(X, Y, verbose=0, return_dict=True)["loss"] > 0


# Launched from a shell without job control (nohup, `cmd &`), a child inherits SIGINT ignored and
# Python then installs no KeyboardInterrupt handler; the children put Python's own back first, as an
# interactive session has it, so these tests test fitcore wherever the suite is started from.
_PYTHONS_SIGINT = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"

_LONG_RUN = _PYTHONS_SIGINT + r"""
import sys, time
import numpy as np
import fitcore as fc
rng = np.random.default_rng(0)
x = rng.normal(size=(200_000, 64)).astype("float32"); y = rng.integers(0, 10, 200_000)
fc.utils.set_random_seed(0)
model = fc.Sequential([fc.Input((64,)), fc.layers.Dense(256, activation="relu"),
                       fc.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
call = {"fit": lambda: model.fit(x, y, batch_size=32, epochs=30, verbose=0),
        "evaluate": lambda: [model.evaluate(x, y, batch_size=32, verbose=0) for _ in range(20)],
        "predict": lambda: [model.predict(x, batch_size=32, verbose=0) for _ in range(20)]}[sys.argv[1]]
print("ready", flush=True)
try:
    call()
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", model.optimizer.iterations, flush=True)
    model.fit(x[:64], y[:64], batch_size=32, epochs=1, verbose=0)  # the model is still usable
    print("trained", model.optimizer.iterations, flush=True)
"""


@pytest.mark.parametrize("what", ["fit", "evaluate", "predict"])
def test_sigint_lands_within_a_second_in_fit_evaluate_and_predict(what):
    """Each core call runs about 0.2 s of whole steps, so SIGINT lands long before the run's end
    (several seconds) and the model trains on."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-c", _LONG_RUN, what], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        line = proc.stdout.readline().split()
        latency = time.perf_counter() - sent
        assert line[0] == "interrupted", line  # the run (several seconds of steps) had not finished
        assert latency < 1.5, latency  # 0.2 s core calls; margin for a busy machine
        trained = proc.stdout.readline().split()
        assert trained[0] == "trained" and int(trained[1]) == int(line[1]) + 2
    finally:
        proc.kill()
        proc.wait()


_STEPPING_FIT = _PYTHONS_SIGINT + textwrap.dedent("""
    import sys
    import numpy as np
    import fitcore as fc

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 32)).astype(np.float32)
    y = rng.normal(size=(2000, 2)).astype(np.float32)

    def model():
        fc.utils.set_random_seed(5)
        m = fc.Sequential([fc.Input((32,)), fc.layers.Dense(64, activation="relu"), fc.layers.Dense(2)])
        m.compile(optimizer="adam", loss="mse")
        return m

    m = model()
    ticks = fc.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: None)  # one core call per step
    started = fc.callbacks.LambdaCallback(on_train_begin=lambda logs: print("started", flush=True))
    try:
        m.fit(x, y, batch_size=16, epochs=10**6, shuffle=False, verbose=0, callbacks=[ticks, started])
    except KeyboardInterrupt:
        steps = int(m.optimizer.iterations)
        replay = model()  # exactly `steps` steps by another path
        for s in range(steps):
            first = (s % 125) * 16
            replay.train_on_batch(x[first:first + 16], y[first:first + 16])
        same = all(np.array_equal(a, b) for a, b in zip(m.get_weights(), replay.get_weights()))
        print("interrupted", steps, same, flush=True)
""")


@pytest.mark.parametrize("delay", [0.05, 0.3, 0.8])
def test_sigint_at_a_random_moment_leaves_whole_steps(tmp_path, delay):
    """A real Ctrl-C (SIGINT) at some moment of a fit whose callbacks see every step: the weights are
    exactly those of the steps the optimizer counted, never a half-applied update."""
    script = tmp_path / "stepping_fit.py"
    script.write_text(_STEPPING_FIT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(fc.__file__)), os.environ.get("PYTHONPATH", "")]))
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "started"
        time.sleep(delay)
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=60)
    finally:
        child.kill()
        child.wait()
    words = out.split()
    assert words[0] == "interrupted" and int(words[1]) > 0 and words[2] == "True", out

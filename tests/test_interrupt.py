"""Ctrl-C during fit / evaluate / predict with verbose=0 lands between core calls within a fraction
of a second (each core call runs about 0.2 s of whole steps), not at the end of the epoch, and
leaves a model that trains on."""
import os
import signal
import subprocess
import sys
import time

import pytest

SCRIPT = r"""
import sys, time
import numpy as np
import fitcore as fc
rng = np.random.default_rng(0)
x = rng.normal(size=(200_000, 64)).astype("float32"); y = rng.integers(0, 10, 200_000)
fc.utils.set_random_seed(0)
model = fc.Sequential([fc.Input((64,)), fc.layers.Dense(256, activation="relu"),
                       fc.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
call = {"fit": lambda: model.fit(x, y, batch_size=32, epochs=1, verbose=0),
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
def test_keyboard_interrupt_lands_within_a_fraction_of_a_second(what):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, what], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        line = proc.stdout.readline().split()
        latency = time.perf_counter() - sent
        assert line[0] == "interrupted", line  # the run (several seconds of steps) had not finished
        assert latency < 1.0, latency
        trained = proc.stdout.readline().split()
        assert trained[0] == "trained" and int(trained[1]) == int(line[1]) + 2
    finally:
        proc.kill()
        proc.wait()

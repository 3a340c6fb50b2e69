"""Soak (slow; `python -m pytest -m slow tests/test_soak.py -s` prints the figures): a thousand short fits
in one process do not grow its memory, and a fit over a memmapped file of a few GB keeps its own
(anonymous) memory bounded. Each runs in a child so the measurements are its own."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

import fitcore as fc

pytestmark = pytest.mark.slow

_STATUS = textwrap.dedent("""
    def status_kb(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
""")

_MANY_FITS = _STATUS + textwrap.dedent("""
    import gc, json, sys, tempfile, os
    import numpy as np
    import fitcore as fc

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype(np.float32)
    y = rng.integers(0, 3, size=64)
    path = os.path.join(tempfile.mkdtemp(), "w.weights.npz")

    def one_fit(i):
        model = fc.Sequential([fc.Input((8,)), fc.layers.Dense(16, activation="relu"),
                               fc.layers.Dense(3, activation="softmax")])
        model.compile(optimizer=("adam", "sgd", "rmsprop")[i % 3], loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(x, y, batch_size=16, epochs=2, validation_split=0.25, verbose=0,
                  callbacks=[fc.callbacks.EarlyStopping(monitor="loss", patience=1)])
        model.evaluate(x, y, verbose=0)
        model.predict(x, verbose=0)
        model.save_weights(path)
        model.load_weights(path)
        try:
            model.fit(x, y + 7, verbose=0)  # an error path too
        except ValueError:
            pass

    warmup, count = int(sys.argv[1]), int(sys.argv[2])
    for i in range(warmup):
        one_fit(i)
    gc.collect()
    before = status_kb("VmRSS")
    for i in range(count):
        one_fit(i)
    gc.collect()
    after = status_kb("VmRSS")
    print(json.dumps({"fits": count, "rss_before_kb": before, "rss_after_kb": after}))
""")

_MEMMAP_FIT = _STATUS + textwrap.dedent("""
    import json, sys, threading, time
    import numpy as np
    import fitcore as fc

    path, rows, width = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open(path, "wb") as f:
        f.truncate(rows * width * 4)  # sparse: created at once, reads as zeros
    x = np.memmap(path, dtype=np.float32, mode="r", shape=(rows, width))
    y = np.zeros((rows, 1), np.float32)
    peaks = {"RssAnon": 0, "RssFile": 0, "VmRSS": 0}
    done = threading.Event()

    def sample():  # the core releases the GIL, so this thread sees the fit's memory as it runs
        while not done.is_set():
            for k in peaks:
                peaks[k] = max(peaks[k], status_kb(k))
            time.sleep(0.02)

    base = {k: status_kb(k) for k in peaks}
    sampler = threading.Thread(target=sample)
    sampler.start()
    model = fc.Sequential([fc.Input((width,)), fc.layers.Dense(4, activation="relu"), fc.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    started = time.time()
    history = model.fit(x, y, batch_size=4096, epochs=1, verbose=0)
    seconds = time.time() - started
    done.set()
    sampler.join()
    print(json.dumps({"file_gb": rows * width * 4 / 2**30, "seconds": seconds, "base_kb": base, "peak_kb": peaks,
                      "loss": history.history["loss"][-1]}))
""")


def _run(tmp_path, script, *args, timeout=1800):
    path = tmp_path / "child.py"
    path.write_text(script)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(fc.__file__)), os.environ.get("PYTHONPATH", "")]))
    child = subprocess.run([sys.executable, str(path), *map(str, args)], capture_output=True, text=True,
                           timeout=timeout, env=env)
    assert child.returncode == 0, child.stderr[-3000:]
    result = json.loads(child.stdout.strip().splitlines()[-1])
    print(json.dumps(result))
    return result


def test_a_thousand_fits_do_not_grow_memory(tmp_path):
    result = _run(tmp_path, _MANY_FITS, 100, 1000)
    growth_mb = (result["rss_after_kb"] - result["rss_before_kb"]) / 1024
    assert growth_mb < 8, result  # a leak of even 8 KB per fit would show as 8 MB


def test_fit_over_a_memmapped_file_of_gigabytes_keeps_anonymous_memory_bounded(tmp_path):
    rows, width = 3 * 2**20, 256  # 3 GiB of float32
    result = _run(tmp_path, _MEMMAP_FIT, tmp_path / "x.f32", rows, width)
    anon_mb = (result["peak_kb"]["RssAnon"] - result["base_kb"]["RssAnon"]) / 1024
    # Memory the process owns stays far below the file (no copy of x); pages of the mapped file
    # itself (RssFile) are the page cache's, reclaimable, and reported in the figures.
    assert anon_mb < 512, result

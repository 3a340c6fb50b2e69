"""fit / evaluate / predict on an np.memmap read it batch by batch: peak memory stays far below
the file's size.

Measured as the peak of RssAnon (anonymous resident memory, from /proc/self/status) above the
level before fit, sampled every millisecond by a thread in a fresh process. Anonymous memory is
what copies of the data would occupy; ru_maxrss / VmHWM would also count the file's pages mapped
from the page cache, which are the file itself (evictable, shared), not the process loading it.
The same measurement on the array loaded whole shows it sees a copy when there is one.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

ROWS, COLS = 600_000, 128  # 307 MB of float32

SCRIPT = r"""
import sys, threading, time
import numpy as np
import fitcore as fc

def rss_anon():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024

x = np.load(sys.argv[1], mmap_mode="r")
base = rss_anon()
if sys.argv[2] == "whole":
    x = np.array(x)
y = (np.arange(len(x)) % 2).astype("float32")
fc.utils.set_random_seed(0)
model = fc.Sequential([fc.Input((x.shape[1],)), fc.layers.Dense(8, activation="relu"),
                       fc.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.predict(x[:2], verbose=0)
peak, done = [base], [False]

def sample():
    while not done[0]:
        peak[0] = max(peak[0], rss_anon())
        time.sleep(0.001)

thread = threading.Thread(target=sample)
thread.start()
history = model.fit(x, y, batch_size=2048, epochs=1, validation_split=0.1, verbose=0)
model.evaluate(x, y, batch_size=4096, verbose=0)
out = model.predict(x, batch_size=4096, verbose=0)
done[0] = True
thread.join()
peak[0] = max(peak[0], rss_anon())
print(peak[0] - base, model.optimizer.iterations, out.shape[0], history.history["val_loss"][0])
"""


def _run(path, mode):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(path), mode], capture_output=True, text=True, env=env,
                         check=True).stdout.split()
    return int(out[0]), int(out[1]), int(out[2]), float(out[3])


def write_file(path):
    x = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(ROWS, COLS))
    rng = np.random.default_rng(0)
    for first in range(0, ROWS, 50_000):  # written in slices: the test process stays small too
        x[first:first + 50_000] = rng.standard_normal((min(50_000, ROWS - first), COLS), dtype=np.float32)
    x.flush()
    return path


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = write_file(tmp_path_factory.mktemp("memmap") / "x.npy")
    yield path
    path.unlink()


@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="under tools/sanitize ASan's allocator keeps freed memory in quarantine (256 MB), so "
                           "resident memory is not the program's; the normal run measures it")
def test_memmap_training_keeps_peak_memory_far_below_the_file_size(big_file):
    size = os.path.getsize(big_file)
    assert size > 300e6
    peak, iterations, predicted, val_loss = _run(big_file, "lazy")
    assert iterations == int(np.ceil(ROWS * 0.9 / 2048)) and predicted == ROWS and np.isfinite(val_loss)
    assert peak < size / 10, f"peak anonymous memory {peak / 1e6:.1f} MB for a {size / 1e6:.0f} MB file"
    whole_peak = _run(big_file, "whole")[0]
    assert whole_peak > size * 0.9  # the measurement does see a loaded copy


if __name__ == "__main__":  # prints the figures: python tests/test_memmap_memory.py
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = write_file(Path(tmp) / "x.npy")
        for mode in ("lazy", "whole"):
            print(f"{mode}: file {os.path.getsize(path) / 1e6:.0f} MB, peak RssAnon above start "
                  f"{_run(path, mode)[0] / 1e6:.1f} MB")

"""A quick side-by-side run of BENCHMARKS.md's reference workload: fitcore and Keras 3 (JAX backend),
each in its own process, alternating. Usage: python bench/reference_quick.py [--batch-sizes 32 256]
(bench/peers.py, for issue 6, is the full harness with every peer and the sgemm ceiling)."""
import argparse
import os
import subprocess
import sys
import time

import numpy as np

SAMPLES = 30000


def reference_data():
    rng = np.random.default_rng(0)
    x = rng.random((SAMPLES, 784), dtype=np.float32)
    w = rng.standard_normal((784, 10))
    return x, np.argmax(x @ w, axis=1)


def worker(peer, batch_size):
    if peer == "keras-jax":
        os.environ["KERAS_BACKEND"] = "jax"
        import keras as api
    else:
        import fitcore as api
    x, y = reference_data()
    model = api.Sequential([api.Input((784,)), api.layers.Dense(256, activation="relu"),
                            api.layers.Dense(256, activation="relu"), api.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=api.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)  # warm-up epoch
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    print(SAMPLES / (time.perf_counter() - start))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--worker", nargs=2, metavar=("PEER", "BATCH"))
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker[0], int(args.worker[1]))
    for batch_size in args.batch_sizes:
        rates = {"fitcore": [], "keras-jax": []}
        for _ in range(args.repeats):
            for peer in rates:
                run = subprocess.run([sys.executable, __file__, "--worker", peer, str(batch_size)],
                                     capture_output=True, text=True)
                if run.returncode == 0:
                    rates[peer].append(float(run.stdout.strip().splitlines()[-1]))
                else:
                    print(f"{peer}: skipped ({run.stderr.strip().splitlines()[-1] if run.stderr else 'failed'})")
        medians = {p: float(np.median(r)) for p, r in rates.items() if r}
        line = "  ".join(f"{p} {m:,.0f}/s" for p, m in medians.items())
        ratio = (f"  fitcore/keras-jax {medians['fitcore'] / medians['keras-jax']:.2f}x"
                 if len(medians) == 2 else "")
        print(f"batch {batch_size}: {line}{ratio}")


if __name__ == "__main__":
    main()

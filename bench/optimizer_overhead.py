"""What clipping and weight decay add to a training step: CPU time per step (process time, so a
busy machine inflates it less than wall time) of a 1.05M-parameter MLP at batch size 8, where the
optimizer's sweeps are a large share of the step. Usage: OMP_NUM_THREADS=1 python bench/optimizer_overhead.py"""
import time

import numpy as np

import fitcore as fc

CASES = {
    "adam": lambda: fc.optimizers.Adam(),
    "adamw (weight_decay)": lambda: fc.optimizers.AdamW(),
    "adam clipnorm": lambda: fc.optimizers.Adam(clipnorm=1.0),
    "adam global_clipnorm": lambda: fc.optimizers.Adam(global_clipnorm=1.0),
    "adam clipvalue": lambda: fc.optimizers.Adam(clipvalue=1.0),
}


def main(steps=64, repeats=5):
    rng = np.random.default_rng(0)
    x, y = rng.random((steps * 8, 512), dtype=np.float32), rng.random((steps * 8, 512), dtype=np.float32)
    for name, make in CASES.items():
        model = fc.Sequential([fc.Input((512,)), fc.layers.Dense(1024), fc.layers.Dense(512)])
        model.compile(optimizer=make(), loss="mse")
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)  # warm up
        best = float("inf")
        for _ in range(repeats):
            started = time.process_time()
            model.fit(x, y, batch_size=8, epochs=1, verbose=0)
            best = min(best, time.process_time() - started)
        print(f"{name:22s} {best / steps * 1e3:6.3f} ms CPU per step")


if __name__ == "__main__":
    main()

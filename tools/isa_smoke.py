"""Run by tools/check-isa under an emulated CPU: the widest level must be the expected one, and every
level up to it must compute GEMMs and a short fit like numpy. Usage: isa_smoke.py EXPECTED_LEVEL"""
import sys

import numpy as np

import fitcore as fc


def main(expected):
    assert fc.config.supported_isa() == expected, (fc.config.supported_isa(), expected)
    rng = np.random.default_rng(0)
    levels = fc.config.ISA_LEVELS[:fc.config.ISA_LEVELS.index(expected) + 1]
    for level in levels:
        fc.config.set_isa(level)
        for m, k, n in [(1, 1, 1), (7, 257, 17), (13, 300, 129), (200, 40, 70)]:
            a, b = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)
            c = np.empty((m, n), np.float32)
            fc._core.gemm(a, b.T.copy().T, c, False)
            want = a.astype(np.float64) @ b
            bound = (k + 2) * np.finfo(np.float32).eps * (np.abs(a) @ np.abs(b)).astype(np.float64)
            assert (np.abs(c - want) <= bound).all(), (level, m, k, n)
        fc.utils.set_random_seed(1)
        model = fc.Sequential([fc.Input((30,)), fc.layers.Dense(70, activation="relu"), fc.layers.Dense(3)])
        model.compile(optimizer="adam", loss="mse")
        x, y = rng.standard_normal((256, 30), dtype=np.float32), rng.standard_normal((256, 3), dtype=np.float32)
        loss = model.fit(x, y, batch_size=64, epochs=2, verbose=0).history["loss"]
        assert np.isfinite(loss).all() and loss[1] < loss[0], (level, loss)
    print(f"isa_smoke: supported {expected}; levels {', '.join(levels)} match numpy and train")


if __name__ == "__main__":
    main(sys.argv[1])

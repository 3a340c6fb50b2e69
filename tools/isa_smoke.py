"""Run by tools/check-isa under an emulated CPU: the widest level must be the expected one, and every
level up to it must compute GEMMs and a short fit like numpy, draw GaussianNoise's normals as the scalar
generator does, and train with RMSprop, Adagrad and gradient clipping. Usage: isa_smoke.py EXPECTED_LEVEL"""
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
        # GaussianNoise's vector draws are the scalar generator's bits; the other optimizer and
        # clipping sweeps train.
        noise = fc._core._gaussian_noise(12345, 2**40, 1.0, np.zeros(1001, np.float32))
        assert (noise.view(np.uint32) == fc._core._standard_normal(12345, 2**40, 1001).view(np.uint32)).all(), level
        for optimizer in (fc.optimizers.RMSprop(0.01, momentum=0.5, centered=True, clipnorm=1.0),
                          fc.optimizers.Adagrad(0.1, clipvalue=0.5), fc.optimizers.SGD(0.01, global_clipnorm=1.0)):
            fc.utils.set_random_seed(1)
            model = fc.Sequential([fc.Input((30,)), fc.layers.GaussianNoise(0.1), fc.layers.Dense(3)])
            model.compile(optimizer=optimizer, loss="mse")
            loss = model.fit(x, y, batch_size=64, epochs=2, verbose=0).history["loss"]
            assert np.isfinite(loss).all() and loss[1] < loss[0], (level, type(optimizer).__name__, loss)
    print(f"isa_smoke: supported {expected}; levels {', '.join(levels)} match numpy and train")


if __name__ == "__main__":
    main(sys.argv[1])

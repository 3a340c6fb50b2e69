"""Data-parallel training over MPI: the same script in one process or in K, with the same History.

    pip install "fitcore[mpi]"
    python examples/train_data_parallel.py                 # one process
    mpiexec -n 2 python examples/train_data_parallel.py    # two processes, one model

Each process computes its part of every global batch of 256 (with the Dropout and
BatchNormalization a single process would apply to those rows), the gradients are summed over the
processes once per step, and every process applies the same update; process 0 prints the progress
and the History, the one-process History to float rounding. (Sums over a batch split in two are
added in another order, so their last bits differ; over hundreds of steps such a difference can
turn a ReLU on for one sample and the two runs drift apart as any two runs differing in the last
bit would, the more the larger the learning rate.)
"""
import numpy as np

import fitcore as fc


def main(samples=20000, epochs=3):
    fc.distribution.set_distribution(fc.distribution.DataParallel())
    dist = fc.distribution.distribution()
    fc.utils.set_random_seed(42)

    # Every process makes the same synthetic data (a file or memmap works the same way: each
    # process reads only its rows of each batch).
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, 64)).astype(np.float32)
    y = np.argmax(x @ rng.normal(size=(64, 10)), axis=1)

    model = fc.Sequential([
        fc.Input((64,)),
        fc.layers.Dense(256, activation="relu"),
        fc.layers.BatchNormalization(),
        fc.layers.Dropout(0.2),
        fc.layers.Dense(256, activation="relu"),
        fc.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=fc.optimizers.SGD(0.01, momentum=0.9), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=256, epochs=epochs, validation_split=0.1, verbose=2)
    if dist.is_chief:
        print(f"processes: {dist.num_processes}")
        for name, values in history.history.items():
            print(f"{name}: {' '.join(f'{v:.4f}' for v in values)}")


if __name__ == "__main__":
    main()

"""Scenarios of tests/test_data_parallel.py, run as a script: `python data_parallel_scenarios.py
NAME OUT.json`, in one process or under `mpiexec -n K`. Each writes process 0's results (History,
weights, evaluate / predict outputs) as JSON, so the test compares a K-process run with one
process. Every process computes its own part of a batch from the distribution it is in, so the same
script is the one-process reference when K = 1."""
import json
import sys

import numpy as np

import fitcore as fc

fc.distribution.set_distribution(fc.distribution.DataParallel())
DIST = fc.distribution.distribution()
RANK, SIZE = DIST.data_shard_id, DIST.num_processes


def data(n, features=12, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = (x[:, :3].sum(1) + 0.3 * rng.normal(size=n) > 0).astype(np.int64)
    return x, y


def classifier(features=12):
    fc.utils.set_random_seed(7)
    return fc.Sequential([fc.Input((features,)), fc.layers.Dense(24, activation="relu"),
                          fc.layers.BatchNormalization(), fc.layers.Dropout(0.3),
                          fc.layers.Dense(16, activation="tanh"), fc.layers.GaussianNoise(0.1),
                          fc.layers.Dense(2, activation="softmax")])


def my_part(rows):
    """This process's rows of a batch of `rows`, as the core splits it."""
    return slice(rows * RANK // SIZE, rows * (RANK + 1) // SIZE)


def sequential_arrays():
    # 517 rows at batch 64: the last batch has 5 rows; with validation_split the training part has
    # 413 = 6 * 64 + 29, and the validation part 104 rows (a last batch of 40).
    x, y = data(517)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, size=517).astype(np.float32)
    model = classifier()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], weighted_metrics=[fc.metrics.SparseCategoricalAccuracy(name="wacc")])
    history = model.fit(x, y, batch_size=64, epochs=3, validation_split=0.2, sample_weight=sw,
                        class_weight={0: 1.0, 1: 1.5}, verbose=0)
    evaluation = model.evaluate(x, y, batch_size=50, verbose=0, return_dict=True)
    return {"history": history.history, "evaluate": evaluation,
            "predict": model.predict(x[:40], verbose=0).tolist(), "weights": flat(model)}


def one_row_batches():
    # 129 rows at batch 64: a last batch of one row, which process 0 has no part of with K = 2.
    x, y = data(129)
    model = classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=64, epochs=2, shuffle=False, verbose=0)
    return {"history": history.history, "weights": flat(model)}


def functional_two_outputs():
    fc.utils.set_random_seed(3)
    a, b = fc.Input((12,), name="a"), fc.Input((5,), name="b")
    h = fc.layers.concatenate([fc.layers.Dense(16, activation="gelu")(a), b])
    h = fc.layers.BatchNormalization()(h)
    out_class = fc.layers.Dense(3, activation="softmax", name="cls")(fc.layers.Dropout(0.2)(h))
    out_reg = fc.layers.Dense(1, name="reg")(h)
    model = fc.Model([a, b], [out_class, out_reg])
    model.compile(optimizer=fc.optimizers.SGD(0.05, momentum=0.9), loss=["sparse_categorical_crossentropy", "mse"],
                  loss_weights=[1.0, 0.5], metrics={"cls": ["accuracy"], "reg": ["mae", fc.metrics.RootMeanSquaredError(name="rmse")]})
    x, y = data(300)
    xb = np.random.default_rng(5).normal(size=(300, 5)).astype(np.float32)
    y3 = (y + (x[:, 4] > 0.5)).astype(np.int64)
    reg = x[:, :2].sum(1, keepdims=True)
    history = model.fit({"a": x, "b": xb}, [y3, reg], batch_size=32, epochs=2, steps_per_epoch=12,
                        validation_data=({"a": x[:90], "b": xb[:90]}, [y3[:90], reg[:90]]), verbose=0)
    return {"history": history.history, "weights": flat(model)}


def memmap_input(path):
    # 385 rows at batch 48: a last batch of one row, so process 0 reads no rows of it.
    x, y = data(385)
    xm = np.lib.format.open_memmap(path + ".x.npy", mode="w+" if RANK == 0 else "r", dtype=np.float32,
                                   shape=x.shape) if RANK == 0 else None
    if RANK == 0:
        xm[:] = x
        xm.flush()
    DIST.broadcast(None) if SIZE > 1 else None  # the file is written before any process opens it
    xm = np.load(path + ".x.npy", mmap_mode="r")
    model = classifier()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(xm, y, batch_size=48, epochs=2, validation_data=(xm[:100], y[:100]), verbose=0)
    return {"history": history.history, "evaluate": model.evaluate(xm, y, batch_size=64, verbose=0),
            "weights": flat(model)}


def binary_confusion_metrics():
    x, y = data(333)
    fc.utils.set_random_seed(11)
    model = fc.Sequential([fc.Input((12,)), fc.layers.Dense(8, activation="silu"), fc.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=[fc.metrics.AUC(name="auc"), fc.metrics.Precision(name="p"), fc.metrics.Recall(name="r"),
                           fc.metrics.TruePositives(name="tp"), "binary_accuracy"])
    history = model.fit(x, y.astype(np.float32), batch_size=40, epochs=2, validation_split=0.25, verbose=0)
    return {"history": history.history, "weights": flat(model)}


def per_process_streams():
    x, y = data(256)

    def batches():  # each process yields its part of every global batch of 32
        for first in range(0, 256, 32):
            part = slice(first + my_part(32).start, first + my_part(32).stop)
            yield x[part], y[part]

    model = classifier()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(list(batches()), epochs=2, validation_data=list(batches())[:3], verbose=0)
    class Parts(fc.utils.PyDataset):  # batch i: this process's part of global batch i of 48
        def __len__(self):
            return 5

        def __getitem__(self, i):
            rows = slice(48 * i + 48 * self.data_shard_id // self.num_processes,
                         48 * i + 48 * (self.data_shard_id + 1) // self.num_processes)
            return x[rows], y[rows]

    more = model.fit(Parts(), epochs=2, shuffle=True, verbose=0)
    mine = my_part(64)
    on_batch = model.train_on_batch(x[:64][mine], y[:64][mine], return_dict=True)
    tested = model.test_on_batch(x[64:128][mine], y[64:128][mine], return_dict=True)
    return {"history": history.history, "py_dataset": more.history, "train_on_batch": on_batch, "test_on_batch": tested,
            "weights": flat(model)}


def flat(model):
    return [float(v) for w in model.get_weights() for v in np.ravel(w)]


if __name__ == "__main__":
    name, out = sys.argv[1], sys.argv[2]
    result = globals()[name](out) if name == "memmap_input" else globals()[name]()
    if RANK == 0:
        with open(out, "w") as f:
            json.dump(result, f)

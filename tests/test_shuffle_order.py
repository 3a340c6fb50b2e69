"""The order fit visits the rows in, seen from outside: with a zero model trained at learning rate
0 and one row per step, row i's loss is (i + 1)^2, so the running mean a batch hook receives gives
away which row each step trained on. A shuffled fit must visit every row once per pass in a new
order each epoch; shuffle=False keeps 0, 1, 2, ...; every data path (arrays the core batches,
memmaps read batch by batch, the step-by-step run of a Python metric) visits the same order."""
import numpy as np
import pytest

import fitcore as fc

N = 12


class StepRows(fc.callbacks.Callback):
    """The row each training step used, per epoch, decoded from the running mean of the loss."""

    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.means = []
        self.epochs.append([])

    def on_train_batch_end(self, batch, logs=None):
        self.means.append(logs["loss"])
        k = len(self.means)
        step_loss = k * self.means[-1] - (k - 1) * (self.means[-2] if k > 1 else 0.0)
        self.epochs[-1].append(int(round(np.sqrt(step_loss))) - 1)


def zero_model(metrics=()):
    model = fc.Sequential([fc.Input((1,)), fc.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer=fc.optimizers.SGD(0.0), loss="mse", metrics=list(metrics))
    return model


def rows_visited(x, epochs=3, metrics=(), **kwargs):
    fc.utils.set_random_seed(11)
    rows = StepRows()
    y = np.arange(1, N + 1, dtype=np.float32).reshape(-1, 1)
    zero_model(metrics).fit(x, y, batch_size=1, epochs=epochs, verbose=0, callbacks=[rows], **kwargs)
    return rows.epochs


def test_the_probe_sees_the_rows_in_order_without_shuffle():
    for order in rows_visited(np.zeros((N, 1), np.float32), shuffle=False):
        assert order == list(range(N))


def test_a_shuffled_fit_visits_every_row_once_in_a_new_order_each_epoch():
    orders = rows_visited(np.zeros((N, 1), np.float32), epochs=4, shuffle=True)
    for order in orders:
        assert sorted(order) == list(range(N))
    assert len({tuple(o) for o in orders}) == 4  # the permutation depends on the epoch
    assert all(order != list(range(N)) for order in orders)


def test_passes_that_continue_across_epochs_reshuffle_at_each_new_pass():
    orders = rows_visited(np.zeros((N, 1), np.float32), epochs=2, shuffle=True, steps_per_epoch=18)
    steps = orders[0] + orders[1]  # 36 steps: three passes over the 12 rows
    passes = [steps[:N], steps[N:2 * N], steps[2 * N:]]
    assert all(sorted(p) == list(range(N)) for p in passes)
    assert len({tuple(p) for p in passes}) == 3


def test_every_data_path_visits_the_cores_order(tmp_path):
    x = np.zeros((N, 1), np.float32)
    in_core = rows_visited(x, shuffle=True)
    mapped = np.lib.format.open_memmap(str(tmp_path / "x.npy"), mode="w+", dtype=np.float32, shape=(N, 1))
    assert rows_visited(mapped, shuffle=True) == in_core

    def row_metric(y_true, y_pred):  # a Python metric: the run goes step by step in Python
        return np.zeros(len(y_true))

    assert rows_visited(x, shuffle=True, metrics=[row_metric]) == in_core
    assert rows_visited(x, shuffle=False, metrics=[row_metric]) == [list(range(N))] * 3


def test_a_shuffled_pydataset_visits_its_batches_in_a_new_order_each_epoch():
    class Rows(fc.utils.PyDataset):
        def __len__(self):
            return N

        def __getitem__(self, i):
            return np.zeros((1, 1), np.float32), np.full((1, 1), i + 1.0, np.float32)

    rows = StepRows()
    fc.utils.set_random_seed(5)
    zero_model().fit(Rows(), epochs=3, shuffle=True, verbose=0, callbacks=[rows])
    assert all(sorted(o) == list(range(N)) for o in rows.epochs) and len({tuple(o) for o in rows.epochs}) == 3
    rows = StepRows()
    zero_model().fit(Rows(), epochs=2, shuffle=False, verbose=0, callbacks=[rows])
    assert rows.epochs == [list(range(N))] * 2

"""fit()'s arguments from the reference page, for arrays and for streamed data (generators,
datasets, PyDataset): each against a reference computed another way (train_on_batch step by step,
evaluate on the matching samples, numpy by hand)."""
import itertools
import math
import warnings

import numpy as np
import pytest
from reference import per_element_loss, reduced_loss

import fitcore as fc

RNG = np.random.default_rng(31)
N, BATCH = 40, 8
X = RNG.normal(size=(N, 4)).astype(np.float32)
Y = ((X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)).astype(np.int64)


def _model(optimizer="sgd", seed=2):
    fc.utils.set_random_seed(seed)
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(5, activation="tanh"),
                           fc.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _batches(x=X, y=Y, size=BATCH, w=None):
    return [(x[i:i + size], y[i:i + size]) + (() if w is None else (w[i:i + size],)) for i in range(0, len(x), size)]


def _assert_weights_equal(a, b):
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v)


class CountBatches(fc.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.train, self.test = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.train.append((batch, dict(logs)))

    def on_test_batch_end(self, batch, logs=None):
        self.test.append(batch)


def test_x_and_y_streamed_targets_come_from_the_yielded_tuples():
    model = _model()
    model.fit(iter(_batches()), epochs=1, verbose=0)
    want = _model()
    want.fit(X, Y, batch_size=BATCH, shuffle=False, epochs=1, verbose=0)
    _assert_weights_equal(model, want)


def test_batch_size_is_the_rows_of_each_step():
    model = _model()
    history = model.fit(X, Y, batch_size=7, shuffle=False, epochs=1, verbose=0)
    assert history.params["steps"] == math.ceil(N / 7)
    stepped = _model()
    for i in range(0, N, 7):
        stepped.train_on_batch(X[i:i + 7], Y[i:i + 7])
    _assert_weights_equal(model, stepped)
    assert _model().fit(X, Y, epochs=1, verbose=0).params["steps"] == math.ceil(N / 32)  # default 32


def test_epochs_and_initial_epoch_with_a_generator():
    looping = itertools.cycle(_batches())
    model = _model()
    history = model.fit(looping, epochs=4, initial_epoch=2, steps_per_epoch=5, verbose=0)
    assert history.epoch == [2, 3] and history.params["epochs"] == 4
    assert model.optimizer.iterations == 10


def test_callbacks_see_every_streamed_batch_with_running_logs():
    seen = CountBatches()
    model = _model()
    history = model.fit(_batches(), epochs=2, callbacks=[seen], verbose=0)
    assert [b for b, _ in seen.train] == list(range(5)) * 2
    assert seen.train[-1][1]["loss"] == history.history["loss"][-1]


def test_validation_split_takes_the_last_samples_and_class_weight_stays_off_them():
    model = _model(optimizer=fc.optimizers.SGD(0.0))
    history = model.fit(X, Y, batch_size=BATCH, validation_split=0.25, class_weight={0: 5.0, 2: 0.5}, verbose=0)
    plain = model.evaluate(X[30:], Y[30:], batch_size=BATCH, verbose=0, return_dict=True)
    assert history.history["val_loss"][0] == pytest.approx(plain["loss"], rel=1e-6)
    weights = np.where(Y[:30] == 0, 5.0, np.where(Y[:30] == 2, 0.5, 1.0))
    trained = model.evaluate(X[:30], Y[:30], sample_weight=weights, verbose=0, return_dict=True)
    assert history.history["loss"][0] == pytest.approx(trained["loss"], rel=1e-6)


class Val(fc.utils.PyDataset):
    def __len__(self):
        return 3

    def __getitem__(self, i):
        return X[i * 10:(i + 1) * 10], Y[i * 10:(i + 1) * 10]


@pytest.mark.parametrize("make", [
    lambda: (X[:30], Y[:30]),
    lambda: iter(_batches(X[:30], Y[:30], 10)),
    lambda: _batches(X[:30], Y[:30], 10),
    lambda: Val(),
], ids=["tuple", "generator", "list-of-batches", "PyDataset"])
def test_validation_data_of_every_kind(make):
    model = _model(optimizer=fc.optimizers.SGD(0.0))  # weights stay: validation is comparable
    history = model.fit(X, Y, epochs=1, validation_data=make(), verbose=0)
    want = model.evaluate(X[:30], Y[:30], batch_size=10, verbose=0, return_dict=True)
    assert history.history["val_loss"][0] == pytest.approx(want["loss"], rel=1e-6)
    assert history.history["val_accuracy"][0] == pytest.approx(want["accuracy"])


def test_shuffle_is_ignored_for_generators_and_reshuffles_arrays():
    a, b = _model(), _model()
    a.fit(iter(_batches()), shuffle=True, verbose=0)
    b.fit(iter(_batches()), shuffle=False, verbose=0)
    _assert_weights_equal(a, b)
    c, d = _model(), _model()
    c.fit(X, Y, batch_size=BATCH, shuffle=True, verbose=0)
    d.fit(X, Y, batch_size=BATCH, shuffle=False, verbose=0)
    assert not np.array_equal(c.get_weights()[0], d.get_weights()[0])


CLASS_WEIGHT = {0: 2.0, 1: 0.25}  # class 2 unlisted: weight 1


def _class_weights(labels):
    return np.array([CLASS_WEIGHT.get(int(c), 1.0) for c in labels])


def test_class_weight_for_arrays_and_streams_multiplied_into_sample_weight():
    sw = RNG.uniform(0.5, 1.5, size=N)
    want = _model()
    want.fit(X, Y, batch_size=BATCH, shuffle=False, sample_weight=_class_weights(Y) * sw, verbose=0)
    arrays = _model()
    arrays.fit(X, Y, batch_size=BATCH, shuffle=False, sample_weight=sw, class_weight=CLASS_WEIGHT, verbose=0)
    streamed = _model()
    streamed.fit(iter(_batches(w=sw)), class_weight=CLASS_WEIGHT, verbose=0)
    for model in (arrays, streamed):
        for u, v in zip(model.get_weights(), want.get_weights()):
            np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-7)


def test_class_weight_reads_one_hot_targets_by_argmax():
    onehot = np.eye(3, dtype=np.float32)[Y]
    fc.utils.set_random_seed(4)
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=fc.optimizers.SGD(0.0), loss="categorical_crossentropy")
    history = model.fit(_batches(y=onehot), class_weight=CLASS_WEIGHT, verbose=0)
    probs = model.predict(X, verbose=0).astype(np.float64)
    want = reduced_loss(per_element_loss("categorical_crossentropy", probs, onehot), _class_weights(Y))
    assert history.history["loss"][0] == pytest.approx(want, rel=1e-5)


def test_sample_weight_per_timestep_for_arrays_and_streams():
    x = RNG.normal(size=(12, 5, 3)).astype(np.float32)
    y = RNG.normal(size=(12, 5, 2)).astype(np.float32)
    w = RNG.uniform(0, 2, size=(12, 5))
    fc.utils.set_random_seed(6)
    model = fc.Sequential([fc.Input((5, 3)), fc.layers.Dense(2)])
    model.compile(optimizer=fc.optimizers.SGD(0.0), loss="mse")
    pred = model.predict(x, verbose=0).astype(np.float64)
    want = reduced_loss(per_element_loss("mean_squared_error", pred, y), w)
    history = model.fit(x, y, batch_size=12, sample_weight=w, verbose=0)
    assert history.history["loss"][0] == pytest.approx(want, rel=1e-5)
    streamed = model.fit(iter([(x[:6], y[:6], w[:6]), (x[6:], y[6:], w[6:])]), verbose=0)
    assert streamed.history["loss"][0] == pytest.approx(want, rel=1e-5)


def test_steps_per_epoch_continues_a_generator_across_epochs():
    seen = []

    def numbered():
        for i in itertools.count():
            seen.append(i)
            yield X[i % 5 * BATCH:(i % 5 + 1) * BATCH], Y[i % 5 * BATCH:(i % 5 + 1) * BATCH]

    model = _model()
    history = model.fit(numbered(), epochs=3, steps_per_epoch=4, verbose=0)
    assert seen == list(range(12)) and history.params["steps"] == 4
    want = _model()
    for i in range(12):
        want.train_on_batch(*_batches()[i % 5])
    _assert_weights_equal(model, want)


def test_steps_per_epoch_on_a_re_iterable_restarts_it_after_a_whole_pass():
    data = _batches()
    model = _model()
    model.fit(data, epochs=2, steps_per_epoch=5, verbose=0)
    assert model.optimizer.iterations == 10
    want = _model()
    want.fit(data, epochs=2, verbose=0)
    _assert_weights_equal(model, want)


@pytest.mark.parametrize("make, steps, epochs, done", [
    (lambda: iter(_batches()), 3, 3, 5),       # one-shot: 3 + 2 steps, then nothing
    (lambda: iter(_batches()), None, 2, 5),     # the second epoch finds the generator used up
])
def test_data_that_runs_out_stops_training_with_a_warning_naming_steps_per_epoch(make, steps, epochs, done):
    model = _model()
    with pytest.warns(UserWarning, match="steps_per_epoch") as record:
        history = model.fit(make(), epochs=epochs, steps_per_epoch=steps, verbose=0)
    assert "ran out" in str(record[0].message)
    assert model.optimizer.iterations == done
    assert len(history.history["loss"]) == (2 if steps == 3 else 1)


class StopAfter(fc.callbacks.Callback):
    def __init__(self, steps):
        super().__init__()
        self.steps = steps

    def on_train_batch_end(self, batch, logs=None):
        if batch + 1 == self.steps:
            self.model.stop_training = True


@pytest.mark.parametrize("make", [lambda: itertools.cycle(_batches()), lambda: (X, Y)], ids=["generator", "arrays"])
def test_steps_per_epoch_minus_one_runs_until_stop_training(make):
    data = make()
    kwargs = dict(x=data[0], y=data[1], batch_size=BATCH) if isinstance(data, tuple) else dict(x=data)
    model = _model()
    history = model.fit(epochs=3, steps_per_epoch=-1, callbacks=[StopAfter(13)], verbose=0, **kwargs)
    assert model.optimizer.iterations == 13 and len(history.history["loss"]) == 1


def test_validation_steps_restart_a_re_iterable_and_replay_a_generator():
    model = _model(optimizer=fc.optimizers.SGD(0.0))
    history = model.fit(X, Y, epochs=2, validation_data=_batches(), validation_steps=2, verbose=0)
    first_two = model.evaluate(X[:16], Y[:16], batch_size=BATCH, verbose=0, return_dict=True)["loss"]
    assert history.history["val_loss"] == pytest.approx([first_two, first_two], rel=1e-6)
    history = model.fit(X, Y, epochs=2, validation_data=itertools.cycle(_batches()), validation_steps=2, verbose=0)
    # a generator cannot restart: its first two batches are read once and evaluated at every epoch
    assert history.history["val_loss"] == pytest.approx([first_two, first_two], rel=1e-6)


def test_validation_batch_size_with_validation_steps_for_arrays():
    model = _model(optimizer=fc.optimizers.SGD(0.0))
    seen = CountBatches()
    history = model.fit(X, Y, validation_data=(X, Y), validation_batch_size=5, validation_steps=3, callbacks=[seen],
                        verbose=0)
    want = model.evaluate(X[:15], Y[:15], batch_size=5, verbose=0, return_dict=True)["loss"]
    assert history.history["val_loss"][0] == pytest.approx(want, rel=1e-6)
    assert seen.test == [0, 1, 2]


@pytest.mark.parametrize("freq, validated", [(2, [1, 3]), ([1, 4], [0, 3]), ((3,), [2])])
def test_validation_freq_with_a_streamed_validation_set(freq, validated):
    model = _model()
    seen = []

    class Record(fc.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if "val_loss" in logs:
                seen.append(epoch)

    history = model.fit(Val(), epochs=4, validation_data=Val(), validation_freq=freq, callbacks=[Record()],
                        verbose=0)
    assert seen == validated and len(history.history["val_loss"]) == len(validated)


def test_verbose_two_with_a_generator_of_unknown_length(capsys):
    model = _model()
    model.fit(iter(_batches()), epochs=1, verbose=2)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("5/5 - ")  # as Keras: no "Epoch 1/1" header for a single epoch


def test_a_one_shot_validation_generator_is_read_once_and_validates_every_epoch():
    model = _model(optimizer=fc.optimizers.SGD(0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = model.fit(X, Y, epochs=3, validation_data=iter(_batches()), verbose=0)
    whole = model.evaluate(X, Y, batch_size=BATCH, verbose=0, return_dict=True)["loss"]
    assert history.history["val_loss"] == pytest.approx([whole] * 3, rel=1e-6)


def test_no_warning_when_the_data_suffices():
    model = _model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(itertools.cycle(_batches()), epochs=3, steps_per_epoch=5, validation_data=Val(),
                  validation_steps=2, verbose=0)

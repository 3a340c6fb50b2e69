"""fit()'s contract on arrays: validation_split, epochs/initial_epoch, validation_freq,
determinism, and a real problem that learns."""
import numpy as np
import pytest
from reference import per_element_loss

import fitcore as fc

RNG = np.random.default_rng(21)


def _model(units=3, activation="softmax", loss="sparse_categorical_crossentropy", optimizer="adam"):
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(8, activation="relu"),
                           fc.layers.Dense(units, activation=activation)])
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return model


def _data(n=50):
    x = RNG.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1)


def test_validation_split_takes_last_samples_before_shuffling():
    x, y = _data(50)
    model = _model(optimizer=fc.optimizers.SGD(0.0))  # lr 0: weights stay, so losses are comparable
    split = int(np.floor(50 * (1 - 0.3)))  # 35
    history = model.fit(x, y, validation_split=0.3, epochs=1, batch_size=8, verbose=0)
    val = model.evaluate(x[split:], y[split:], verbose=0, return_dict=True)
    train = model.evaluate(x[:split], y[:split], verbose=0, return_dict=True)
    np.testing.assert_allclose(history.history["val_loss"][0], val["loss"], rtol=1e-6)
    np.testing.assert_allclose(history.history["val_accuracy"][0], val["accuracy"], rtol=1e-6)
    np.testing.assert_allclose(history.history["loss"][0], train["loss"], rtol=1e-6)
    assert history.params["steps"] == int(np.ceil(split / 8))


def test_trains_only_on_the_training_part():
    x, y = _data(40)
    y_poisoned = y.copy()
    y_poisoned[30:] = 0  # the validation part: never trained on

    def weights(targets):
        fc.utils.set_random_seed(9)
        model = _model()
        model.fit(x, targets, validation_split=0.25, epochs=2, batch_size=8, verbose=0)
        return model.get_weights()

    for a, b in zip(weights(y), weights(y_poisoned)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("initial_epoch, epochs", [(0, 3), (2, 5), (4, 4)])
def test_epochs_is_the_final_epoch(initial_epoch, epochs):
    x, y = _data()
    history = _model().fit(x, y, epochs=epochs, initial_epoch=initial_epoch, verbose=0)
    assert history.epoch == list(range(initial_epoch, epochs))
    assert len(history.history.get("loss", [])) == epochs - initial_epoch
    assert history.params["epochs"] == epochs


@pytest.mark.parametrize("freq, validated", [(1, [0, 1, 2, 3, 4, 5]), (2, [1, 3, 5]), (4, [3]), ([1, 5], [0, 4])])
def test_validation_freq(freq, validated):
    x, y = _data()
    model = _model()
    history = model.fit(x, y, epochs=6, validation_data=(x[:10], y[:10]), validation_freq=freq, verbose=0)
    assert len(history.history["val_loss"]) == len(validated)
    assert len(history.history["loss"]) == 6


def test_validation_data_with_weights_matches_evaluate():
    x, y = _data()
    w = RNG.uniform(0, 2, size=20)
    model = _model()
    history = model.fit(x, y, epochs=1, validation_data=(x[:20], y[:20], w), validation_batch_size=7, verbose=0)
    want = model.evaluate(x[:20], y[:20], sample_weight=w, batch_size=7, verbose=0, return_dict=True)
    np.testing.assert_allclose(history.history["val_loss"][0], want["loss"], rtol=1e-6)


def test_same_seed_same_bits_and_shuffle_matters():
    x, y = _data(64)

    def run(seed, shuffle=True):
        fc.utils.set_random_seed(seed)
        model = _model()
        history = model.fit(x, y, epochs=3, batch_size=8, shuffle=shuffle, verbose=0)
        return model.get_weights(), history.history

    w1, h1 = run(3)
    w2, h2 = run(3)
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    assert h1 == h2
    w3, _ = run(3, shuffle=False)
    assert not np.array_equal(w1[0], w3[0])


def test_same_result_with_one_and_two_threads():
    x, y = _data(256)

    def run(threads):
        fc.config.set_num_threads(threads)
        fc.utils.set_random_seed(4)
        model = _model()
        model.fit(x, y, epochs=2, batch_size=64, verbose=0)
        return model.get_weights()

    try:
        one, two = run(1), run(2)
    finally:
        fc.config.set_num_threads(2)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_same_result_with_one_and_two_threads_at_parallel_sizes():
    # Large enough that the Dense GEMM blocks, the gather, the first ReLU (512 x 320 values) and the
    # Adam sweep (149k parameters) all run on several threads (above kGemmGrain, kChunkGrain).
    x = RNG.random((1024, 300), dtype=np.float32)
    y = np.argmax(x @ RNG.normal(size=(300, 10)), axis=1)

    def run(threads):
        fc.config.set_num_threads(threads)
        fc.utils.set_random_seed(5)
        model = fc.Sequential([fc.Input((300,)), fc.layers.Dense(320, activation="relu"),
                               fc.layers.Dense(160, activation="tanh"), fc.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        assert model.count_params() > 2**17
        history = model.fit(x, y, epochs=2, batch_size=512, verbose=0)
        return model.get_weights(), history.history

    try:
        (one, h1), (two, h2), (again, h3) = run(1), run(2), run(1)
    finally:
        fc.config.set_num_threads(2)
    assert h1 == h2 == h3
    for a, b, c in zip(one, two, again):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_two_fits_at_once_in_python_threads_match_fits_alone():
    # fit releases the GIL: two trainers run their parallel loops at the same time (each with its own
    # OpenMP team) and must still compute exactly what they compute alone. No shuffle:
    # a trainer draws its seed at its first fit, in whatever order the threads get there.
    import threading

    x = RNG.random((512, 300), dtype=np.float32)
    y = np.argmax(x @ RNG.normal(size=(300, 10)), axis=1)

    def make(seed):
        fc.utils.set_random_seed(seed)
        model = fc.Sequential([fc.Input((300,)), fc.layers.Dense(160, activation="relu"),
                               fc.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    alone = []
    for seed in (11, 12):
        model = make(seed)
        model.fit(x, y, epochs=8, batch_size=128, shuffle=False, verbose=0)
        alone.append(model.get_weights())
    models = [make(11), make(12)]
    threads = [threading.Thread(target=m.fit, args=(x, y), kwargs=dict(epochs=8, batch_size=128, shuffle=False, verbose=0))
               for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for model, expected in zip(models, alone):
        for a, b in zip(model.get_weights(), expected):
            np.testing.assert_array_equal(a, b)


def test_steps_per_epoch_beyond_one_pass_repeats_data():
    x, y = _data(20)
    history = _model().fit(x, y, epochs=2, batch_size=8, steps_per_epoch=7, verbose=0)
    assert history.params["steps"] == 7
    assert len(history.history["loss"]) == 2


@pytest.mark.parametrize("steps_per_epoch, order", [
    (2, [[0, 1], [2, 0]]),  # 3 batches (the last partial) as one repeating stream, not restarted each epoch
    (4, [[0, 1, 2, 0], [1, 2, 0, 1]]),
])
def test_steps_per_epoch_beyond_one_pass_continues_the_array_stream(steps_per_epoch, order):
    x, y = _data(20)
    size = 8
    batches = [(x[i:i + size], y[i:i + size]) for i in range(0, 20, size)]  # 8, 8, 4 samples
    fc.utils.set_random_seed(4)
    model = _model()
    history = model.fit(x, y, batch_size=size, steps_per_epoch=steps_per_epoch, epochs=2, shuffle=False, verbose=0)

    fc.utils.set_random_seed(4)
    replay = _model()
    want_loss = []
    for epoch in order:
        losses = [replay.train_on_batch(*batches[i], return_dict=True)["loss"] for i in epoch]
        sizes = [len(batches[i][0]) for i in epoch]
        want_loss.append(np.dot(losses, sizes) / sum(sizes))  # Keras's loss tracker: weighted by batch size
    for got, want in zip(model.get_weights(), replay.get_weights()):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    np.testing.assert_allclose(history.history["loss"], want_loss, rtol=1e-6)
    assert model.optimizer.iterations == replay.optimizer.iterations == 2 * steps_per_epoch


def test_predict_matches_numpy_forward():
    x, _ = _data(9)
    model = _model()
    k1, b1, k2, b2 = [w.astype(np.float64) for w in model.get_weights()]
    h = np.maximum(x @ k1 + b1, 0) @ k2 + b2
    want = np.exp(h - h.max(1, keepdims=True))
    want /= want.sum(1, keepdims=True)
    np.testing.assert_allclose(model.predict(x, batch_size=4, verbose=0), want, rtol=1e-5, atol=1e-6)


def test_sequential_without_input_builds_from_data():
    x, y = _data()
    model = fc.Sequential([fc.layers.Dense(5, activation="relu"), fc.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert [w.shape for w in model.get_weights()] == [(4, 5), (5,), (5, 3), (3,)]


def test_digits_learns():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    model = fc.Sequential([fc.Input((64,)), fc.layers.Dense(64, activation="relu"),
                           fc.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=32, validation_split=0.2, verbose=0)
    assert history.history["val_accuracy"][-1] > 0.9
    assert history.history["loss"][-1] < history.history["loss"][0]

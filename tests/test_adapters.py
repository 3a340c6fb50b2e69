"""Every input kind fit / evaluate / predict accept: each gives the same History, weights and
outputs as the equivalent call on float32 numpy arrays (shuffle=False where order matters)."""
import re
import warnings

import numpy as np
import pytest
from reference import per_element_loss, reduced_loss

import fitcore as fc

RNG = np.random.default_rng(11)
N, BATCH = 40, 8
X = RNG.normal(size=(N, 4)).astype(np.float32)
Y = ((X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)).astype(np.int64)
W = RNG.uniform(0.2, 2.0, size=N)


def _model(seed=3):
    fc.utils.set_random_seed(seed)
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(6, activation="relu"),
                           fc.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"])
    return model


def _batches(x=X, y=Y, w=None, size=BATCH):
    return [(x[i:i + size], y[i:i + size]) + ((w[i:i + size],) if w is not None else ())
            for i in range(0, len(x), size)]


def _reference(epochs=2, sample_weight=None, **kwargs):
    """fit on float32 numpy arrays in order: what every other kind must reproduce."""
    model = _model()
    history = model.fit(X, Y, batch_size=BATCH, epochs=epochs, shuffle=False, sample_weight=sample_weight,
                        verbose=0, **kwargs)
    return history.history, model.get_weights()


def _fit(x, y=None, epochs=2, **kwargs):
    model = _model()
    if y is not None or "batch_size" in kwargs:
        kwargs.setdefault("batch_size", BATCH)
    history = model.fit(x, y, epochs=epochs, shuffle=False, verbose=0, **kwargs)
    return history.history, model.get_weights(), model


def _assert_same(got, want, exact=True):
    (h1, w1), (h2, w2) = got[:2], want[:2]
    assert h1.keys() == h2.keys()
    for key in h2:
        np.testing.assert_allclose(h1[key], h2[key], rtol=0 if exact else 1e-6)
    for a, b in zip(w1, w2):
        (np.testing.assert_array_equal if exact else np.testing.assert_allclose)(a, b)


# --- array-likes, read into the core in one piece ---------------------------------------------

@pytest.mark.parametrize("convert", [
    lambda a: a.astype(np.float64),
    lambda a: np.asfortranarray(a),
    lambda a: a.tolist(),
], ids=["float64", "fortran-order", "nested-list"])
def test_numpy_arrays_of_any_dtype_and_layout(convert):
    _assert_same(_fit(convert(X), Y), _reference())


def test_float32_arrays_reach_the_core_without_a_copy():
    model = _model()
    adapter = model._adapter(X, Y.astype(np.float32))
    assert np.shares_memory(adapter.arrays[0][0], X)


class ArrayProtocolOnly:
    """Something numpy reads through `__array__` alone (as it reads xarray or polars objects)."""

    def __init__(self, a):
        self._a = a

    def __array__(self, dtype=None, copy=None):
        return self._a if dtype is None else self._a.astype(dtype)


class DLPackOnly:
    """An array exported only through the DLPack protocol (as GPU-less array libraries do)."""

    def __init__(self, a):
        self._a = a

    def __dlpack__(self, **kwargs):
        return self._a.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()


@pytest.mark.parametrize("wrap", [ArrayProtocolOnly, DLPackOnly])
def test_array_protocols_without_torch_or_jax(wrap):
    _assert_same(_fit(wrap(X), wrap(Y)), _reference())
    model = _model()
    np.testing.assert_array_equal(model.predict(wrap(X), verbose=0), _model().predict(X, verbose=0))


def test_torch_tensors():
    torch = pytest.importorskip("torch")
    _assert_same(_fit(torch.tensor(X), torch.tensor(Y)), _reference())
    _assert_same(_fit(torch.tensor(X, requires_grad=True), torch.tensor(Y)), _reference())
    _assert_same(_fit(torch.tensor(X, dtype=torch.float64), torch.tensor(Y), sample_weight=torch.tensor(W)),
                 _reference(sample_weight=W))


def test_jax_arrays():
    jnp = pytest.importorskip("jax.numpy")
    _assert_same(_fit(jnp.asarray(X), jnp.asarray(Y), sample_weight=jnp.asarray(W)), _reference(sample_weight=W),
                 exact=False)


def test_pandas_dataframe_and_series():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X.astype(np.float64), columns=list("abcd"))
    _assert_same(_fit(frame, pd.Series(Y), sample_weight=pd.Series(W)), _reference(sample_weight=W))
    model = _model()
    np.testing.assert_array_equal(model.predict(frame, verbose=0), model.predict(X, verbose=0))


def _two_input_model():
    fc.utils.set_random_seed(5)
    a, b = fc.Input((4,), name="a"), fc.Input((2,), name="b")
    out_a = fc.layers.Dense(3, activation="softmax", name="out_a")(a)
    out_b = fc.layers.Dense(1, name="out_b")(b)
    model = fc.Model(inputs=[a, b], outputs=[out_a, out_b])
    model.compile(optimizer="sgd", loss=["sparse_categorical_crossentropy", "mse"])
    return model


def test_list_tuple_and_dict_of_arrays_by_position_and_by_name():
    xb = X[:, :2] * 2
    yb = X[:, :1] + X[:, 1:2]
    results = []
    for x, y in [([X, xb], [Y, yb]), ((X, xb), (Y, yb)), ({"b": xb, "a": X}, {"out_b": yb, "out_a": Y})]:
        model = _two_input_model()
        history = model.fit(x, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
        results.append((history.history, model.get_weights()))
    assert set(results[0][0]) == {"loss", "out_a_loss", "out_b_loss"}
    for got in results[1:]:
        _assert_same(got, results[0])


# --- arrays read batch by batch --------------------------------------------------------------

def _memmap(tmp_path, a, name):
    path = tmp_path / f"{name}.npy"
    np.save(path, a)
    return np.load(path, mmap_mode="r")


def test_memmap_gives_the_array_result(tmp_path):
    x64 = _memmap(tmp_path, X.astype(np.float64), "x")  # float64: the fast path would have to copy it whole
    y = _memmap(tmp_path, Y, "y")
    model = _model()
    assert type(model._adapter(x64, y)).__name__ == "LazyArrayAdapter"
    _assert_same(_fit(x64, y), _reference(), exact=False)
    _assert_same(_fit(x64, y, sample_weight=W), _reference(sample_weight=W), exact=False)
    for kwargs in ({"validation_split": 0.25}, {"steps_per_epoch": 7}):  # shuffled: the core's own batches
        want = _model()  # the core's seed is drawn at the first fit: one model at a time
        want.fit(X, Y, batch_size=BATCH, epochs=3, verbose=0, **kwargs)
        got = _model()
        got.fit(x64, y, batch_size=BATCH, epochs=3, verbose=0, **kwargs)
        _assert_same((got.history.history, got.get_weights()), (want.history.history, want.get_weights()),
                     exact=False)
    assert got.optimizer.iterations == 21 and got.history.history["loss"] != _fit(x64, y, steps_per_epoch=7)[0]["loss"]
    got = _model()
    got.fit(x64, y, batch_size=BATCH, epochs=1, validation_split=0.25, verbose=0)
    assert got.history.history["val_loss"][0] == pytest.approx(
        got.evaluate(X[30:], Y[30:], verbose=0, return_dict=True)["loss"], rel=1e-6)
    np.testing.assert_allclose(got.predict(x64, verbose=0), got.predict(X, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(got.evaluate(x64, y, verbose=0), got.evaluate(X, Y, verbose=0), rtol=1e-6)


def test_memmap_shuffle_is_seeded_and_repeats_with_steps_per_epoch(tmp_path):
    x = _memmap(tmp_path, X, "x")

    def run():
        model = _model()
        history = model.fit(x, Y, batch_size=BATCH, epochs=2, steps_per_epoch=7, verbose=0)
        return history.history, model.get_weights(), model

    first, second = run(), run()
    _assert_same(first, second)
    assert first[2].optimizer.iterations == 14  # 7 steps an epoch, past the end of a 5-batch pass
    unshuffled = _fit(x, Y, steps_per_epoch=7)
    assert not np.array_equal(first[1][0], unshuffled[1][0])


def test_memmap_among_the_inputs_of_a_two_input_model(tmp_path):
    x = {"a": _memmap(tmp_path, X, "a"), "b": X[:, :2]}
    y = [Y, X[:, :1]]
    results = []
    for inputs in ({"a": X, "b": X[:, :2]}, x):
        model = _two_input_model()
        assert type(model._adapter(inputs, y)).__name__ == ("LazyArrayAdapter" if inputs is x else "ArrayAdapter")
        history = model.fit(inputs, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
        results.append((history.history, model.get_weights()))
    _assert_same(results[1], results[0])


def _embedding_model():
    fc.utils.set_random_seed(3)
    model = fc.Sequential([fc.Input((4,)), fc.layers.Embedding(5, 2, name="emb"), fc.layers.Flatten(),
                           fc.layers.Dense(3, activation="softmax", name="out")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def _bad_last_row(a, value):
    a = a.copy()
    a[-1] = value
    return a


IDS = RNG.integers(0, 5, size=(N, 4))


@pytest.mark.parametrize("make_model, data, lazy_arg", [
    (_model, dict(x=X, y=_bad_last_row(Y, 3)), "y"),  # a sparse label outside [0, 3)
    (_model, dict(x=X, y=Y, sample_weight=_bad_last_row(W, np.nan)), "sample_weight"),
    (_model, dict(x=X, y=Y, sample_weight=_bad_last_row(W, np.inf)), "sample_weight"),
    (_embedding_model, dict(x=_bad_last_row(IDS, 5), y=Y), "x"),  # an id outside the Embedding's [0, 5)
], ids=["y-label", "sample_weight-nan", "sample_weight-inf", "x-embedding-id"])
def test_memmap_bad_values_past_the_first_rows_are_refused_before_any_step(
        tmp_path, monkeypatch, make_model, data, lazy_arg):
    from fitcore.data.adapters import lazy_array_adapter
    monkeypatch.setattr(lazy_array_adapter, "SCAN_ROWS", 7)  # several chunks; the bad row is in the last one

    def error_of(kwargs):
        model = make_model()
        before = model.get_weights()
        with pytest.raises((ValueError, TypeError)) as info:
            model.fit(batch_size=BATCH, epochs=1, verbose=0, **kwargs)
        for a, b in zip(before, model.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert model.optimizer.iterations == 0
        return info

    want = error_of(data)
    got = error_of({**data, lazy_arg: _memmap(tmp_path, data[lazy_arg], lazy_arg)})
    assert got.type is want.type is ValueError
    def message(info):  # layer names count up across models
        return re.sub(r"dense_\d+", "dense", str(info.value))
    assert message(got) == message(want)
    assert str(got.value).startswith(f"`{lazy_arg}` ")


class LazyRows:
    """A lazily loaded array (h5py/zarr-like: shape, dtype, indexing); counts the rows it hands out."""

    def __init__(self, a):
        self._a, self.shape, self.dtype = a, a.shape, a.dtype
        self.rows_read = []

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, index):
        rows = self._a[index]
        self.rows_read.append(len(rows))
        return rows


def test_lazy_x_feeding_an_embedding_is_scanned_a_chunk_at_a_time(monkeypatch):
    from fitcore.data.adapters import lazy_array_adapter
    monkeypatch.setattr(lazy_array_adapter, "SCAN_ROWS", 7)
    x = LazyRows(IDS)
    _embedding_model().fit(x, Y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    assert max(x.rows_read) == BATCH  # the scan never reads more than a chunk (7 rows) at once
    assert sum(x.rows_read) == 1 + N + N  # the first-row check, the scan, one epoch


def test_other_lazy_arrays_are_read_one_batch_at_a_time():
    x = LazyRows(X)
    _assert_same(_fit(x, Y), _reference(), exact=False)
    assert max(x.rows_read) == BATCH  # never more than a batch (the first-row check reads one)
    assert sum(x.rows_read) == 1 + 2 * N


# --- streams: generators, re-iterables, datasets ------------------------------------------------

def _generator(batches, loops=1):
    for _ in range(loops):
        for batch in batches:
            yield batch


def test_generator():
    _assert_same(_fit(_generator(_batches(), loops=2), epochs=2, steps_per_epoch=N // BATCH), _reference())
    model = _model()
    np.testing.assert_array_equal(model.predict(_generator([(b[0],) for b in _batches()]), verbose=0),
                                  model.predict(X, batch_size=BATCH, verbose=0))
    assert model.evaluate(_generator(_batches()), verbose=0, return_dict=True) == \
        model.evaluate(X, Y, batch_size=BATCH, verbose=0, return_dict=True)


def test_one_shot_iterator_over_yielded_weights():
    got = _fit(iter(_batches(w=W)), epochs=1)
    _assert_same(got, _reference(epochs=1, sample_weight=W))


def test_list_of_batches_is_re_iterable():
    got = _fit(_batches(), epochs=3)
    _assert_same(got, _reference(epochs=3))


class Batches:
    """A re-iterable that is neither a list nor a PyDataset (as a tf.data.Dataset is)."""

    def __init__(self, batches):
        self.batches = batches
        self.passes = 0

    def __iter__(self):
        self.passes += 1
        return iter(self.batches)


def test_any_re_iterable_starts_a_new_pass_each_epoch():
    data = Batches(_batches())
    _assert_same(_fit(data, epochs=3), _reference(epochs=3))
    assert data.passes == 3
    model = _model()
    np.testing.assert_array_equal(model.predict(Batches([(b[0],) for b in _batches()]), verbose=0),
                                  model.predict(X, batch_size=BATCH, verbose=0))


def test_torch_dataloader():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(torch.tensor(X), torch.tensor(Y)), batch_size=BATCH)  # yields [x, y] lists
    _assert_same(_fit(loader, epochs=2), _reference())

    class MyLoader(DataLoader):
        pass

    _assert_same(_fit(MyLoader(TensorDataset(torch.tensor(X), torch.tensor(Y)), batch_size=BATCH)), _reference())
    weighted = DataLoader(TensorDataset(torch.tensor(X), torch.tensor(Y), torch.tensor(W)), batch_size=BATCH)
    _assert_same(_fit(weighted, epochs=2), _reference(sample_weight=W), exact=False)
    model = _model()
    np.testing.assert_allclose(model.evaluate(loader, verbose=0), model.evaluate(X, Y, verbose=0), rtol=1e-6)
    np.testing.assert_array_equal(model.predict(loader, verbose=0), model.predict(X, batch_size=BATCH, verbose=0))


def test_tf_data_dataset():
    tf = pytest.importorskip("tensorflow")
    dataset = tf.data.Dataset.from_tensor_slices((X, Y)).batch(BATCH)
    _assert_same(_fit(dataset, epochs=2), _reference(), exact=False)


class Digits(fc.utils.PyDataset):
    def __init__(self, weights=None):
        super().__init__()
        self.visits, self.epochs_begun, self.epochs_ended, self.weights = [], 0, 0, weights

    def on_epoch_begin(self):
        assert self.epochs_begun == self.epochs_ended  # each epoch begins after the last one ended
        self.epochs_begun += 1

    def __len__(self):
        return N // BATCH

    def __getitem__(self, i):
        self.visits.append(i)
        rows = slice(i * BATCH, (i + 1) * BATCH)
        return (X[rows], Y[rows]) + ((self.weights[rows],) if self.weights is not None else ())

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_py_dataset_in_order_without_shuffle():
    data = Digits()
    _assert_same(_fit(data, epochs=2), _reference())
    assert data.visits == list(range(5)) * 2 and data.epochs_begun == data.epochs_ended == 2


def test_py_dataset_batches_visited_in_a_new_seeded_order_each_epoch():
    def run():
        data = Digits(weights=W)
        model = _model()
        history = model.fit(data, epochs=3, verbose=0)  # shuffle=True by default
        return data, history

    data, history = run()
    orders = [data.visits[i:i + 5] for i in range(0, 15, 5)]
    assert all(sorted(o) == list(range(5)) for o in orders)
    assert len({tuple(o) for o in orders}) > 1  # reshuffled
    assert orders != [list(range(5))] * 3
    again, history_again = run()
    assert again.visits == data.visits and history_again.history == history.history


def test_duck_typed_sequence_without_the_base_class():
    class Plain:
        def __len__(self):
            return N // BATCH

        def __getitem__(self, i):
            return X[i * BATCH:(i + 1) * BATCH], Y[i * BATCH:(i + 1) * BATCH]

    _assert_same(_fit(Plain(), epochs=2), _reference())


def test_sequential_without_input_builds_from_the_first_yielded_batch():
    gen = _generator(_batches())
    fc.utils.set_random_seed(3)
    model = fc.Sequential([fc.layers.Dense(6, activation="relu"), fc.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(gen, epochs=1, verbose=0)
    assert [w.shape for w in model.get_weights()] == [(4, 6), (6,), (6, 3), (3,)]
    assert model.optimizer.iterations == N // BATCH  # the peeked first batch was trained on too
    assert len(history.history["loss"]) == 1


# --- unpacking of yielded elements (SPEC) -------------------------------------------------------

def test_yielded_dict_and_list_are_x_alone_for_predict():
    model = _two_input_model()
    want = model.predict([X, X[:, :2]], batch_size=20, verbose=0)
    by_name = model.predict(iter([{"a": X[:20], "b": X[:20, :2]}, {"a": X[20:], "b": X[20:, :2]}]), verbose=0)
    by_position = model.predict(iter([[X[:20], X[:20, :2]], [X[20:], X[20:, :2]]]), verbose=0)
    for got in (by_name, by_position):
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)


def test_yielded_tuple_with_dict_inputs_and_targets():
    xb = X[:, :2]
    yb = X[:, :1]
    model = _two_input_model()
    model.fit([X, xb], [Y, yb], batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    streamed = _two_input_model()
    streamed.fit(iter([({"a": X[i:i + BATCH], "b": xb[i:i + BATCH]}, {"out_a": Y[i:i + BATCH], "out_b": yb[i:i + BATCH]})
                       for i in range(0, N, BATCH)]), epochs=1, verbose=0)
    _assert_same((streamed.history.history, streamed.get_weights()), (model.history.history, model.get_weights()))


def test_predict_ignores_yielded_targets():
    model = _model()
    np.testing.assert_array_equal(model.predict(iter(_batches(w=W)), verbose=0),
                                  model.predict(X, batch_size=BATCH, verbose=0))


# --- single batches ---------------------------------------------------------------------------

def test_on_batch_methods_match_numpy():
    model = _model()
    k1, b1, k2, b2 = [w.astype(np.float64) for w in model.get_weights()]
    probs = np.exp(np.maximum(X @ k1 + b1, 0) @ k2 + b2)
    probs /= probs.sum(1, keepdims=True)
    np.testing.assert_allclose(model.predict_on_batch(X), probs, rtol=1e-5, atol=1e-6)
    loss = reduced_loss(per_element_loss("sparse_categorical_crossentropy", probs, Y), W)
    got = model.test_on_batch(X, Y, sample_weight=W, return_dict=True)
    assert got["loss"] == pytest.approx(loss, rel=1e-5)
    assert got["accuracy"] == pytest.approx(np.mean(probs.argmax(1) == Y))
    assert got["weighted_accuracy"] == pytest.approx(np.sum(W * (probs.argmax(1) == Y)) / W.sum(), rel=1e-6)
    # train_on_batch is one step of fit on the same batch
    fitted = _model()
    fitted.fit(X, Y, batch_size=N, epochs=1, shuffle=False, verbose=0, sample_weight=W)
    assert model.train_on_batch(X, Y, sample_weight=W)[0] == pytest.approx(loss, rel=1e-5)
    for a, b in zip(model.get_weights(), fitted.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_train_on_batch_reports_its_batch_alone():
    """As Keras 3, train_on_batch resets the metrics first: its loss and metrics are the batch's
    own (forward pass before the update), not a running mean over an earlier fit or batch."""
    model = _model()
    model.fit(X, Y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    model.train_on_batch(X[:BATCH], Y[:BATCH])
    xb, yb, wb = X[BATCH:2 * BATCH], Y[BATCH:2 * BATCH], W[BATCH:2 * BATCH]
    k1, b1, k2, b2 = [w.astype(np.float64) for w in model.get_weights()]
    probs = np.exp(np.maximum(xb @ k1 + b1, 0) @ k2 + b2)
    probs /= probs.sum(1, keepdims=True)
    hit = probs.argmax(1) == yb
    got = model.train_on_batch(xb, yb, sample_weight=wb, return_dict=True)
    assert got["loss"] == pytest.approx(reduced_loss(per_element_loss("sparse_categorical_crossentropy", probs, yb),
                                                     wb), rel=1e-5)
    assert got["accuracy"] == pytest.approx(hit.mean())
    assert got["weighted_accuracy"] == pytest.approx(np.sum(wb * hit) / wb.sum(), rel=1e-6)


def test_on_batch_methods_take_any_array_kind(tmp_path):
    pd = pytest.importorskip("pandas")
    model = _model()
    want = model.predict_on_batch(X)
    np.testing.assert_array_equal(model.predict_on_batch(pd.DataFrame(X)), want)
    np.testing.assert_array_equal(model.predict_on_batch(_memmap(tmp_path, X, "x")), want)
    assert model.test_on_batch(DLPackOnly(X), Y) == model.test_on_batch(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.train_on_batch(X.tolist(), Y.tolist())


@pytest.mark.parametrize("make", [lambda: Digits(), lambda: _batches(), lambda: iter(_batches()), lambda: X],
                         ids=["PyDataset", "list-of-batches", "generator", "arrays"])
def test_evaluate_and_predict_take_steps_for_every_kind(make):
    model = _model()
    kwargs = dict(y=Y, batch_size=BATCH) if make() is X else {}
    got = model.evaluate(make(), steps=2, verbose=0, return_dict=True, **kwargs)
    assert got == model.evaluate(X[:16], Y[:16], batch_size=BATCH, verbose=0, return_dict=True)
    kwargs.pop("y", None)
    predicted = model.predict(make(), steps=3, verbose=0, **kwargs)
    np.testing.assert_array_equal(predicted, model.predict(X[:24], batch_size=BATCH, verbose=0))

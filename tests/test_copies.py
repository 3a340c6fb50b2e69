"""pickle and copy.deepcopy of a model (built, compiled, trained) round-trip its architecture,
weights, compile settings and optimizer state through the bytes of its model file, the format of
`save`: no pickled code (Keras supports both; fitcore raised "cannot pickle 'fitcore._core.Network'")."""
import copy
import io
import json
import os
import pickle
import pickletools
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import fitcore as fc

RNG = np.random.default_rng(21)
X = RNG.normal(size=(64, 6)).astype(np.float32)
Y = RNG.integers(0, 3, size=64)


def trained_sequential():
    model = fc.Sequential([fc.Input((6,)), fc.layers.Dense(16, activation="relu"),
                           fc.layers.BatchNormalization(), fc.layers.Dropout(0.25), fc.layers.Dense(3)])
    model.compile(optimizer=fc.optimizers.Adam(learning_rate=0.01, clipnorm=1.0),
                  loss=fc.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(X, Y, batch_size=8, epochs=2, verbose=0)
    return model


def trained_functional():
    a, b = fc.Input((4,), name="a"), fc.Input((2,), name="b")
    shared = fc.layers.Dense(5, activation="tanh", name="shared")
    h = fc.layers.Concatenate()([shared(a), fc.layers.Dense(3)(b)])
    model = fc.Model({"a": a, "b": b}, {"cls": fc.layers.Dense(3, name="cls")(h),
                                        "reg": fc.layers.Dense(1, name="reg")(h)})
    model.compile(optimizer=fc.optimizers.SGD(0.05, momentum=0.9),
                  loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"]})
    model.fit(functional_x(), functional_y(), batch_size=16, epochs=2, verbose=0)
    return model


def functional_x():
    return {"a": X[:, :4], "b": X[:, 4:]}


def functional_y():
    return {"cls": Y, "reg": X[:, :1] * 2.0}


def pickled(model):
    return pickle.loads(pickle.dumps(model))


def deep_copied(model):
    return copy.deepcopy(model)


def optimizer_state(model):
    return [(name, np.array(view)) for name, view in model._core.optimizer_state()], model._core.iterations


def assert_same_model(a, b, x):
    assert type(a) is type(b) and a is not b
    assert [layer.name for layer in a.layers] == [layer.name for layer in b.layers]
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v)
    pa, pb = a.predict(x, verbose=0), b.predict(x, verbose=0)
    for u, v in zip(pa if isinstance(pa, list) else [pa], pb if isinstance(pb, list) else [pb]):
        np.testing.assert_array_equal(u, v)
    assert json.dumps(fc.saving.model_file._compile_settings(a)) == \
        json.dumps(fc.saving.model_file._compile_settings(b))
    (names_a, its_a), (names_b, its_b) = optimizer_state(a), optimizer_state(b)
    assert its_a == its_b > 0
    assert [n for n, _ in names_a] == [n for n, _ in names_b]
    for (_, u), (_, v) in zip(names_a, names_b):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("copier", [pickled, deep_copied])
@pytest.mark.parametrize("make, x, y", [(trained_sequential, X, Y),
                                        (trained_functional, functional_x(), functional_y())])
def test_a_trained_model_copies_whole_and_trains_on_identically(copier, make, x, y):
    model = make()
    twin = copier(model)
    assert_same_model(model, twin, x)
    # one more step on each: the same shuffle, dropout mask, optimizer update
    for m in (model, twin):
        m.fit(x, y, batch_size=8, epochs=1, steps_per_epoch=1, verbose=0)
    assert_same_model(model, twin, x)
    # and they are independent: training the copy leaves the original alone
    before = model.get_weights()
    twin.fit(x, y, batch_size=8, epochs=1, verbose=0)
    for u, v in zip(before, model.get_weights()):
        np.testing.assert_array_equal(u, v)
    assert any(not np.array_equal(u, v) for u, v in zip(before, twin.get_weights()))


def referenced_callables(data):
    """(module, name) of every global a pickle makes the unpickler import, and how many it calls."""
    found, strings, calls = [], [], 0
    for op, arg, _ in pickletools.genops(data):
        if op.name == "GLOBAL":
            found.append(tuple(arg.split(" ")))
        elif op.name == "STACK_GLOBAL":
            found.append(tuple(strings[-2:]))
        elif "UNICODE" in op.name:
            strings.append(arg)
        calls += op.name in ("REDUCE", "NEWOBJ", "NEWOBJ_EX", "INST", "OBJ", "BUILD")
    return found, calls


@pytest.mark.parametrize("protocol", range(3, pickle.HIGHEST_PROTOCOL + 1))  # 2 spells bytes via _codecs
def test_the_pickle_holds_no_code_only_the_model_file(tmp_path, protocol):
    model = trained_sequential()
    data = pickle.dumps(model, protocol=protocol)
    assert referenced_callables(data) == ([("fitcore.saving.model_file", "model_from_bytes")], 1)
    payload = [arg for op, arg, _ in pickletools.genops(data) if "BYTES" in op.name]
    assert len(payload) == 1
    with zipfile.ZipFile(io.BytesIO(payload[0])) as archive:  # the file `save` writes
        assert archive.namelist()[:2] == ["metadata.json", "config.json"]
    (tmp_path / "from_pickle.keras").write_bytes(payload[0])
    loaded = fc.models.load_model(tmp_path / "from_pickle.keras")
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


def test_a_pickle_loads_in_a_fresh_process(tmp_path):
    model = trained_sequential()
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model))
    np.save(tmp_path / "x.npy", X)
    script = ("import pickle, sys, numpy as np\n"
              "model = pickle.load(open(sys.argv[1], 'rb'))\n"
              "np.save(sys.argv[2], model.predict(np.load(sys.argv[3]), verbose=0))\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "model.pkl"), str(tmp_path / "p.npy"),
                    str(tmp_path / "x.npy")], check=True, env=env, timeout=300)
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), model.predict(X, verbose=0))


@pytest.mark.parametrize("copier", [pickled, deep_copied])
def test_uncompiled_and_unbuilt_models_copy_too(copier):
    built = fc.Sequential([fc.Input((6,)), fc.layers.Dense(2)])
    twin = copier(built)
    assert not twin.compiled
    np.testing.assert_array_equal(twin.predict(X, verbose=0), built.predict(X, verbose=0))
    compiled = fc.Sequential([fc.Input((6,)), fc.layers.Dense(2)])
    compiled.compile(optimizer="rmsprop", loss="mae")
    twin = copier(compiled)
    assert twin.compiled and type(twin.optimizer).__name__ == "RMSprop" and twin._core is None
    unbuilt = fc.Sequential([fc.layers.Dense(4, activation="relu"), fc.layers.Dense(1)])
    twin = copier(unbuilt)
    assert not twin.built and [type(layer).__name__ for layer in twin.layers] == ["Dense", "Dense"]
    twin.compile(optimizer="sgd", loss="mse")
    twin.fit(X, X[:, :1], epochs=1, verbose=0)  # builds from the data, as the original would
    assert twin.built

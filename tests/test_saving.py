"""model.save / fc.models.load_model: the same predictions, training continuing identically, and
clear errors (never a crash, never an absurd allocation) for broken or hostile files."""
import io
import json
import os
import zipfile

import numpy as np
import pytest

import fitcore as fc


def make_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x[:, 0] - x[:, 2] > 0).astype("int32")
    return x, y


def make_model():
    model = fc.Sequential([fc.Input((6,)), fc.layers.Dense(8, activation="tanh"),
                           fc.layers.Dense(2, activation="softmax")], name="classifier")
    model.compile(optimizer=fc.optimizers.Adam(learning_rate=0.02, beta_1=0.8), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def assert_same_weights(a, b):
    assert len(a.get_weights()) == len(b.get_weights())
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_save_load_predicts_identically_and_keeps_compile_settings(tmp_path):
    x, y = make_data()
    model = make_model()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    path = tmp_path / "model.fitcore"
    model.save(path)
    restored = fc.models.load_model(path)
    assert type(restored) is fc.Sequential and restored.name == "classifier"
    assert [l.name for l in restored.layers] == [l.name for l in model.layers]
    assert_same_weights(model, restored)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert isinstance(restored.optimizer, fc.optimizers.Adam)
    assert restored.optimizer.get_config() == model.optimizer.get_config()
    assert restored.optimizer.iterations == model.optimizer.iterations == 8
    assert restored.evaluate(x, y, verbose=0, return_dict=True) == model.evaluate(x, y, verbose=0, return_dict=True)


def test_training_continues_identically_after_loading(tmp_path):
    """Optimizer state, step count and the core's random seed come back: a resumed run matches."""
    x, y = make_data()
    model = make_model()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    model.save(tmp_path / "m.fitcore")
    restored = fc.models.load_model(tmp_path / "m.fitcore")
    fc.utils.set_random_seed(99)  # whatever the global seed is now, the saved run's seed is restored
    h1 = model.fit(x, y, batch_size=16, epochs=4, initial_epoch=2, verbose=0)
    h2 = restored.fit(x, y, batch_size=16, epochs=4, initial_epoch=2, verbose=0)
    assert h1.history == h2.history
    assert_same_weights(model, restored)
    # Without the optimizer state (a fresh compile) the same steps give other weights.
    fresh = fc.models.load_model(tmp_path / "m.fitcore", compile=False)
    assert not fresh.compiled
    fresh.compile(optimizer=fc.optimizers.Adam(learning_rate=0.02, beta_1=0.8),
                  loss="sparse_categorical_crossentropy")
    fresh.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    assert not np.array_equal(fresh.get_weights()[0], model.get_weights()[0])


def test_functional_model_with_named_inputs_and_outputs_round_trips(tmp_path):
    a, b = fc.Input((3,), name="left"), fc.Input((4,), name="right")
    out_a = fc.layers.Dense(2, activation="softmax", name="head_a")(fc.layers.Dense(5, activation="relu")(a))
    out_b = fc.layers.Dense(1, name="head_b")(b)
    model = fc.Model(inputs={"left": a, "right": b}, outputs={"cls": out_a, "reg": out_b})
    model.compile(optimizer="sgd", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"]})
    rng = np.random.default_rng(3)
    x = {"right": rng.normal(size=(20, 4)).astype("float32"), "left": rng.normal(size=(20, 3)).astype("float32")}
    y = {"cls": rng.integers(0, 2, 20), "reg": rng.normal(size=(20, 1)).astype("float32")}
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "f.fitcore")
    restored = fc.models.load_model(tmp_path / "f.fitcore")
    assert restored.input_names == ["left", "right"] and restored.output_names == ["cls", "reg"]
    for got, want in zip(restored.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_array_equal(got, want)
    assert restored.evaluate(x, y, verbose=0, return_dict=True) == model.evaluate(x, y, verbose=0, return_dict=True)
    assert restored._compile_config.loss_weights == [1.0, 0.5]


def test_uncompiled_and_frozen_models_round_trip(tmp_path):
    model = fc.Sequential([fc.Input((6,)), fc.layers.Dense(3, name="frozen", trainable=False),
                           fc.layers.Dense(1, use_bias=False)])
    model.save(tmp_path / "plain.fitcore")
    restored = fc.models.load_model(tmp_path / "plain.fitcore")
    assert not restored.compiled
    assert not restored.get_layer("frozen").trainable
    assert [w.shape for w in restored.weights] == [(6, 3), (3,), (3, 1)]
    x, _ = make_data()
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_save_arguments_are_checked(tmp_path):
    model = make_model()
    with pytest.raises(ValueError, match=r"`filepath` must end in \.keras or \.fitcore"):
        model.save(tmp_path / "model.h5")
    with pytest.raises(TypeError, match="filepath"):
        model.save(42)
    model.save(tmp_path / "m.fitcore")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(tmp_path / "m.fitcore", overwrite=False)
    with pytest.raises(ValueError, match="no weights yet"):
        fc.Sequential([fc.layers.Dense(2)]).save(tmp_path / "unbuilt.fitcore")
    with pytest.raises(FileNotFoundError):
        fc.models.load_model(tmp_path / "missing.fitcore")
    with pytest.raises(ValueError, match="custom_objects"):
        fc.models.load_model(tmp_path / "m.fitcore", custom_objects={"X": object})
    assert sorted(os.listdir(tmp_path)) == ["m.fitcore"]  # no temporary files left behind


# --- broken and hostile files ------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    x, y = make_data()
    model = make_model()
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "good.fitcore"
    model.save(path)
    return path


def rewrite(path, target, change):
    """Copies the archive at `path` to `target`, passing each member through change(name, bytes)
    (which returns new bytes, or None to drop it); change(None, None) may return extra members."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            data = change(info.filename, src.read(info.filename))
            if data is not None:
                dst.writestr(info.filename, data)
        for name, data in (change(None, None) or {}).items():
            dst.writestr(name, data)
    return target


def edit_json(name, mutate):
    def change(member, data):
        if member != name:
            return data if member is not None else None
        value = json.loads(data)
        mutate(value)
        return json.dumps(value)
    return change


def npy(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def test_truncated_and_corrupted_files_give_clear_errors(saved, tmp_path):
    data = saved.read_bytes()
    tried = 0
    for cut in (0, 10, 100, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1):
        bad = tmp_path / f"cut{cut}.fitcore"
        bad.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="load_model"):
            fc.models.load_model(bad)
        tried += 1
    rng = np.random.default_rng(0)
    for i in range(40):  # flipped bytes anywhere: the zip's checksums or our checks catch them
        corrupt = bytearray(data)
        for pos in rng.integers(0, len(data), 3):
            corrupt[pos] ^= 0xFF
        bad = tmp_path / f"flip{i}.fitcore"
        bad.write_bytes(bytes(corrupt))
        try:
            model = fc.models.load_model(bad)
        except ValueError as error:
            assert "load_model" in str(error) or "config.json" in str(error) or "layers[" in str(error) \
                or "compile." in str(error), str(error)
        else:  # a flip that lands in padding may leave a valid file: then it must still work
            model.predict(np.zeros((2, 6), np.float32), verbose=0)
        tried += 1
    assert tried == 47


def test_an_entry_flagged_encrypted_is_a_value_error(saved, tmp_path):
    # Found by the long corruption campaign: zipfile raises RuntimeError ("password required") for it.
    data = bytearray(saved.read_bytes())
    entry = data.index(b"PK\x01\x02")  # the central directory's first entry
    data[entry + 8] |= 0x1  # general purpose flag, bit 0: encrypted
    bad = tmp_path / "encrypted.fitcore"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="load_model: .* holds encrypted entries"):
        fc.models.load_model(bad)


@pytest.mark.slow
def test_long_corruption_campaign(saved, tmp_path):
    """FITCORE_CORRUPT_FILES (default 3000) random cuts and 1-8 byte flips of a saved model: each is a
    ValueError naming load_model's check or a model that still predicts, never another error or a crash.
    python -m pytest -m slow tests/test_saving.py -s"""
    data, rng = saved.read_bytes(), np.random.default_rng(7)
    counts = {"refused": 0, "loaded": 0}
    for i in range(int(os.environ.get("FITCORE_CORRUPT_FILES", "3000"))):
        corrupt = bytearray(data[:rng.integers(0, len(data))] if i % 4 == 0 else data)
        for pos in rng.integers(0, len(data), rng.integers(1, 9)) if i % 4 else ():
            corrupt[pos] ^= 1 << int(rng.integers(0, 8))
        bad = tmp_path / "bad.fitcore"
        bad.write_bytes(bytes(corrupt))
        try:
            model = fc.models.load_model(bad)
        except ValueError:
            counts["refused"] += 1
        else:
            model.predict(np.zeros((2, 6), np.float32), verbose=0)
            counts["loaded"] += 1
    print(json.dumps(counts))
    assert counts["refused"] > counts["loaded"]


@pytest.mark.parametrize("case", ["unknown_class", "dunder_class", "huge_dense", "huge_input", "npy_huge_header",
                                  "npy_object", "npy_wrong_shape", "path_member", "missing_weights",
                                  "wrong_format", "deep_json", "bad_seed_type", "not_json"])
def test_hostile_files_are_refused(saved, tmp_path, case):
    target = tmp_path / "bad.fitcore"
    arch = lambda mutate: edit_json("config.json", lambda c: mutate(c["architecture"]))  # noqa: E731
    changes = {
        "unknown_class": arch(lambda a: a["layers"][0].update(class_name="Popen")),
        "dunder_class": arch(lambda a: a["layers"][0].update(class_name="__class__")),
        "huge_dense": arch(lambda a: a["layers"][0]["config"].update(units=10**11)),
        "huge_input": arch(lambda a: a["input"].update(shape=[10**6, 10**6])),
        "npy_huge_header": lambda n, d: (npy(np.zeros((1,), np.float32)).replace(b"(1,)", b"(99999999999,)")
                                         if n == "weights/0000.npy" else d if n is not None else None),
        "npy_object": lambda n, d: npy(np.array([object()] * 48, dtype=object).reshape(6, 8))
        if n == "weights/0000.npy" else d if n is not None else None,
        "npy_wrong_shape": lambda n, d: npy(np.zeros((8, 6), np.float32))
        if n == "weights/0000.npy" else d if n is not None else None,
        "path_member": lambda n, d: d if n is not None else {"../../evil.npy": b"x"},
        "missing_weights": lambda n, d: None if n == "weights/0001.npy" else d if n is not None else None,
        "wrong_format": edit_json("metadata.json", lambda m: m.update(format="pickle")),
        "deep_json": lambda n, d: (b"[" * 100000 + b"]" * 100000) if n == "config.json" else d if n else None,
        "bad_seed_type": edit_json("config.json", lambda c: c["optimizer"].update(iterations="lots")),
        "not_json": lambda n, d: b"\x80\x04K\x01." if n == "metadata.json" else d if n else None,  # a pickle
    }
    rewrite(saved, target, changes[case])
    with pytest.raises(ValueError) as error:
        fc.models.load_model(target)
    assert any(word in str(error.value) for word in ("load_model", "config.json", "layers[", "compile.")), \
        str(error.value)


def test_hostile_huge_layer_is_refused_before_allocating(saved, tmp_path):
    """A file that describes a 400 GB kernel fails on the budget check, not on an allocation."""
    import tracemalloc

    target = rewrite(saved, tmp_path / "big.fitcore",
                     edit_json("config.json", lambda c: c["architecture"]["layers"][0]["config"].update(units=10**10)))
    tracemalloc.start()
    with pytest.raises(ValueError, match="more than the file being loaded carries"):
        fc.models.load_model(target)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50 << 20


def test_hostile_auc_num_thresholds_is_refused_before_allocating(saved, tmp_path):
    """An AUC whose thresholds would take gigabytes: a ValueError naming the argument, not a MemoryError."""
    import tracemalloc

    def use_auc(config):
        output = next(iter(config["compile"]["metrics"]))
        config["compile"]["metrics"][output] = [{"class_name": "AUC",
                                                 "config": {"name": "auc", "num_thresholds": 10**10}}]

    target = rewrite(saved, tmp_path / "auc.fitcore", edit_json("config.json", use_auc))
    tracemalloc.start()
    with pytest.raises(ValueError, match=r"^compile\.metrics\['\w+'\]\[0\]: cannot rebuild AUC from .*: "
                                         r"AUC: `num_thresholds` must be in \[2, 2\*\*20 = 1048576\], got 10000000000$"):
        fc.models.load_model(target)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50 << 20


def test_summary_lists_layers_shapes_and_counts():
    model = make_model()
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert lines[0] == 'Model: "classifier"'
    dense, head = model.layers
    assert f"{dense.name} (Dense)" in text and "(None, 8)" in text and "56" in text  # 6*8 + 8
    assert f"{head.name} (Dense)" in text and "(None, 2)" in text and "18" in text  # 8*2 + 2
    assert " Total params: 74 (296.00 B)" in lines
    assert " Trainable params: 74 (296.00 B)" in lines
    assert " Non-trainable params: 0 (0.00 B)" in lines
    assert model.count_params() == 74
    x, y = make_data()
    model.fit(x, y, epochs=1, verbose=0)
    lines.clear()
    model.summary(print_fn=lines.append)
    assert " Optimizer params: 148 (592.00 B)" in lines  # Adam: momentums and velocities

    a, b = fc.Input((3,), name="a"), fc.Input((2,), name="b")
    functional = fc.Model([a, b], [fc.layers.Dense(1, name="out_a")(a), fc.layers.Dense(1, name="out_b")(b)])
    lines.clear()
    functional.summary(print_fn=lines.append, show_trainable=True)
    assert "Connected to" in lines[2] and "Trainable" in lines[2]
    row = next(line for line in lines if line.startswith(" out_a (Dense)"))
    assert row.split()[2:] == ["(None,", "1)", "4", "a", "Y"]
    with pytest.raises(TypeError, match="print_fn"):
        functional.summary(print_fn="stdout")


def test_every_layer_kind_round_trips_with_its_state(tmp_path):
    """Dropout, noise, BatchNormalization (moving statistics), Embedding, merges and regularizers."""
    ids, feats = fc.Input((4,), name="ids", dtype="int32"), fc.Input((5,), name="feats")
    e = fc.layers.Flatten()(fc.layers.Embedding(10, 3, embeddings_regularizer="l2")(ids))
    f = fc.layers.BatchNormalization()(fc.layers.Dense(12, kernel_regularizer=fc.regularizers.L1L2(0.01, 0.02),
                                                       bias_regularizer="l1")(feats))
    f = fc.layers.GaussianNoise(0.1)(fc.layers.Dropout(0.3)(fc.layers.Activation("gelu")(f)))
    h = fc.layers.Concatenate()([e, f])
    h = fc.layers.Add()([fc.layers.Dense(6, activation="elu")(h), fc.layers.Dense(6, activation="silu")(h)])
    model = fc.Model(inputs=[ids, feats], outputs=fc.layers.Dense(1, activation="sigmoid")(h))
    model.compile(optimizer=fc.optimizers.RMSprop(0.01), loss=fc.losses.BinaryCrossentropy(label_smoothing=0.1),
                  metrics=["accuracy"])
    rng = np.random.default_rng(5)
    x = [rng.integers(0, 10, (40, 4)), rng.normal(size=(40, 5)).astype("float32")]
    y = rng.integers(0, 2, (40, 1))
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    model.save(tmp_path / "all.fitcore")
    restored = fc.models.load_model(tmp_path / "all.fitcore")
    assert [type(l).__name__ for l in restored.layers] == [type(l).__name__ for l in model.layers]
    assert_same_weights(model, restored)  # moving_mean / moving_variance included
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert restored.evaluate(x, y, verbose=0, return_dict=True) == model.evaluate(x, y, verbose=0, return_dict=True)
    h1 = model.fit(x, y, batch_size=8, epochs=3, initial_epoch=2, verbose=0)
    h2 = restored.fit(x, y, batch_size=8, epochs=3, initial_epoch=2, verbose=0)
    assert h1.history == h2.history  # dropout masks and noise drawn from the restored seed
    assert_same_weights(model, restored)


def test_scheduled_clipped_optimizer_round_trips_and_resumes(tmp_path):
    x, y = make_data()
    model = make_model()
    schedule = fc.optimizers.schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5)
    model.compile(optimizer=fc.optimizers.AdamW(learning_rate=schedule, weight_decay=0.01, clipnorm=0.5),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.save(tmp_path / "s.fitcore")
    restored = fc.models.load_model(tmp_path / "s.fitcore")
    assert isinstance(restored.optimizer, fc.optimizers.AdamW)
    assert restored.optimizer.get_config() == model.optimizer.get_config()
    assert restored.optimizer.learning_rate == pytest.approx(0.05 * 0.5 ** (4 / 3))  # at step 4
    h1 = model.fit(x, y, batch_size=16, epochs=3, initial_epoch=1, verbose=0)
    h2 = restored.fit(x, y, batch_size=16, epochs=3, initial_epoch=1, verbose=0)
    assert h1.history == h2.history
    assert_same_weights(model, restored)


def test_shared_layer_round_trips_as_one_layer_called_twice(tmp_path):
    a, b = fc.Input((3,), name="a"), fc.Input((3,), name="b")
    shared = fc.layers.Dense(4, activation="tanh", name="shared")
    out = fc.layers.Dense(1, name="out")(fc.layers.Add()([shared(a), shared(b)]))
    model = fc.Model([a, b], out)
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(2)
    x = [rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 3)).astype("float32")]
    y = rng.normal(size=(16, 1)).astype("float32")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    model.save(tmp_path / "shared.fitcore")
    restored = fc.models.load_model(tmp_path / "shared.fitcore")
    assert [l.name for l in restored.layers].count("shared") == 1 and len(restored.weights) == 4
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    h1 = model.fit(x, y, batch_size=4, epochs=2, initial_epoch=1, verbose=0)
    h2 = restored.fit(x, y, batch_size=4, epochs=2, initial_epoch=1, verbose=0)
    assert h1.history == h2.history

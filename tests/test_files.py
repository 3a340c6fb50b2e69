"""Files: save_weights/load_weights and the callbacks that write files never unpickle or eval; a
truncated, corrupted or hostile .npz gives a clear ValueError without allocating absurd memory; a
process killed (SIGKILL) while saving always leaves the previous file loadable."""
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

import fitcore as fc
from fitcore import callbacks as cb


def make_model(units=8):
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(units, activation="relu"), fc.layers.Dense(3)])
    model.compile(optimizer="adam", loss="mse")
    return model


def npy_bytes(array=None, header=None, data=b""):
    """An .npy member: numpy's own bytes, or a hand-written (possibly lying) header dict and raw data."""
    if header is None:
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=True)
        return buffer.getvalue()
    text = repr(header).encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + data


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, payload in members:
            z.writestr(name, payload)
    return path


def good_members(model):
    return [(f"w{i:04d}.npy", npy_bytes(w)) for i, w in enumerate(model.get_weights())]


def assert_unchanged(model, before):
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


# --- round trip ------------------------------------------------------------------------------
def test_save_load_round_trip_is_exact_and_plain(tmp_path):
    model = make_model()
    model.fit(np.random.rand(16, 4), np.random.rand(16, 3), epochs=2, verbose=0)
    path = tmp_path / "m.weights.npz"
    model.save_weights(path)
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == [f"w{i:04d}.npy" for i in range(4)]
    with np.load(path, allow_pickle=False) as data:  # plain numeric arrays, loadable without pickle
        assert all(data[n].dtype == np.float32 for n in data.files)
    fresh = make_model()
    fresh.load_weights(path)
    assert_unchanged(fresh, model.get_weights())
    mask = os.umask(0o022)
    os.umask(mask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's 0600
    assert [p.name for p in tmp_path.iterdir()] == ["m.weights.npz"]  # no temporary file left


def test_other_layouts_of_the_right_arrays_load(tmp_path):
    """Fortran order, big-endian and float64 entries hold the same numbers: they load."""
    model = make_model()
    weights = model.get_weights()
    variants = [np.asfortranarray(weights[0]), weights[1].astype(">f4"), weights[2].astype(np.float64), weights[3]]
    path = write_zip(tmp_path / "v.npz", [(f"w{i:04d}.npy", npy_bytes(v)) for i, v in enumerate(variants)],
                     compression=zipfile.ZIP_DEFLATED)
    fresh = make_model()
    fresh.load_weights(path)
    assert_unchanged(fresh, weights)


# --- hostile files ---------------------------------------------------------------------------
class Boom:
    """Unpickling this would run code: it must never happen."""

    def __reduce__(self):
        return (os.system, ("touch " + os.path.join(os.environ.get("FITCORE_TEST_MARKER_DIR", "/tmp"), "pwned"),))


def hostile_files(model):
    """(name, members, match): files a model must refuse; `match` is in the ValueError's message."""
    w = model.get_weights()
    good = good_members(model)
    shape0 = w[0].shape
    return [
        ("one entry missing", good[:-1], "missing"),
        ("one entry too many", good + [("w0004.npy", npy_bytes(w[3]))], "unexpected"),
        ("wrong shape", [(good[0][0], npy_bytes(w[0].T))] + good[1:], "shape"),
        ("wrong rank", [(good[0][0], npy_bytes(w[0].reshape(-1)))] + good[1:], "shape"),
        ("pickled object array", [(good[0][0], npy_bytes(np.array([Boom()], dtype=object)))] + good[1:], "objects"),
        ("object dtype declared", [(good[0][0], npy_bytes(header={"descr": "|O", "fortran_order": False,
                                                                  "shape": shape0}, data=b"\x80\x04N."))] + good[1:],
         "objects"),
        ("complex dtype", [(good[0][0], npy_bytes(w[0].astype(np.complex64)))] + good[1:], "numbers"),
        ("string dtype", [(good[0][0], npy_bytes(w[0].astype(str)))] + good[1:], "numbers"),
        ("structured dtype", [(good[0][0], npy_bytes(np.zeros(shape0, dtype=[("a", "<f4")])))] + good[1:],
         "numbers"),
        ("huge declared shape", [(good[0][0], npy_bytes(header={"descr": "<f4", "fortran_order": False,
                                                                "shape": (10**12,)}, data=b"\0" * 64))] + good[1:],
         "shape"),
        ("huge declared shape, right rank", [(good[0][0], npy_bytes(
            header={"descr": "<f4", "fortran_order": False, "shape": (4 * 10**6, 10**6)}, data=b"\0" * 64))]
         + good[1:], "shape"),
        ("right shape, data missing", [(good[0][0], npy_bytes(header={"descr": "<f4", "fortran_order": False,
                                                                      "shape": shape0}, data=b"\0" * 8))] + good[1:],
         "truncated"),
        ("right shape, data padded", [(good[0][0], good[0][1] + b"\0" * 4096)] + good[1:], "padded"),
        ("huge itemsize", [(good[0][0], npy_bytes(header={"descr": "V2000000000", "fortran_order": False,
                                                          "shape": shape0}, data=b""))] + good[1:], "numbers"),
        ("header eval attempt", [(good[0][0], b"\x93NUMPY\x01\x00" + (60).to_bytes(2, "little")
                                  + b"__import__('os').system('touch pwned')".ljust(59) + b"\n")] + good[1:],
         "valid"),
        ("npy version 9", [(good[0][0], b"\x93NUMPY\x09\x00" + good[0][1][8:])] + good[1:], "version"),
        ("not npy at all", [(good[0][0], b"hello world")] + good[1:], "valid"),
        ("parent path", [("../w0000.npy", good[0][1])] + good[1:], "names"),
        ("absolute path", [("/tmp/w0000.npy", good[0][1])] + good[1:], "names"),
        ("directory member", [("sub/w0000.npy", good[0][1])] + good[1:], "names"),
        ("backslash path", [("..\\w0000.npy", good[0][1])] + good[1:], "names"),
        ("repeated member", good + [good[0]], "repeated"),
        ("no .npy suffix", [("w0000", good[0][1])] + good[1:], "names"),
        ("empty archive", [], "missing"),
    ]


def test_hostile_files_give_a_clear_error_and_change_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("FITCORE_TEST_MARKER_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    model = make_model(units=64)
    before = model.get_weights()
    cases = hostile_files(model)
    for name, members, match in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about the repeated name
            path = write_zip(tmp_path / f"{len(os.listdir(tmp_path))}.npz", members)
        tracemalloc.start()
        with pytest.raises(ValueError, match=match) as info:
            model.load_weights(path)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert str(path) in str(info.value), name
        assert peak < 2 * 2**20, f"{name}: {peak} bytes allocated while refusing the file"
        assert_unchanged(model, before)
    assert not (tmp_path / "pwned").exists()
    assert len(cases) >= 24


def test_truncated_and_corrupted_files(tmp_path):
    """Every cut of a valid file, and random byte flips: a ValueError (or, for a flip in a field the reader
    never uses, the original weights) -- never another exception, never other numbers."""
    model = make_model()
    before = model.get_weights()
    good = tmp_path / "good.weights.npz"
    model.save_weights(good)
    blob = good.read_bytes()
    bad = tmp_path / "bad.weights.npz"
    tried = refused = 0
    for cut in sorted(set(range(0, len(blob), max(1, len(blob) // 150))) | {len(blob) - 1}):
        bad.write_bytes(blob[:cut])
        with pytest.raises(ValueError, match="not a valid file"):
            model.load_weights(bad)
        tried += 1
        refused += 1
    rng = random.Random(3)
    for _ in range(300):
        corrupted = bytearray(blob)
        for _ in range(rng.choice((1, 1, 2, 8))):
            corrupted[rng.randrange(len(blob))] ^= 1 << rng.randrange(8)
        bad.write_bytes(bytes(corrupted))
        tried += 1
        try:
            model.load_weights(bad)
        except ValueError as error:
            assert "not a valid file" in str(error) or "set_weights" in str(error)
            refused += 1
        assert_unchanged(model, before)
    assert refused > 250, (tried, refused)  # the CRC catches flips in the data


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04" + b"\0" * 100])
def test_non_npz_content(tmp_path, content):
    path = tmp_path / "x.weights.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a valid file"):
        make_model().load_weights(path)


def test_missing_file_and_directory(tmp_path):
    model = make_model()
    with pytest.raises(FileNotFoundError, match="no such file"):
        model.load_weights(tmp_path / "absent.weights.npz")
    (tmp_path / "d.npz").mkdir()
    with pytest.raises(ValueError, match="not a file"):
        model.load_weights(tmp_path / "d.npz")


def test_hostile_backup_is_refused_before_training(tmp_path, monkeypatch):
    monkeypatch.setenv("FITCORE_TEST_MARKER_DIR", str(tmp_path))
    x, y = np.random.rand(32, 4), np.random.rand(32, 3)
    model = make_model()
    backup_dir = tmp_path / "backup"
    model.fit(x, y, epochs=1, verbose=0, callbacks=[cb.BackupAndRestore(str(backup_dir), delete_checkpoint=False)])
    with zipfile.ZipFile(backup_dir / "backup.npz") as z:  # a real backup's entries
        real = {name: z.read(name) for name in z.namelist()}
    before = model.get_weights()
    iterations = int(model.optimizer.iterations)
    others = [(n, b) for n, b in real.items() if n != "meta.npy"]
    meta = json.loads(str(np.load(io.BytesIO(real["meta.npy"]))))

    def with_meta(**changes):
        return [("meta.npy", npy_bytes(np.array(json.dumps({**meta, **changes}))))] + others

    variants = [
        [("meta.npy", npy_bytes(np.array([Boom()], dtype=object)))] + others,
        [("meta.npy", npy_bytes(np.array("{}")))] + others,
        [("meta.npy", npy_bytes(np.array("[1, 2]")))] + others,
        [("meta.npy", npy_bytes(np.array("not json")))] + others,
        with_meta(epoch="0"),
        with_meta(iterations=None),
        with_meta(learning_rate="fast"),
        with_meta(history={"history": {"loss": 3}}),
        with_meta(history={"history": []}),
        [("meta.npy", npy_bytes(header={"descr": "<U1000000000", "fortran_order": False, "shape": ()}))] + others,
        [(n, b) for n, b in real.items() if n != "o0000.npy"],  # an optimizer slot missing
        list(real.items())[:-1] + [(list(real)[-1], list(real.values())[-1][:-10])],  # truncated
    ]
    for members in variants:
        write_zip(backup_dir / "backup.npz", members)
        with pytest.raises(ValueError, match="BackupAndRestore: the backup .* delete it"):
            model.fit(x, y, epochs=2, verbose=0, callbacks=[cb.BackupAndRestore(str(backup_dir))])
        assert_unchanged(model, before)
        assert int(model.optimizer.iterations) == iterations
    assert not (tmp_path / "pwned").exists()
    write_zip(backup_dir / "backup.npz", list(real.items()))  # the real one still resumes
    model.fit(x, y, epochs=2, verbose=0, callbacks=[cb.BackupAndRestore(str(backup_dir))])
    assert not backup_dir.exists()


# --- crash consistency -----------------------------------------------------------------------
_SAVER = textwrap.dedent("""
    import sys
    import numpy as np
    import fitcore as fc
    from fitcore import callbacks as cb

    mode, path = sys.argv[1], sys.argv[2]
    model = fc.Sequential([fc.Input((256,)), fc.layers.Dense(1024), fc.layers.Dense(1024), fc.layers.Dense(4)])
    model.compile(optimizer="sgd", loss="mse")
    if mode == "save_weights":  # save after save, each with every weight equal to the save's number
        for i in range(1, 10**6):
            model.set_weights([np.full(w.shape, i, np.float32) for w in model.get_weights()])
            model.save_weights(path)
            print(i, flush=True)
    elif mode == "save":  # the whole model (.fitcore): architecture, compile settings and weights
        for i in range(1, 10**6):
            model.set_weights([np.full(w.shape, i, np.float32) for w in model.get_weights()])
            model.save(path)
            print(i, flush=True)
    else:  # ModelCheckpoint every step and BackupAndRestore every epoch, during a real fit
        x, y = np.random.rand(64, 256).astype(np.float32), np.random.rand(64, 4).astype(np.float32)
        marks = cb.LambdaCallback(on_train_batch_end=lambda b, logs: print(b, flush=True))
        model.fit(x, y, batch_size=8, epochs=10**6, verbose=0, callbacks=[
            cb.ModelCheckpoint(path, save_weights_only=True, save_freq=1),
            cb.BackupAndRestore(path + ".backup"), marks])
""")


def _child_env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(fc.__file__)), os.environ.get("PYTHONPATH", "")]))


def _run_and_kill(tmp_path, mode, path, rng):
    """Starts a saving child, kills it with SIGKILL at a random moment after its first save; returns
    the last save it reported finished."""
    script = tmp_path / "saver.py"
    script.write_text(_SAVER)
    child = subprocess.Popen([sys.executable, str(script), mode, str(path)], stdout=subprocess.PIPE, text=True,
                             env=_child_env())
    try:
        first = child.stdout.readline()
        assert first, "the saving child died before its first save"
        time.sleep(rng.uniform(0.0, 0.6))
        os.kill(child.pid, signal.SIGKILL)
        out = first + child.stdout.read()
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    return int(out.split()[-1])


def big_model():
    model = fc.Sequential([fc.Input((256,)), fc.layers.Dense(1024), fc.layers.Dense(1024), fc.layers.Dense(4)])
    model.compile(optimizer="sgd", loss="mse")
    return model


KILLS = 8


def test_killed_while_saving_weights_leaves_the_previous_file(tmp_path):
    rng = random.Random(11)
    path = tmp_path / "ckpt.weights.npz"
    model = big_model()
    for _ in range(KILLS):
        last = _run_and_kill(tmp_path, "save_weights", path, rng)
        model.load_weights(path)  # loadable: the previous complete save, or the one being renamed
        values = {float(v) for w in model.get_weights() for v in np.unique(w)}
        assert len(values) == 1 and values.pop() in (last, last + 1), last
        assert path.exists()


def test_killed_while_saving_a_whole_model_leaves_the_previous_file(tmp_path):
    rng = random.Random(13)
    path = tmp_path / "ckpt.fitcore"
    for _ in range(KILLS):
        last = _run_and_kill(tmp_path, "save", path, rng)
        model = fc.models.load_model(path)  # the previous complete save, or the one being renamed: never broken
        assert [w.shape for w in model.weights] == [w.shape for w in big_model().weights]
        values = {float(v) for w in model.get_weights() for v in np.unique(w)}
        assert len(values) == 1 and values.pop() in (last, last + 1), last
        assert model.compiled and type(model.optimizer).__name__ == "SGD"  # its compile settings came back too
        assert [type(loss).__name__ for loss in model._compile_config.losses] == ["MeanSquaredError"]


def test_killed_during_fit_with_checkpoints_and_backup(tmp_path):
    rng = random.Random(12)
    path = tmp_path / "step.weights.npz"
    x, y = np.random.rand(64, 256).astype(np.float32), np.random.rand(64, 4).astype(np.float32)
    for _ in range(KILLS // 2):
        _run_and_kill(tmp_path, "fit", path, rng)
        model = big_model()
        model.load_weights(path)
        assert all(np.all(np.isfinite(w)) for w in model.get_weights())
        # the backup is whole too: a new fit resumes from it (under another seed, which it warns about)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            model.fit(x, y, batch_size=8, epochs=1, verbose=0,
                      callbacks=[cb.BackupAndRestore(str(path) + ".backup")])
        assert not os.path.exists(str(path) + ".backup")


# --- model files whose zip directory lies; where and how save writes -------------------------------
def lying_model_file(path, units, member_sizes="both"):
    """A model file of about 1.5 KB whose config declares Dense(units) on one input and whose zip
    directory declares weight members of the full size (4 * units bytes each); the members hold the
    npy headers alone. member_sizes: which directory fields lie ("both", or "unpacked" only)."""
    model = fc.Sequential([fc.Input((1,)), fc.layers.Dense(2)])
    model.save(path)
    with zipfile.ZipFile(path) as z:
        config = json.loads(z.read("config.json"))
        metadata = z.read("metadata.json")
    config["architecture"]["layers"][0]["config"]["units"] = units
    config["weights"] = [{"name": "dense/kernel", "shape": [1, units]}, {"name": "dense/bias", "shape": [units]}]
    headers = {"weights/0000.npy": npy_bytes(header={"descr": "<f4", "fortran_order": False, "shape": (1, units)}),
               "weights/0001.npy": npy_bytes(header={"descr": "<f4", "fortran_order": False, "shape": (units,)})}
    write_zip(path, [("metadata.json", metadata), ("config.json", json.dumps(config))] + list(headers.items()))
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # each central directory entry: sizes at +20 (packed) and +24 (unpacked), name at +46
        name = bytes(data[at + 46:at + 46 + int.from_bytes(data[at + 28:at + 30], "little")]).decode()
        if name in headers:
            declared = len(headers[name]) + 4 * units
            if member_sizes == "both":
                data[at + 20:at + 24] = declared.to_bytes(4, "little")
            data[at + 24:at + 28] = declared.to_bytes(4, "little")
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    return path


_PEAK_MEMORY = """
import json, resource, sys
import fitcore as fc
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    fc.models.load_model(sys.argv[1])
    error = None
except ValueError as e:
    error = str(e)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"grown_kib": grown, "error": error}))
"""


@pytest.mark.parametrize("units, member_sizes, message", [
    (575_000_000, "both", r"entry 'weights/0000.npy' declares 2300000128 bytes past the end of a \d+-byte file"),
    (800_000_000, "both", r"entry 'weights/0000.npy' declares 3200000128 bytes past the end"),
    (575_000_000, "unpacked", r"'weights/0000.npy' is stored uncompressed but declares 2300000128 bytes for 128"),
])
def test_a_file_whose_directory_lies_is_refused_at_its_real_size(tmp_path, units, member_sizes, message):
    """The reported case: a 1,350-byte file whose zip directory declared 2.3 GB of weights reached
    2.3 GB resident before its 'truncated' error (a larger declaration asked for 2.98 GiB at once).
    Now the directory is checked against the file's real size before anything is built: the peak
    memory of the refusing process grows by less than 50 MB (measured in a fresh process)."""
    path = lying_model_file(tmp_path / "liar.fitcore", units, member_sizes)
    assert path.stat().st_size < 2000
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", _PEAK_MEMORY, str(path)], capture_output=True, text=True, env=env,
                         timeout=300, check=True).stdout
    result = json.loads(out.splitlines()[-1])
    assert result["error"] is not None and re.search(message, result["error"]), result["error"]
    assert result["error"].startswith(f"load_model: {str(path)!r} is not a readable model file")
    assert result["grown_kib"] < 50 * 1024, result
    print(f"lying file of {path.stat().st_size} bytes declaring {4 * units} bytes of weights: peak RSS grew by "
          f"{result['grown_kib']} KiB while refusing it")


def test_a_deflated_member_beyond_the_compression_ratio_bound_is_refused(tmp_path):
    path = write_zip(tmp_path / "bomb.weights.npz", [("w0000.npy", npy_bytes(np.zeros((4, 4), np.float32)))],
                     compression=zipfile.ZIP_DEFLATED)
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    data[at + 24:at + 28] = (2**31).to_bytes(4, "little")  # declared unpacked size: 2 GiB from a few bytes
    path.write_bytes(bytes(data))
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(4, use_bias=False)])
    with pytest.raises(ValueError, match=r"entry 'w0000.npy' declares 2147483648 bytes from \d+ compressed: a "
                                         r"ratio beyond 1100:1"):
        model.load_weights(path)


def test_a_keras_file_with_damaged_weights_gets_an_error_that_says_so(tmp_path):
    """What Keras 3 writes for model.save('m.keras') (config.json, metadata.json, model.weights.h5) is read
    as Keras's format, whatever fitcore wrote; damaged HDF5 inside is a ValueError naming it."""
    pytest.importorskip("h5py", reason="h5py is in the test extra")
    path = write_zip(tmp_path / "from_keras.keras", [
        ("metadata.json", json.dumps({"keras_version": "3.15.1", "date_saved": "2026-01-01@00:00:00"})),
        ("config.json", json.dumps({"module": "keras", "class_name": "Sequential", "config": {}})),
        ("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 512)], compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(ValueError, match=r"load_model: model\.weights\.h5 in '.*from_keras\.keras' is not a "
                                         r"readable HDF5 file"):
        fc.models.load_model(path)


def saved_weights_equal(path, model):
    return all(np.array_equal(a, b) for a, b in zip(fc.models.load_model(path).get_weights(), model.get_weights()))


@pytest.mark.parametrize("kind", ["save", "save_weights"])
def test_save_writes_through_a_symlink_to_its_target(tmp_path, kind):
    suffix = ".keras" if kind == "save" else ".weights.npz"
    (tmp_path / "store").mkdir()
    target, link = tmp_path / "store" / f"real{suffix}", tmp_path / f"link{suffix}"
    old, new = make_model(), make_model()
    getattr(old, kind)(target)
    link.symlink_to(target)
    getattr(new, kind)(link)
    assert link.is_symlink() and os.readlink(link) == str(target)  # the link is still the same link
    check = make_model()
    check.load_weights(target) if kind == "save_weights" else None
    if kind == "save":
        assert saved_weights_equal(target, new) and not saved_weights_equal(target, old)
    else:
        assert_unchanged(check, new.get_weights())
    assert sorted(os.listdir(tmp_path / "store")) == [f"real{suffix}"]  # no temporary file left
    dangling = tmp_path / f"dangling{suffix}"
    dangling.symlink_to(tmp_path / "store" / f"later{suffix}")
    getattr(new, kind)(dangling)  # as open(..., "w") would: the link's target is created
    assert dangling.is_symlink() and (tmp_path / "store" / f"later{suffix}").is_file()


@pytest.mark.parametrize("kind", ["save", "save_weights"])
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604])
def test_save_over_a_file_keeps_its_permissions(tmp_path, kind, mode):
    path = tmp_path / ("m.keras" if kind == "save" else "m.weights.npz")
    model = make_model()
    getattr(model, kind)(path)
    os.chmod(path, mode)
    getattr(model, kind)(path)
    assert os.stat(path).st_mode & 0o7777 == mode


@pytest.mark.parametrize("kind, suffix", [("save", ".keras"), ("save_weights", ".weights.npz")])
def test_save_works_for_any_name_the_file_system_allows(tmp_path, kind, suffix):
    """A 250-character name: the temporary name used to add a suffix to it and hit ENAMETOOLONG."""
    name_max = os.pathconf(tmp_path, "PC_NAME_MAX")
    for length in (250, name_max):
        path = tmp_path / ("m" * (length - len(suffix)) + suffix)
        model = make_model()
        getattr(model, kind)(path)
        getattr(model, kind)(path)  # over an existing file too
        check = make_model()
        if kind == "save":
            assert saved_weights_equal(path, model)
        else:
            check.load_weights(path)
            assert_unchanged(check, model.get_weights())
        assert os.listdir(tmp_path) == [path.name]
        path.unlink()

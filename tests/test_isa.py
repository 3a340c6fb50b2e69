"""The instruction-set switch (fc.config.set_isa / get_isa / supported_isa, FITCORE_ISA) and the
levels against each other: the same model trained at every level this CPU supports agrees with the
others to float rounding and with numpy, and gives the same bits with 1 and 2 threads."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import fitcore as fc
from fitcore import layers as L
from isa_levels import isa, level_params, supported_levels

ALL_LEVELS = level_params()
PYTHON_DIR = os.path.dirname(os.path.dirname(fc.__file__))


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        return set(next(line for line in f if line.startswith("flags")).split(":")[1].split())


@pytest.mark.skipif(not os.path.exists("/proc/cpuinfo"), reason="needs /proc/cpuinfo to read the CPU's flags")
def test_supported_isa_matches_the_cpu_flags():
    flags = cpu_flags()
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl", "fma", "avx2"} <= flags:
        want = "avx512"
    elif {"avx2", "fma"} <= flags:
        want = "avx2"
    else:
        want = "baseline"
    assert fc.config.supported_isa() == want


def test_set_isa_caps_the_level_and_none_restores_the_widest():
    with isa("baseline"):
        assert fc.config.get_isa() == "baseline"
        fc.config.set_isa(None)
        assert fc.config.get_isa() == fc.config.supported_isa()


@pytest.mark.parametrize("bad", ["avx", "AVX2", "", 2, b"avx2"])
def test_set_isa_rejects_unknown_levels(bad):
    before = fc.config.get_isa()
    with pytest.raises(ValueError, match=r"set_isa: `level` must be one of 'baseline', 'avx2', 'avx512'"):
        fc.config.set_isa(bad)
    assert fc.config.get_isa() == before


def test_set_isa_rejects_a_level_the_cpu_lacks(monkeypatch):
    # Checked in Python against supported_isa(); the core refuses it too (an AVX2-only CPU is
    # simulated for the Python check, the core's own check needs a CPU without AVX-512).
    monkeypatch.setattr(fc.config, "supported_isa", lambda: "avx2")
    with pytest.raises(ValueError, match=r"`level` is not supported by this CPU \(it supports up to 'avx2'\), "
                                         r"got 'avx512'"):
        fc.config.set_isa("avx512")


def test_core_refuses_a_level_the_cpu_lacks():
    if fc.config.supported_isa() == "avx512":
        pytest.skip("every level is supported by this CPU (it has AVX-512), none to refuse")
    with pytest.raises(ValueError, match="is not supported by this CPU"):
        fc._core.set_isa_limit("avx512")


def run_python(code, **env):
    full = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [PYTHON_DIR, os.environ.get("PYTHONPATH")])))
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=120)


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_fitcore_isa_environment_variable_sets_the_level_at_import(level):
    run = run_python("import fitcore; print(fitcore.config.get_isa())", FITCORE_ISA=f" {level.upper()} ")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [level]


def test_fitcore_isa_unknown_value_fails_the_import_naming_the_variable():
    run = run_python("import fitcore", FITCORE_ISA="sse9")
    assert run.returncode != 0
    assert "ValueError: FITCORE_ISA='sse9' is not an instruction-set level: use one of baseline, avx2, avx512" \
        in run.stderr


def test_fitcore_isa_unsupported_level_warns_and_runs_the_widest(monkeypatch):
    monkeypatch.setattr(fc.config, "supported_isa", lambda: "baseline")
    before = fc.config.get_isa()
    with pytest.warns(RuntimeWarning, match=r"FITCORE_ISA='avx2' is not supported by this CPU "
                                            r"\(it supports up to 'baseline'\): running at 'baseline'"):
        fc.config._apply_isa_environment({"FITCORE_ISA": "avx2"})
    assert fc.config.get_isa() == before  # unchanged: already the widest the (real) CPU runs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fc.config._apply_isa_environment({})  # unset: nothing happens


# --- the same model at every level -------------------------------------------------------------

def train(level, threads):
    """A 3-layer MLP (widths off every tile edge, a batch of 300 rows) trained 3 epochs at `level`."""
    fc.utils.set_random_seed(11)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((600, 70), dtype=np.float32)
    y = rng.integers(0, 5, 600)
    model = fc.Sequential([fc.Input((70,)), L.Dense(200, activation="relu"), L.Dense(130, activation="tanh"),
                           L.Dense(5, activation="softmax")])
    model.compile(optimizer=fc.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    before = fc.config.get_num_threads()
    fc.config.set_num_threads(threads)
    try:
        with isa(level):
            history = model.fit(x, y, batch_size=300, epochs=3, verbose=0, shuffle=True)
            pred = model.predict(x[:50], verbose=0)
    finally:
        fc.config.set_num_threads(before)
    return history.history["loss"], model.get_weights(), pred


def numpy_forward(weights, x):
    w1, b1, w2, b2, w3, b3 = [w.astype(np.float64) for w in weights]
    h = np.maximum(x @ w1 + b1, 0)
    h = np.tanh(h @ w2 + b2)
    z = h @ w3 + b3
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_each_level_predicts_like_numpy_and_bits_do_not_depend_on_threads(level):
    one = train(level, 1)
    two = train(level, 2)
    assert one[0] == two[0]
    for a, b in zip(one[1], two[1]):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).standard_normal((600, 70), dtype=np.float32)[:50]
    np.testing.assert_allclose(one[2], numpy_forward(one[1], x.astype(np.float64)), rtol=1e-4, atol=1e-6)


def test_levels_train_the_same_model_to_float_rounding():
    runs = {level: train(level, 2) for level in supported_levels()}
    if len(runs) < 2:
        pytest.skip(f"this CPU runs only the {next(iter(runs))} level: no AVX2 + FMA to compare it with")
    # Only float rounding apart: the GEMMs of the FMA levels agree bit for bit (test_gemm.py), but
    # elementwise kernels (tanh, softmax) may round differently per level.
    widest = runs[supported_levels()[-1]]
    for level, (loss, weights, pred) in runs.items():
        np.testing.assert_allclose(loss, widest[0], rtol=1e-4, err_msg=level)
        np.testing.assert_allclose(pred, widest[2], rtol=1e-3, atol=1e-6, err_msg=level)
        for a, b in zip(weights, widest[1]):
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5, err_msg=level)


# --- the portable build: no leaks out of the per-ISA files, runs on CPUs without them ------------

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_portable_build_keeps_each_instruction_set_in_its_files_and_runs_on_emulated_cpus():
    # tools/check-isa: a FITCORE_NATIVE=OFF build (minutes), its objects and module checked for
    # weak symbols in per-ISA files and for AVX-512 / ymm code outside them, then (with qemu-user)
    # run on an emulated Haswell (AVX2, no AVX-512) and Nehalem (no AVX) against numpy.
    import shutil

    missing = [tool for tool in ("cmake", "ninja", "nm", "objdump") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"tools/check-isa needs {', '.join(missing)}")
    run = subprocess.run([os.path.join(REPO, "tools", "check-isa")], capture_output=True, text=True, timeout=3000)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "check-isa: 0 problem(s)" in run.stdout
    if shutil.which("qemu-x86_64") is None:
        pytest.skip("qemu-x86_64 absent (apt-get install qemu-user): the AVX2 and baseline paths were not run "
                    "on emulated CPUs without AVX-512 / AVX")
    assert "isa_smoke: supported avx2; levels baseline, avx2 match numpy and train" in run.stdout
    assert "isa_smoke: supported baseline; levels baseline match numpy and train" in run.stdout

"""bench/peers.py's plumbing (not speed): its FLOP count, a fitcore worker's report, skipped peers."""
import importlib.util
import itertools
import json
import os
import subprocess
import sys

import numpy as np
import pytest

PEERS_PY = os.path.join(os.path.dirname(__file__), "..", "bench", "peers.py")


def _peers():
    spec = importlib.util.spec_from_file_location("peers", PEERS_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flop_per_sample_counts_forward_weight_and_input_gradients():
    peers = _peers()
    layers = [(784, 256), (256, 256), (256, 10)]
    forward = sum(2 * i * o for i, o in layers)
    weight_grads = forward
    input_grads = sum(2 * i * o for i, o in layers[1:])  # none into the input layer
    assert peers.FLOP_PER_SAMPLE == forward + weight_grads + input_grads == 1_211_392


def test_reference_data_is_the_documented_workload():
    x, y = _peers().reference_data(100)
    rng = np.random.default_rng(0)
    expected_x = rng.random((100, 784), dtype=np.float32)
    w = rng.standard_normal((784, 10))
    np.testing.assert_array_equal(x, expected_x)
    np.testing.assert_array_equal(y, np.argmax(expected_x @ w, axis=1))


def test_fitcore_worker_reports_time_memory_and_data_size():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    run = subprocess.run([sys.executable, PEERS_PY, "--worker", "peer", "fitcore", "64", "512", "1"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["seconds"] > 0
    assert report["data_bytes"] == 512 * 784 * 4 + 512 * 8  # float32 x, int64 labels
    assert report["fit_peak_rss"] >= 0


def test_missing_peer_is_skipped_with_a_message(capsys, monkeypatch):
    peers = _peers()
    monkeypatch.setitem(peers.PEERS, "nothere", (["no_such_module_fitcore_test"], {}))
    assert not peers.installed("nothere")
    assert "nothere: skipped, no_such_module_fitcore_test not installed" in capsys.readouterr().out


# --- the matrix (bench/peers.py --matrix) -------------------------------------------------------
def test_matrix_covers_the_issue_axes_and_quick_is_a_subset():
    peers = _peers()
    cells = peers.matrix_cells(quick=False)
    assert len(cells) == 5 * 3 * 2 * 2 * 2
    assert {c[0] for c in cells} == {"relu", "gelu", "tanh", "sigmoid", "silu"}
    assert {c[1] for c in cells} == {32, 256, 2048} and {c[2] for c in cells} == {256, 1024}
    assert {c[3] for c in cells} == {False, True} and {c[4] for c in cells} == {"adam", "sgdm"}
    assert set(peers.matrix_cells(quick=True)) <= set(cells)
    assert all(peers.parse_cell(peers.cell_name(c)) == c for c in cells)


def test_matrix_flop_per_sample():
    w, f = 256, 128
    forward = 2 * (f * w + w * w + w)
    assert _peers().matrix_flop_per_sample(w) == 2 * forward + 2 * (w * w + w)


def test_matrix_rows_ratios_best_peer_and_peak_fraction():
    peers = _peers()
    cell = ("gelu", 256, 256, True, "adam")
    name = peers.cell_name(cell)
    rates = {"fitcore": {name: 3000.0}, "keras-jax": {name: 1500.0}, "torch": {name: 2000.0}}
    (row,) = peers.matrix_rows([cell], rates, peak_gflops=100.0)
    assert row["ratios"] == {"keras-jax": 2.0, "torch": 1.5}
    assert row["vs_best"] == 1.5
    assert row["peak_fraction"] == 3000.0 * peers.matrix_flop_per_sample(256) / 100e9
    assert abs(peers.geometric_mean([2.0, 8.0]) - 4.0) < 1e-12


def test_matrix_rounds_keep_each_cells_best_rate(capsys):
    peers = _peers()
    cells = [("relu", 32, 256, False, "adam"), ("relu", 32, 256, False, "sgdm")]
    adam, sgdm = (peers.cell_name(c) for c in cells)
    # Round 1 is fast for adam, round 2 for sgdm; fitcore and Keras/JAX alternate within each round.
    reports = iter([{"isa": "avx2", "cpu": "test CPU", "threads": 2, "gflops": 100.0},
                    {adam: 400.0, sgdm: 100.0}, {adam: 200.0, sgdm: 200.0},
                    {adam: 100.0, sgdm: 300.0}, {adam: 50.0, sgdm: 400.0}])
    calls = []
    peers.spawn = lambda args, env_extra=None: (calls.append(args[:2]), next(reports))[1]
    peers.matrix(["fitcore", "keras-jax"], cells, 64, [], rounds=2)
    assert calls == [["peak"], ["matrix", "fitcore"], ["matrix", "keras-jax"], ["matrix", "fitcore"],
                     ["matrix", "keras-jax"]]
    out = capsys.readouterr().out
    assert "best of 2 rounds" in out
    assert "relu        32   256 0 adam     0.4k         0.2k       2.00x  2.00x" in out  # 400 / 200
    assert "relu        32   256 0 sgdm     0.3k         0.4k       0.75x  0.75x" in out  # 300 / 400


def _worker(*args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    run = subprocess.run([sys.executable, PEERS_PY, "--worker", *args], capture_output=True, text=True, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_matrix_worker_reports_each_cells_rate():
    cells = "relu:32:16:1:adam,gelu:64:16:0:sgdm"
    report = _worker("matrix", "fitcore", cells, "256", "0.05")
    assert set(report) == set(cells.split(","))
    assert all(rate > 0 for rate in report.values())


def test_matrix_cell_times_epochs_until_its_seconds_add_up(monkeypatch):
    """The timed epochs stop at the first epoch that brings their sum to the budget: enough of them
    that one slow epoch does not decide the cell, and no more. A fake clock makes every epoch last
    10 ms, so a 35 ms budget takes exactly 4 (whatever the machine's speed)."""
    import fitcore

    peers = _peers()
    ticks = itertools.count()
    monkeypatch.setattr(peers, "clock", lambda: next(ticks) * 0.01)  # one tick per read: begin, end
    x, y = peers.matrix_data(512)
    times = peers.keras_like_cell(fitcore, ("relu", 64, 32, False, "adam"), x, y, 0.035)
    assert times == pytest.approx([0.01] * 4)


def test_peak_worker_reports_cpu_isa_and_fma_peak():
    import fitcore

    report = _worker("peak")
    assert report["isa"] == fitcore._core.supported_isa()
    assert report["cpu"] and report["threads"] == os.cpu_count()
    assert report["gflops"] > 1.0

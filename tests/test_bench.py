"""bench/peers.py's plumbing (not speed): its FLOP count, a fitcore worker's report, skipped peers."""
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np

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

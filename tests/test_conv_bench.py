"""bench/conv.py's plumbing (not speed): the workloads' data and models, and a fitcore worker's report."""
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np

import fitcore as fc

CONV_PY = os.path.join(os.path.dirname(__file__), "..", "bench", "conv.py")


def _conv_bench():
    spec = importlib.util.spec_from_file_location("conv_bench", CONV_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_workloads_have_the_documented_shapes_and_models():
    bench = _conv_bench()
    shapes = {"mnist": ((28, 28, 1), (10,), 34_826), "cifar": ((32, 32, 3), (), 95_434),
              "text": ((200,), (1,), 681_217)}
    for name, (x_shape, y_shape, params) in shapes.items():
        x, y = bench.workload_data(name, 64)
        assert x.shape == (64,) + x_shape and y.shape == (64,) + y_shape
        model, loss = bench.keras_like_model(fc, name)
        assert model.input_shapes == [x_shape] and model.count_params() == params
        model.compile(optimizer="adam", loss=loss)
        assert np.isfinite(model.evaluate(x, y, verbose=0))
    assert bench.WORKLOADS["mnist"][1] == 128 and bench.WORKLOADS["cifar"][1] == 64 == bench.WORKLOADS["text"][1]


def test_fitcore_worker_reports_time_and_memory():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    run = subprocess.run([sys.executable, CONV_PY, "--worker", "fitcore", "text", "128", "64"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["seconds"] > 0 and report["peak_rss"] >= 0 and report["data_bytes"] == 128 * 200 * 4 + 128 * 4

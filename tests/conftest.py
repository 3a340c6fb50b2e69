import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

import fitcore as fc  # noqa: E402


@pytest.fixture(autouse=True)
def _seeded():
    fc.utils.set_random_seed(1234)
    yield


def weight_offsets(model):
    """Where each of model.weights lies in the core's flat parameter buffer (in floats)."""
    return [model._weight_offset(w) for w in model.weights]


def core_gradients(model, x, y, sample_weight=None):
    """The core's gradient of the training loss for each of model.weights, as arrays."""
    core = model._core_trainer("test")
    data = model._adapter(x, y, sample_weight)
    model._prepare_metrics(core, data.targets)
    flat = core.compute_gradients(*data.arrays)
    return [flat[o:o + w.size].reshape(w.shape) for o, w in zip(weight_offsets(model), model.weights)]


def core_training_loss(model, x, y, sample_weight=None):
    """The training-mode loss of one batch (dropout and noise active, batch statistics), with the
    same random draws as core_gradients on the same batch: nothing is updated but BN's moving stats."""
    core = model._core_trainer("test")
    data = model._adapter(x, y, sample_weight)
    model._prepare_metrics(core, data.targets)
    core.reset_metrics()
    core.compute_gradients(*data.arrays)
    return core.results()[0]


@pytest.fixture
def restore_threads():
    """For tests that vary fc.config.set_num_threads: the thread count is put back afterwards."""
    before = fc.config.get_num_threads()
    yield
    fc.config.set_num_threads(before)

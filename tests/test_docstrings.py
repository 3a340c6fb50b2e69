"""help(model.fit) explains every argument as the seed page does: each public entry point of the
trainer, and each built-in callback, optimizer and schedule, documents every argument it takes
in a Keras-style `Args:` section (and what it returns)."""
import inspect

import pytest

import fitcore as fc
from fitcore.trainers.trainer import Trainer

DOCUMENTED = [getattr(Trainer, name) for name in (
    "compile", "fit", "evaluate", "predict", "train_on_batch", "test_on_batch", "predict_on_batch")] + [
    fc.callbacks.EarlyStopping, fc.callbacks.ModelCheckpoint, fc.callbacks.ReduceLROnPlateau,
    fc.callbacks.LearningRateScheduler, fc.callbacks.CSVLogger, fc.callbacks.LambdaCallback,
    fc.callbacks.BackupAndRestore, fc.callbacks.ProgbarLogger,
    fc.optimizers.SGD, fc.optimizers.Adam, fc.optimizers.AdamW, fc.optimizers.RMSprop, fc.optimizers.Adagrad,
    fc.optimizers.schedules.ExponentialDecay, fc.optimizers.schedules.PiecewiseConstantDecay,
    fc.optimizers.schedules.CosineDecay, fc.utils.PyDataset, fc.utils.set_random_seed, fc.config.set_num_threads,
]


@pytest.mark.parametrize("obj", DOCUMENTED, ids=lambda o: o.__qualname__)
def test_every_argument_is_documented(obj):
    doc = inspect.getdoc(obj)
    params = [p for p in inspect.signature(obj.__init__ if inspect.isclass(obj) else obj).parameters
              if p != "self"]
    assert doc and doc.splitlines()[0].strip(), "a summary line"
    if params:
        args = doc.split("Args:", 1)
        assert len(args) == 2, "an Args: section"
        for name in params:
            assert f"\n    {name}:" in "\n" + args[1] or f"**{name}:" in args[1], f"`{name}` documented"
    if not inspect.isclass(obj) and obj.__name__ in ("fit", "evaluate", "predict", "train_on_batch"):
        assert "Returns:" in doc

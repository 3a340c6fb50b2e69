"""Every monitoring mode of the three callbacks that watch a logged value (ModelCheckpoint with
save_best_only, EarlyStopping, ReduceLROnPlateau): crafted curves with ties, min_delta, baselines
and each of min / max / auto, asserting exactly which epochs were acted on (Keras 3's
MonitorCallback rules: strictly better by more than |min_delta|; a tie is not an improvement)."""
import os

import numpy as np
import pytest

import fitcore as fc
from fitcore import callbacks as cb


class Curve(cb.Callback):
    """Replaces one log key with a crafted value per epoch (listed before the callback under test)."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values = key, values

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


def fit_with(key, curve, callback, learning_rate=0.1):
    fc.utils.set_random_seed(0)
    model = fc.Sequential([fc.Input((2,)), fc.layers.Dense(1)])
    model.compile(optimizer=fc.optimizers.SGD(learning_rate), loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32)
    history = model.fit(x, x[:, :1], batch_size=8, epochs=len(curve), verbose=0,
                        callbacks=[Curve(key, curve), callback])
    return model, history


@pytest.mark.parametrize("key, curve, kwargs, saved", [
    ("val_loss", [1.0, 0.8, 0.8, 0.9, 0.7, 0.7], {}, [1, 2, 5]),                            # auto=min; ties skip
    ("val_accuracy", [0.5, 0.7, 0.7, 0.6, 0.9], {}, [1, 2, 5]),                             # auto=max; a tie
    ("val_accuracy", [0.5, 0.7, 0.7, 0.6, 0.9], {"mode": "max"}, [1, 2, 5]),
    ("val_loss", [1.0, 0.8, 1.2, 1.2, 1.3], {"mode": "max"}, [1, 3, 5]),                    # max on a loss name
    ("val_accuracy", [0.5, 0.7, 0.4, 0.4], {"mode": "min"}, [1, 3]),                        # min on an accuracy
    ("val_loss", [1.0, 0.8, 0.9, 0.7], {"initial_value_threshold": 0.85}, [2, 4]),          # must beat 0.85 first
    ("val_accuracy", [0.5, 0.8, 0.9], {"mode": "max", "initial_value_threshold": 0.8}, [3]),  # 0.8 ties: no save
    ("auc", [0.7, 0.6, 0.75], {}, [1, 3]),                                                  # auto: AUC goes up
])
def test_model_checkpoint_save_best_only_saves_exactly_the_improving_epochs(tmp_path, key, curve, kwargs, saved):
    checkpoint = cb.ModelCheckpoint(str(tmp_path / "ckpt-{epoch}.weights.npz"), monitor=key, save_best_only=True,
                                    save_weights_only=True, **kwargs)
    fit_with(key, curve, checkpoint)
    assert sorted(int(name[5:-12]) for name in os.listdir(tmp_path)) == saved
    improving = [curve[e - 1] for e in saved]
    assert checkpoint.best == improving[-1]


def test_model_checkpoint_keeps_the_best_epochs_weights_under_a_fixed_name(tmp_path):
    path = str(tmp_path / "best.weights.npz")
    weights = []

    class Snapshot(cb.Callback):
        def on_epoch_end(self, epoch, logs=None):
            weights.append([w.copy() for w in self.model.get_weights()])

    curve = [1.0, 0.6, 0.6, 0.9]
    fc.utils.set_random_seed(0)
    model = fc.Sequential([fc.Input((2,)), fc.layers.Dense(1)])
    model.compile(optimizer=fc.optimizers.SGD(0.1), loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32)
    model.fit(x, x[:, :1], batch_size=8, epochs=4, verbose=0, callbacks=[
        Curve("val_loss", curve), Snapshot(), cb.ModelCheckpoint(path, save_best_only=True, save_weights_only=True)])
    model.load_weights(path)
    for saved, best in zip(model.get_weights(), weights[1]):  # epoch 2 (index 1), not the tie at epoch 3
        np.testing.assert_array_equal(saved, best)


@pytest.mark.parametrize("key, curve, kwargs, trained", [
    ("loss", [1.0, 1.0, 0.5], {"patience": 1}, 2),                                        # a tie is no improvement
    ("loss", [1.0, 0.95, 0.5], {"patience": 1, "min_delta": 0.1}, 2),                     # 0.05 < min_delta
    ("loss", [1.0, 0.95, 0.5], {"patience": 1, "min_delta": -0.1}, 2),                    # |min_delta| is used
    ("accuracy", [0.5, 0.54, 0.7], {"patience": 1, "min_delta": 0.05}, 2),               # auto=max with min_delta
    ("accuracy", [0.5, 0.56, 0.57, 0.58], {"patience": 1, "min_delta": 0.05}, 3),
    ("accuracy", [0.5, 0.4, 0.45, 0.3], {"patience": 1, "mode": "min"}, 3),              # min on an accuracy
    ("loss", [1.0, 1.5, 1.2, 2.0], {"patience": 1, "mode": "max"}, 3),                    # max on a loss
    ("auc", [0.7, 0.6, 0.9], {"patience": 1}, 2),                                         # auto: AUC goes up
    ("accuracy", [0.5, 0.55, 0.58, 0.59, 0.7], {"patience": 2, "baseline": 0.6}, 5),     # improving: never stops
    ("accuracy", [0.5, 0.55, 0.55, 0.7], {"patience": 2, "baseline": 0.6}, 3),           # the tie after 2 waits
    ("loss", [1.0, 0.9, 0.9, 0.9, 0.9], {"patience": 2, "baseline": 0.5, "mode": "min"}, 3),
])
def test_early_stopping_every_mode_stops_at_the_epoch_keras_does(key, curve, kwargs, trained):
    stopper = cb.EarlyStopping(monitor=key, **kwargs)
    _, history = fit_with(key, curve, stopper)
    assert len(history.history["loss"]) == trained
    assert stopper.stopped_epoch == (trained - 1 if trained < len(curve) else 0)


@pytest.mark.parametrize("key, curve, kwargs, rates", [
    # rates: the learning rate each epoch trained with (logged), then the final one
    ("loss", [1.0, 1.0, 0.5, 0.5], {"min_delta": 0}, [0.1, 0.1, 0.05, 0.05, 0.025]),            # ties reduce
    ("loss", [1.0, 0.99995, 0.5], {}, [0.1, 0.1, 0.05, 0.05]),                                  # < default 1e-4
    ("accuracy", [0.5, 0.505, 0.6, 0.6], {"mode": "max", "min_delta": 0.01}, [0.1, 0.1, 0.05, 0.05, 0.025]),
    ("accuracy", [0.5, 0.6, 0.7], {}, [0.1, 0.1, 0.1, 0.1]),                                     # auto=max: improving
    ("accuracy", [0.5, 0.6, 0.7], {"mode": "min"}, [0.1, 0.1, 0.05, 0.025]),                    # min: worse twice
    ("loss", [1.0, 2.0, 3.0], {"mode": "max"}, [0.1, 0.1, 0.1, 0.1]),
])
def test_reduce_lr_on_plateau_every_mode(key, curve, kwargs, rates):
    reducer = cb.ReduceLROnPlateau(monitor=key, factor=0.5, patience=1, **kwargs)
    model, history = fit_with(key, curve, reducer)
    assert history.history["learning_rate"] == pytest.approx(rates[:len(curve)])
    assert float(model.optimizer.learning_rate) == pytest.approx(rates[len(curve)])


@pytest.mark.parametrize("make", [
    lambda: cb.EarlyStopping(monitor="val_thing"),
    lambda: cb.ModelCheckpoint("x.weights.npz", monitor="val_thing", save_best_only=True, save_weights_only=True),
    lambda: cb.ReduceLROnPlateau(monitor="val_thing"),
])
def test_auto_mode_on_a_name_of_no_known_direction_says_to_pass_mode(make):
    with pytest.raises(ValueError, match=r"cannot tell whether `monitor`='val_thing' should be minimized or "
                                         r"maximized; pass mode='min' or mode='max'"):
        fit_with("val_thing", [1.0, 2.0], make())


@pytest.mark.parametrize("make, message", [
    (lambda: cb.EarlyStopping(mode="up"), r"EarlyStopping: `mode` must be 'auto', 'min' or 'max', got 'up'"),
    (lambda: cb.ReduceLROnPlateau(min_delta="a"), r"ReduceLROnPlateau: `min_delta` must be a number, got 'a'"),
    (lambda: cb.EarlyStopping(baseline=[1]), r"EarlyStopping: `baseline` must be a number, got \[1\]"),
    (lambda: cb.ReduceLROnPlateau(factor=1.0), r"ReduceLROnPlateau: `factor` must be in \[0.0, 1.0\), got 1.0"),
    (lambda: cb.ReduceLROnPlateau(min_lr=-1), r"ReduceLROnPlateau: `min_lr` must be in \[0.0, inf\], got -1.0"),
])
def test_monitor_arguments_are_checked_when_the_callback_is_made(make, message):
    with pytest.raises((TypeError, ValueError), match=message):
        make()

"""Trainer: compile / fit / evaluate / predict. Python decides (arguments, data, callbacks);
the core computes, running long stretches of steps with the GIL released."""
import math
import sys
import time
import warnings
from collections.abc import Collection

import numpy as np

from fitcore import _core
from fitcore.callbacks.callback_list import CallbackList
from fitcore.callbacks.metrics_viewer import resolve_view_metrics
from fitcore.data.adapters import ArrayAdapter, get_adapter
from fitcore.data.validation import check_fraction, check_int, check_positive_int, split_at
from fitcore.trainers.compile_utils import CompileConfig
from fitcore.utils.random import draw_seed

_VERBOSE = (0, 1, 2, "auto")
# Between two progress updates the core runs for about this long.
_PROGRESS_INTERVAL = 0.1
_COMPILE_KEYWORDS_IGNORED = ("run_eagerly", "jit_compile", "steps_per_execution", "auto_scale_loss")


def _resolve_verbose(verbose, arg="verbose"):
    if verbose not in _VERBOSE or isinstance(verbose, bool):
        raise ValueError(f"`{arg}` must be 0, 1, 2 or 'auto', got {verbose!r}")
    if verbose == "auto":
        return 1 if _interactive() else 2
    return verbose


def _interactive():
    """A terminal or a notebook: where a progress bar redrawn in place reads well."""
    try:
        from IPython import get_ipython

        if get_ipython() is not None and "IPKernelApp" in get_ipython().config:
            return True
    except Exception:
        pass
    return hasattr(sys.stdout, "isatty") and sys.stdout.isatty()


def _validation_epochs(validation_freq):
    """A predicate on 0-based epochs from an int N (every N-th, counting from 1) or 1-based epochs."""
    if isinstance(validation_freq, bool):
        raise TypeError(f"`validation_freq` must be an int or a collection of ints, got {validation_freq!r}")
    if isinstance(validation_freq, (int, np.integer)):
        n = check_positive_int("validation_freq", validation_freq)
        return lambda epoch: (epoch + 1) % n == 0
    if isinstance(validation_freq, Collection) and not isinstance(validation_freq, (str, bytes)):
        chosen = {check_positive_int("validation_freq entries", e) for e in validation_freq}
        return lambda epoch: epoch + 1 in chosen
    raise TypeError(f"`validation_freq` must be an int or a collection of ints, got {validation_freq!r}")


class Trainer:
    def __init__(self):
        self._compile_config = None
        self._core = None
        self._metric_plan = None
        self.optimizer = None
        self.stop_training = False
        self.history = None

    # --- compile -----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                **kwargs):
        unknown = sorted(set(kwargs) - set(_COMPILE_KEYWORDS_IGNORED))
        if unknown:
            raise TypeError(f"compile: unexpected keyword argument(s) {unknown}")
        self._compile_config = CompileConfig(self, optimizer, loss, loss_weights, metrics, weighted_metrics)
        self.optimizer = self._compile_config.optimizer
        if self.built:
            self._relower()  # trainable flags may have changed since the graph was lowered
        self._metric_plan = None

    @property
    def compiled(self):
        return self._compile_config is not None

    def _core_trainer(self, what):
        """The core trainer, made on first use after compile (and after a re-lowering)."""
        if self._compile_config is None:
            raise ValueError(f"{what}: you must call compile() on the model before {what}()")
        self._compile_config.require_loss()
        if self._core is None:
            cfg = self._compile_config
            opt = cfg.optimizer
            spec = _core.OptimizerSpec(opt.core_name, _core.Config(opt.core_config(), {}))
            self._core = _core.Trainer(self._network, cfg.loss_specs(self.output_shapes), spec, draw_seed())
            opt._attach(self._core, self)
            self._metric_plan = None
        return self._core

    def _prepare_metrics(self, core, targets):
        """Resolves the compiled metrics for these targets' shapes and tells the core."""
        shapes = [tuple(t.shape[1:]) for t in targets]
        if self._metric_plan is None or self._metric_plan[0] != shapes:
            names, specs = self._compile_config.metric_plan(self.output_names, shapes, self.output_shapes)
            core.set_metrics(specs)
            self._metric_plan = (shapes, names)
        return self._metric_plan[1]

    def _logs(self, core):
        return dict(zip(self._metric_plan[1], (float(v) for v in core.results())))

    def _adapter(self, x, y=None, sample_weight=None, arg_prefix=""):
        losses = self._compile_config.losses if self._compile_config else None
        return get_adapter(x, model=self, y=y, sample_weight=sample_weight, losses=losses, arg_prefix=arg_prefix)

    # --- fit ---------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1,
            view_metrics="auto"):
        batch_size = check_positive_int("batch_size", batch_size, allow_none=True) or 32
        epochs = check_int("epochs", epochs, low=0)
        initial_epoch = check_int("initial_epoch", initial_epoch, low=0)
        verbose = _resolve_verbose(verbose)
        validation_split = check_fraction("validation_split", validation_split)
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"`shuffle` must be True or False, got {shuffle!r}")
        steps_per_epoch = check_int("steps_per_epoch", steps_per_epoch, low=-1, allow_none=True)
        if steps_per_epoch == 0:
            raise ValueError("`steps_per_epoch` must be a positive int, -1 or None, got 0")
        validation_steps = check_positive_int("validation_steps", validation_steps, allow_none=True)
        validation_batch_size = check_positive_int("validation_batch_size", validation_batch_size,
                                                   allow_none=True) or batch_size
        should_validate = _validation_epochs(validation_freq)
        if view_metrics not in ("auto", True, False, None) or type(view_metrics) in (int, float):
            raise ValueError(f"`view_metrics` must be 'auto' (the fc.config default), True or False, "
                             f"got {view_metrics!r}")
        if x is None:
            raise ValueError("fit: `x` is required")

        self._build_from_data(x)
        core = self._core_trainer("fit")
        train = self._adapter(x, y, sample_weight)
        if train.targets is None:
            raise ValueError("fit: `y` is required for array inputs")
        val = None
        if validation_data is not None:
            val = self._validation_adapter(validation_data)
        elif validation_split > 0.0:
            cut = split_at(train.num_samples, validation_split)
            if cut == 0 or cut == train.num_samples:
                raise ValueError(f"`validation_split`={validation_split} of {train.num_samples} samples leaves "
                                 f"{'no training' if cut == 0 else 'no validation'} samples")
            train, val = train.take(0, cut), train.take(cut, train.num_samples)
        if class_weight is not None:
            train = train.with_class_weight(class_weight, self, self._compile_config.losses)
        self._prepare_metrics(core, train.targets)

        steps = steps_per_epoch if steps_per_epoch is not None else train.num_batches(batch_size)
        callback_list = CallbackList(callbacks, model=self, add_history=True, add_progbar=verbose != 0,
                                     extra=[resolve_view_metrics(view_metrics, verbose, epochs)],
                                     verbose=verbose, epochs=epochs, steps=steps)
        every_batch = callback_list.needs_every_batch
        if steps == -1 and not every_batch:
            raise ValueError("`steps_per_epoch`=-1 trains until a callback sets model.stop_training, "
                             "but no callback has batch hooks to do so")

        inputs, targets, weights = train.arrays
        core.set_data(inputs, targets, weights)
        self.stop_training = False
        self._initial_epoch = None
        logs = {}
        try:
            callback_list.on_train_begin()
            # BackupAndRestore may move the start forward (model._initial_epoch).
            first_epoch = self._initial_epoch if self._initial_epoch is not None else initial_epoch
            for epoch in range(first_epoch, epochs):
                core.reset_metrics()
                callback_list.on_epoch_begin(epoch)
                if epoch == first_epoch or steps_per_epoch is None or steps_per_epoch == -1:
                    core.begin_epoch(epoch, bool(shuffle), batch_size)
                logs = self._train_epoch(core, steps, callback_list, every_batch, verbose == 1)
                if val is not None and should_validate(epoch):
                    val_logs = self._evaluate_adapter(val, validation_batch_size, validation_steps, callback_list)
                    logs.update({"val_" + k: v for k, v in val_logs.items()})
                callback_list.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
            callback_list.on_train_end(logs)
        finally:
            core.clear_data()
        self.history = callback_list.history
        return self.history

    def _train_epoch(self, core, steps, callbacks, every_batch, show_progress):
        """Runs one epoch's steps, in stretches as long as the callbacks allow."""
        done, chunk = 0, 1
        logs = {}
        while steps == -1 or done < steps:
            if not every_batch:
                # No callback needs each step: run until the next progress update (or the epoch end).
                chunk = (steps - done) if not show_progress else max(1, min(chunk, steps - done))
            else:
                chunk = 1
                callbacks.on_train_batch_begin(done)
            started = time.perf_counter()
            core.train_steps(chunk)
            done += chunk
            logs = self._logs(core)
            if every_batch or show_progress:
                callbacks.on_train_batch_end(done - 1, logs)
            if show_progress and not every_batch:
                elapsed = max(time.perf_counter() - started, 1e-6)
                chunk = max(1, int(chunk * _PROGRESS_INTERVAL / elapsed))
            if self.stop_training:
                break
        return logs

    def _validation_adapter(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, "
                             f"val_sample_weight), got {type(validation_data).__name__}"
                             + (f" of length {len(validation_data)}" if isinstance(validation_data, (tuple, list))
                                else ""))
        x_val, y_val = validation_data[0], validation_data[1]
        sw_val = validation_data[2] if len(validation_data) == 3 else None
        return self._adapter(x_val, y_val, sw_val, arg_prefix="validation_data: ")

    # --- evaluate / predict ------------------------------------------------------------------
    def _evaluate_adapter(self, adapter, batch_size, steps, callbacks):
        core = self._core
        core.reset_metrics()
        self._prepare_metrics(core, adapter.targets)
        callbacks.on_test_begin()
        if steps is not None:
            adapter = adapter.take(0, min(adapter.num_samples, steps * batch_size))
        inputs, targets, weights = adapter.arrays
        if any(c.overrides_batch_hooks() and c.needs_every_batch for c in callbacks.callbacks):
            for b, first in enumerate(range(0, adapter.num_samples, batch_size)):
                callbacks.on_test_batch_begin(b)
                part = adapter.take(first, first + batch_size)
                core.evaluate(*part.arrays, batch_size)
                callbacks.on_test_batch_end(b, self._logs(core))
        else:
            core.evaluate(inputs, targets, weights, batch_size)
        logs = self._logs(core)
        callbacks.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        batch_size = check_positive_int("batch_size", batch_size, allow_none=True) or 32
        steps = check_positive_int("steps", steps, allow_none=True)
        verbose = _resolve_verbose(verbose)
        if x is None:
            raise ValueError("evaluate: `x` is required")
        self._build_from_data(x)
        self._core_trainer("evaluate")
        data = self._adapter(x, y, sample_weight)
        if data.targets is None:
            raise ValueError("evaluate: `y` is required for array inputs")
        callback_list = CallbackList(callbacks, model=self, add_progbar=verbose != 0, verbose=verbose, epochs=1,
                                     steps=steps or data.num_batches(batch_size))
        logs = self._evaluate_adapter(data, batch_size, steps, callback_list)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        batch_size = check_positive_int("batch_size", batch_size, allow_none=True) or 32
        steps = check_positive_int("steps", steps, allow_none=True)
        verbose = _resolve_verbose(verbose)
        self._build_from_data(x)
        data = get_adapter(x, model=self)
        if steps is not None:
            data = data.take(0, min(data.num_samples, steps * batch_size))
        callback_list = CallbackList(callbacks, model=self, add_progbar=verbose != 0, verbose=verbose, epochs=1,
                                     steps=data.num_batches(batch_size))
        callback_list.on_predict_begin()
        outputs = [np.empty((data.num_samples,) + tuple(s), np.float32) for s in self.output_shapes]
        self._inference_core().predict(data.inputs, batch_size, outputs)
        callback_list.on_predict_end()
        return outputs[0] if len(outputs) == 1 else outputs

    def _inference_core(self):
        """Prediction needs no compile (as in Keras): a core trainer with a placeholder loss."""
        if self._core is not None:
            return self._core
        if getattr(self, "_predictor", None) is None or self._predictor[0] is not self._network:
            losses = [_core.OutputLossSpec("mean_squared_error", _core.Config(), 1.0, int(np.prod(s)))
                      for s in self.output_shapes]
            spec = _core.OptimizerSpec("sgd", _core.Config({"learning_rate": 0.0}, {}))
            self._predictor = (self._network, _core.Trainer(self._network, losses, spec, 0))
        return self._predictor[1]

    # --- single batches ----------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._build_from_data(x)
        core = self._core_trainer("train_on_batch")
        batch = self._adapter(x, y, sample_weight)
        if batch.targets is None:
            raise ValueError("train_on_batch: `y` is required")
        if class_weight is not None:
            batch = batch.with_class_weight(class_weight, self, self._compile_config.losses)
        self._prepare_metrics(core, batch.targets)
        core.train_batch(*batch.arrays)
        return self._batch_result(core, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._build_from_data(x)
        core = self._core_trainer("test_on_batch")
        batch = self._adapter(x, y, sample_weight)
        if batch.targets is None:
            raise ValueError("test_on_batch: `y` is required")
        self._prepare_metrics(core, batch.targets)
        core.reset_metrics()
        core.evaluate(*batch.arrays, batch.num_samples)
        return self._batch_result(core, return_dict)

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=max(1, len(np.asarray(x) if not isinstance(x, (list, dict)) else x)),
                            verbose=0)

    def reset_metrics(self):
        if self._core is not None:
            self._core.reset_metrics()

    def _batch_result(self, core, return_dict):
        logs = self._logs(core)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

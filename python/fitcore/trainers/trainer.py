"""Trainer: compile / fit / evaluate / predict. Python decides (arguments, data, callbacks);
the core computes, running long stretches of steps with the GIL released. Which steps each epoch
holds (repeats, restarts, validation batches reused) is trainers/epoch_iterator.py's to decide."""
import warnings
from contextlib import closing

import numpy as np

from fitcore import _core, distribution
from fitcore.callbacks.callback_list import CallbackList
from fitcore.callbacks.metrics_viewer import resolve_view_metrics
from fitcore.callbacks.progbar_logger import resolve_verbose
from fitcore.data.adapters import get_adapter, stream_adapter
from fitcore.data.standardize import check_class_weight
from fitcore.data.validation import (check_bool, check_fraction, check_int, check_positive_int, check_steps_per_epoch,
                                     check_validation_freq, check_verbose, check_view_metrics, split_at)
from fitcore.trainers.compile_utils import CompileConfig
from fitcore.trainers.epoch_iterator import EpochIterator
from fitcore.trainers.exclusive import guarded
from fitcore.utils.random import draw_seed

_COMPILE_KEYWORDS_IGNORED = ("run_eagerly", "jit_compile", "steps_per_execution", "auto_scale_loss")


def _refuse_for_batching_data(adapter, data_arg="x", **given):
    """Arguments that do not apply to data making its own batches (generators, datasets)."""
    if not adapter.makes_batches:
        return
    for name, (value, default) in given.items():
        if value != default:
            raise ValueError(f"`{name}` must not be given when `{data_arg}` is a {adapter.description}, which "
                             f"makes its own batches; got {name}={value!r}")


def _shows_progress(verbose, iterator):
    """Whether the progress display needs the batch-end hook: a bar (verbose 1), or one line per
    epoch for a stream, whose step count is known only by counting."""
    shows = resolve_verbose(verbose)
    return shows == 1 or (shows == 2 and not iterator.in_core)


def _single(values):
    return values[0] if len(values) == 1 else values


class Trainer:
    """The training half of a model: compile, fit, evaluate, predict and their one-batch forms."""

    def __init__(self):
        self._compile_config = None
        self._core = None
        self._next_core_seed = None
        self._metric_plan = None
        self.optimizer = None
        self.stop_training = False
        self.history = None

    # --- compile -----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                **kwargs):
        """Configures the model for training.

        Args:
            optimizer: an optimizer name ("sgd", "adam", "adamw", "rmsprop", "adagrad") or an
                `fc.optimizers` instance.
            loss: a loss name ("mse", "mae", "binary_crossentropy", ...) or an `fc.losses` instance;
                for several outputs, a list by position or a dict by output name. A Python function
                is a TypeError: the core cannot differentiate it.
            loss_weights: a float per output (list or dict) scaling each output's loss in the total.
            metrics: metric names or instances ("accuracy", `fc.metrics.AUC()`, ...), Python
                `fc.metrics.Metric` subclasses or functions `fn(y_true, y_pred)`; for several
                outputs, a dict by output name or a list with one entry per output. Sample weights
                do not apply to these.
            weighted_metrics: as `metrics`, computed with the sample weights.
            **kwargs: Keras's `run_eagerly`, `jit_compile`, `steps_per_execution` and
                `auto_scale_loss` are accepted and ignored; anything else is a TypeError.
        """
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
        """True once compile() was called."""
        return self._compile_config is not None

    def _core_trainer(self, what, dist=None):
        """The core trainer, made on first use after compile (and after a re-lowering)."""
        self._require_compiled(what)
        if dist is not None and dist.distributed and self._compile_config.has_python_metrics:
            raise ValueError(f"{what}: metrics written in Python are not supported in a data-parallel run (their "
                             f"state cannot be summed over the processes); use fitcore's own metrics")
        if self._core is None:
            cfg = self._compile_config
            opt = cfg.optimizer
            spec = _core.OptimizerSpec(opt.core_name, _core.Config(opt.core_config(), {}))
            seed = self._next_core_seed if self._next_core_seed is not None else draw_seed()
            self._next_core_seed = None  # load_model restores the saved run's seed, once
            self._core = _core.Trainer(self._network, cfg.loss_specs(self.output_shapes), spec, seed)
            opt._attach(self._core, self)
            self._metric_plan = None
        return self._core

    def _prepare_metrics(self, core, targets):
        """Resolves the compiled metrics for these targets' shapes and tells the core."""
        shapes = [tuple(t.shape[1:]) for t in targets]
        if self._metric_plan is None or self._metric_plan[0] != shapes:
            names, specs, python = self._compile_config.metric_plan(self.output_names, shapes, self.output_shapes)
            core.set_metrics(specs)
            self._metric_plan = (shapes, names, python)
        return self._metric_plan[1]

    def _reset_metrics(self, core):
        """Clears the core's metrics and the Python-defined ones."""
        core.reset_metrics()
        if self._compile_config is not None:
            self._compile_config.reset_python_metrics()

    def _results(self, core):
        """The metrics so far, in compile order (loss first): what evaluate returns as a list."""
        _, names, python = self._metric_plan
        values = [float(v) for v in core.results()]
        for position, value in zip(python.positions, python.results()):
            values.insert(position, value)
        return dict(zip(names, values))

    def _step_python_metrics(self, core, batch, run_step):
        """Runs `run_step()` on one batch, feeding the Python-defined metrics the model's predictions
        for it (made before the step, which may update the weights)."""
        python = self._metric_plan[2]
        if not python:
            return run_step()
        inputs, targets, weights = batch
        outputs = [np.empty((inputs[0].shape[0],) + tuple(s), np.float32) for s in self.output_shapes]
        core.predict(inputs, inputs[0].shape[0], outputs)
        run_step()
        python.update(outputs, targets, weights)

    def _logs(self, core):
        """The metrics so far as callbacks and History see them: keys sorted, as Keras 3 logs them."""
        return dict(sorted(self._results(core).items()))

    def _require_compiled(self, what):
        """Compiled with a loss for every output: checked before the data (whose targets the losses check)."""
        if self._compile_config is None:
            raise ValueError(f"{what}: you must call compile() on the model before {what}()")
        self._compile_config.require_loss()

    def _adapter(self, x, y=None, sample_weight=None, arg_prefix="", in_memory=False):
        """The adapter for the user's data (building a model that has no Input yet from it)."""
        losses = self._compile_config.losses if self._compile_config else None
        return get_adapter(x, self, y, sample_weight, losses, arg_prefix, one_batch=in_memory)

    def _iterator(self, adapter, batch_size, **kwargs):
        """The EpochIterator of `adapter`; step by step when a Python-defined metric is compiled.
        `distribution` (keyword) splits the batches over the processes of a data-parallel run."""
        config = self._compile_config
        seed = self._core.seed if self._core is not None else 0
        kwargs.setdefault("stepwise", config is not None and config.has_python_metrics)
        return EpochIterator(adapter, self, batch_size, seed=seed, losses=config.losses if config else None,
                             **kwargs)

    def _run_epoch(self, iterator, epoch, step, hooks, every_batch, show_progress, stopping=None):
        """Runs the steps `iterator` hands out for `epoch`, calling `step(run)` on each run.

        Args:
            iterator: the `EpochIterator`.
            epoch: the 0-based epoch.
            step: runs one `Run` in the core; returns the batch logs for the end hook.
            hooks: the (begin, end) batch hooks of the callback list.
            every_batch: a callback needs every step's hooks (runs of one step).
            show_progress: a progress bar is drawn (the end hook after every run).
            stopping: training: the distribution, whose processes all stop when a callback sets
                model.stop_training in any of them; None: evaluation, which does not stop.

        Returns:
            The number of steps run.
        """
        done = 0
        with closing(iterator.epoch(epoch, every_batch, show_progress)) as runs:
            for run in runs:
                if every_batch:
                    hooks[0](run.begin, {})
                batch_logs = step(run)
                done = run.begin + run.count
                if every_batch or show_progress:
                    hooks[1](done - 1, batch_logs)
                if stopping is not None and stopping.any(self.stop_training):
                    break
        return done

    # --- fit ---------------------------------------------------------------------------------
    @guarded("fit")
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1,
            view_metrics="auto"):
        """Trains the model for a fixed number of epochs (passes over the data).

        Args:
            x: input data: an array (numpy, `np.memmap` read batch by batch, torch or jax tensor,
                pandas DataFrame), a list of arrays (inputs by position) or a dict (inputs by name);
                a generator yielding `(x, y)` or `(x, y, sample_weight)` batches (one-shot); a
                re-iterable of such batches (a list of batches, a torch DataLoader); or an
                `fc.utils.PyDataset`. A yielded tuple of 1-3 is `(x,)`, `(x, y)`,
                `(x, y, sample_weight)`; anything else is x alone.
            y: targets, like `x` for arrays; None when `x` makes its own batches.
            batch_size: samples per gradient update (default 32); not for generators and datasets.
            epochs: the final epoch: training runs epochs `initial_epoch .. epochs - 1`.
            verbose: 0 silent, 1 progress bar, 2 one line per epoch, "auto" (1 on a terminal or in a
                notebook, 2 otherwise). `history.params["verbose"]` keeps the value as given.
            callbacks: a list of `fc.callbacks.Callback` instances.
            validation_split: a fraction in [0, 1) of the samples, the last ones before shuffling,
                held out for validation (arrays only).
            validation_data: `(x_val, y_val)`, `(x_val, y_val, val_sample_weight)`, a generator or a
                dataset, evaluated at the end of each epoch (overrides validation_split). A
                generator is read once, at the first validation, and those batches are evaluated
                at every later validation; a re-iterable restarts at its start each time.
            shuffle: a new order of the samples every epoch (arrays; PyDataset batches).
            class_weight: `{class_index: weight}` multiplied into the sample weights (training only);
                labels from sparse targets, a final dimension of 1, or the argmax of one-hot
                targets, per timestep for temporal targets `(n, T, 1)` or `(n, T, classes)`.
            sample_weight: weights of shape (n,), or (n, timesteps) for temporal outputs; arrays only.
            initial_epoch: the 0-based epoch to start from (to resume a run).
            steps_per_epoch: steps per epoch. None: one pass. N: when a pass ends first, arrays
                repeat (reshuffled) and datasets and PyDatasets restart, so every epoch has N steps;
                a one-shot generator that ends stops training with a warning. -1: until a callback
                sets `model.stop_training`.
            validation_steps: batches per validation (None: one pass), always from the start.
            validation_batch_size: batch size of array validation data (default: batch_size).
            validation_freq: an int N (validate every N-th epoch, counting from 1) or a collection
                of 1-based epochs.
            view_metrics: "auto", True or False: a live per-epoch plot of the metrics.

        Returns:
            A `History`: `history.history` maps "loss", each metric and "val_*" (sorted, as Keras
            3) to per-epoch values; `params` holds verbose, epochs and steps.
        """
        dist = distribution.active()
        with dist.checking_together("fit"):
            check_int("epochs", epochs, low=0)
            check_int("initial_epoch", initial_epoch, low=0)
            check_verbose(verbose)
            check_bool("shuffle", shuffle)
            check_view_metrics(view_metrics)
            should_validate = check_validation_freq(validation_freq)
            train, val = self._fit_data(x, y, sample_weight, class_weight, batch_size, validation_split,
                                        validation_data, validation_batch_size, steps_per_epoch)
            core = self._core_trainer("fit", dist)
            train_it, val_it = self._fit_iterators(core, train, val, batch_size, shuffle, class_weight,
                                                   steps_per_epoch, validation_steps, validation_batch_size, dist)
            callback_list = CallbackList(callbacks, model=self, add_history=True, add_progbar=verbose != 0,
                                         extra=[resolve_view_metrics(view_metrics, resolve_verbose(verbose), epochs,
                                                                     self._compile_config.has_metrics)],
                                         verbose=verbose, epochs=epochs, steps=train_it.num_steps)
            if train_it.steps == -1 and not callback_list.needs_every_batch and train.reiterable:
                raise ValueError("`steps_per_epoch`=-1 trains until a callback sets model.stop_training, "
                                 "but no callback has batch hooks to do so")
        dist.join(self, core)
        with dist.failing_together():
            self.history = self._train_epochs(core, train_it, val_it, callback_list, initial_epoch, epochs,
                                              should_validate, verbose, dist)
        return self.history

    def _train_epochs(self, core, train_it, val_it, callback_list, initial_epoch, epochs, should_validate, verbose,
                      dist):
        """fit's epochs: each one's training steps, then its validation; returns the History."""
        self.stop_training, self._initial_epoch, logs = False, None, {}
        try:
            if train_it.in_core:
                core.set_data(*train_it.adapter.arrays)
            callback_list.on_train_begin({})
            # BackupAndRestore may move the start forward (model._initial_epoch).
            for epoch in range(self._initial_epoch if self._initial_epoch is not None else initial_epoch, epochs):
                self._reset_metrics(core)
                callback_list.on_epoch_begin(epoch, {})
                if not self._run_epoch(train_it, epoch, lambda run: self._train_step(core, run),
                                       (callback_list.on_train_batch_begin, callback_list.on_train_batch_end),
                                       callback_list.needs_every_batch, _shows_progress(verbose, train_it), dist):
                    break  # the data ran out before a single step: the epoch does not count
                logs = self._logs(core)
                if val_it is not None and should_validate(epoch):
                    logs.update(self._validate(val_it, callback_list, epoch))
                callback_list.on_epoch_end(epoch, logs)
                if dist.any(self.stop_training) or train_it.ran_out:
                    break
            callback_list.on_train_end(logs)
        finally:
            core.clear_data()
        return callback_list.history

    def _fit_data(self, x, y, sample_weight, class_weight, batch_size, validation_split, validation_data,
                  validation_batch_size, steps_per_epoch):
        """fit's training and validation adapters (validation None), every argument checked before any step."""
        batch_size = check_positive_int("batch_size", batch_size, allow_none=True)
        validation_split = check_fraction("validation_split", validation_split)
        check_steps_per_epoch(steps_per_epoch)
        check_positive_int("validation_batch_size", validation_batch_size, allow_none=True)
        if x is None:
            raise ValueError("fit: `x` is required")
        self._require_compiled("fit")
        train = self._adapter(x, y, sample_weight)
        _refuse_for_batching_data(train, batch_size=(batch_size, None), validation_split=(validation_split, 0.0))
        if not train.makes_batches and y is None:
            raise ValueError("fit: `y` is required for array inputs")
        val = None
        if validation_data is not None:
            val = self._validation_adapter(validation_data, validation_batch_size)
        elif validation_split > 0.0:
            cut = split_at(train.num_samples, validation_split)
            if cut == 0 or cut == train.num_samples:
                raise ValueError(f"`validation_split`={validation_split} of {train.num_samples} samples leaves "
                                 f"{'no training' if cut == 0 else 'no validation'} samples")
            train, val = train.take(0, cut), train.take(cut, train.num_samples)
        if class_weight is not None:
            check_class_weight(class_weight, self)
            if train.arrays is not None:
                train = train.with_class_weight(class_weight, self, self._compile_config.losses)
        return train, val

    def _fit_iterators(self, core, train, val, batch_size, shuffle, class_weight, steps_per_epoch, validation_steps,
                       validation_batch_size, dist):
        """The iterators of fit's training data and validation data (None without validation)."""
        batch_size = batch_size or 32
        validation_steps = check_positive_int("validation_steps", validation_steps, allow_none=True)
        train_it = self._iterator(train, batch_size, steps=steps_per_epoch, shuffle=bool(shuffle), training=True,
                                  class_weight=None if train.arrays is not None else class_weight,
                                  begin_pass=lambda epoch: core.begin_epoch(epoch, bool(shuffle), batch_size),
                                  distribution=dist)
        if train_it.in_core:
            self._prepare_metrics(core, train.targets)
        val_it = None if val is None else self._iterator(val, validation_batch_size or batch_size,
                                                         steps=validation_steps, reuse=True, arg="validation_data",
                                                         distribution=dist)
        return train_it, val_it

    def _train_step(self, core, run):
        if run.batch is None:
            core.train_steps(run.count)  # the core draws the run's batches from the arrays it holds
        else:
            self._prepare_metrics(core, run.batch[1])
            self._step_python_metrics(core, run.batch, lambda: core.train_batch(*run.batch))
        return self._logs(core)

    def _validate(self, val_it, callbacks, epoch):
        """The validation logs of one epoch, keys prefixed with val_."""
        val_logs = self._evaluate(val_it, callbacks, epoch=epoch)
        if val_logs is None:
            warnings.warn(f"fit: `validation_data` yielded no batches at epoch {epoch + 1}; pass a dataset or a "
                          f"generator with at least one batch", UserWarning, stacklevel=3)
            return {}
        return {"val_" + k: v for k, v in val_logs.items()}

    def _validation_adapter(self, validation_data, given_batch_size):
        batches = isinstance(validation_data, list) and validation_data and \
            isinstance(validation_data[0], (tuple, dict))
        if isinstance(validation_data, (tuple, list)) and not batches:
            if len(validation_data) not in (2, 3):
                raise ValueError("`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, "
                                 f"val_sample_weight), a generator or a dataset; got a {type(validation_data).__name__}"
                                 f" of length {len(validation_data)}")
            x_val, y_val = validation_data[0], validation_data[1]
            sw_val = validation_data[2] if len(validation_data) == 3 else None
            return self._adapter(x_val, y_val, sw_val, arg_prefix="validation_data: ")
        stream = stream_adapter(validation_data, "validation_data")
        if stream is None:
            raise ValueError("`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, val_sample_weight), "
                             f"a generator or a dataset; got {type(validation_data).__name__}")
        _refuse_for_batching_data(stream, "validation_data", validation_batch_size=(given_batch_size, None))
        return stream

    # --- evaluate / predict ------------------------------------------------------------------
    def _evaluate(self, iterator, callbacks, show_progress=False, epoch=0):
        """Metrics over one evaluation of `iterator`'s data; None when it yielded no batch."""
        core = self._core
        self._reset_metrics(core)
        callbacks.on_test_begin({})
        done = self._run_epoch(iterator, epoch, lambda run: self._test_step(core, run, iterator),
                               (callbacks.on_test_batch_begin, callbacks.on_test_batch_end),
                               callbacks.needs_every_batch, show_progress)
        logs = self._logs(core) if done else None
        callbacks.on_test_end(logs or {})
        return logs

    def _test_step(self, core, run, iterator):
        inputs, targets, weights = run.batch
        self._prepare_metrics(core, targets)
        rows = iterator.batch_size if iterator.in_core else inputs[0].shape[0]
        own_rows = not iterator.in_core  # streamed batches are each process's own part
        self._step_python_metrics(core, run.batch, lambda: core.evaluate(inputs, targets, weights, rows, own_rows))
        return self._logs(core)

    @guarded("evaluate")
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """Returns the loss and metrics of the model on data, in inference mode.

        Args:
            x: input data, of any kind `fit` takes.
            y: targets for array inputs; None when `x` makes its own batches.
            batch_size: samples per batch (default 32); not for generators and datasets.
            verbose: 0 silent, 1 progress bar, 2 one line, "auto".
            sample_weight: per-sample weights for array inputs (they apply to `weighted_metrics`
                and to the loss).
            steps: batches to evaluate (None: one pass), from the start.
            callbacks: a list of `fc.callbacks.Callback` instances (test hooks).
            return_dict: return `{name: value}` rather than a list.

        Returns:
            The loss (a float) when nothing else was compiled, else a list in compile order (loss
            first), or a dict when `return_dict`.
        """
        dist = distribution.active()
        with dist.checking_together("evaluate"):
            check_positive_int("batch_size", batch_size, allow_none=True)
            steps = check_positive_int("steps", steps, allow_none=True)
            check_verbose(verbose)
            if x is None:
                raise ValueError("evaluate: `x` is required")
            self._require_compiled("evaluate")
            data = self._adapter(x, y, sample_weight)
            self._check_batching(data, batch_size, y, "evaluate")
            core = self._core_trainer("evaluate", dist)
            iterator = self._iterator(data, batch_size or 32, steps=steps, distribution=dist)
            callback_list = CallbackList(callbacks, model=self, add_progbar=verbose != 0, verbose=verbose, epochs=1,
                                         steps=iterator.num_steps)
        dist.join(self, core)
        with dist.failing_together():
            logs = self._evaluate(iterator, callback_list, show_progress=_shows_progress(verbose, iterator))
        if logs is None:
            raise ValueError("evaluate: `x` yielded no batches")
        if return_dict:
            return logs
        return _single(list(self._results(self._core).values()))

    @staticmethod
    def _check_batching(data, given_batch_size, y, what):
        _refuse_for_batching_data(data, batch_size=(given_batch_size, None))
        if not data.makes_batches and y is None and what != "predict":
            raise ValueError(f"{what}: `y` is required for array inputs")

    @guarded("predict")
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Generates output predictions for the input samples, in inference mode (no compile needed).

        Args:
            x: input data, of any kind `fit` takes (targets a generator yields are ignored).
            batch_size: samples per batch (default 32); not for generators and datasets.
            verbose: 0 silent, 1 progress bar, 2 one line, "auto".
            steps: batches to predict (None: one pass), from the start.
            callbacks: a list of `fc.callbacks.Callback` instances (predict hooks).

        Returns:
            A float32 array of predictions, or a list of arrays (one per output).
        """
        check_positive_int("batch_size", batch_size, allow_none=True)
        steps = check_positive_int("steps", steps, allow_none=True)
        check_verbose(verbose)
        data = self._adapter(x)
        self._check_batching(data, batch_size, None, "predict")
        core = self._inference_core()
        iterator = self._iterator(data, batch_size or 32, steps=steps, need_targets=False, stepwise=False)
        callback_list = CallbackList(callbacks, model=self, add_progbar=verbose != 0, verbose=verbose, epochs=1,
                                     steps=iterator.num_steps)
        outputs = _Predictions(self.output_shapes, iterator)
        callback_list.on_predict_begin({})
        self._run_epoch(iterator, 0, lambda run: {"outputs": _single(outputs.predict(core, run))},
                        (callback_list.on_predict_batch_begin, callback_list.on_predict_batch_end),
                        callback_list.needs_every_batch, _shows_progress(verbose, iterator))
        callback_list.on_predict_end({})
        return _single(outputs.result())

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
    @guarded("train_on_batch")
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """Runs one gradient update on one batch of arrays.

        Args:
            x: the batch's inputs (arrays).
            y: its targets.
            sample_weight: per-sample weights, or None.
            class_weight: `{class_index: weight}` multiplied into the weights, or None.
            return_dict: return `{name: value}` rather than a list.

        Returns:
            The batch's loss and metrics (before the update), as `evaluate` returns them.
        """
        return self._on_batch("train_on_batch", x, y, sample_weight, class_weight, return_dict,
                              lambda core, batch: core.train_batch(*batch.arrays))

    @guarded("test_on_batch")
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss and metrics of one batch of arrays, in inference mode.

        Args:
            x: the batch's inputs (arrays).
            y: its targets.
            sample_weight: per-sample weights, or None.
            return_dict: return `{name: value}` rather than a list.

        Returns:
            The loss and metrics, as `evaluate` returns them.
        """
        # Data-parallel: each process's batch is its own part of the batch.
        return self._on_batch("test_on_batch", x, y, sample_weight, None, return_dict,
                              lambda core, batch: core.evaluate(*batch.arrays, batch.num_samples, own_rows=True))

    def _on_batch(self, what, x, y, sample_weight, class_weight, return_dict, run):
        """train_on_batch / test_on_batch: the checks (failing together in every process of a
        data-parallel run), then `run(core, batch)` on the batch's arrays."""
        dist = distribution.active()
        with dist.checking_together(what):
            self._require_compiled(what)
            batch = self._adapter(x, y, sample_weight, in_memory=True)
            core = self._core_trainer(what, dist)
            if batch.targets is None:
                raise ValueError(f"{what}: `y` is required")
            if class_weight is not None:
                batch = batch.with_class_weight(class_weight, self, self._compile_config.losses)
            self._prepare_metrics(core, batch.targets)
        dist.join(self, core, once=True)
        self._reset_metrics(core)  # as Keras 3: the logs are this batch's alone
        with dist.failing_together():
            self._step_python_metrics(core, batch.arrays, lambda: run(core, batch))
        return self._batch_result(core, return_dict)

    @guarded("predict_on_batch")
    def predict_on_batch(self, x):
        """The model's outputs for one batch of arrays.

        Args:
            x: the batch's inputs (arrays).

        Returns:
            A float32 array, or a list of arrays (one per output).
        """
        batch = self._adapter(x, in_memory=True)
        outputs = [np.empty((batch.num_samples,) + tuple(s), np.float32) for s in self.output_shapes]
        self._inference_core().predict(batch.inputs, batch.num_samples, outputs)
        return _single(outputs)

    def reset_metrics(self):
        """Clears the metrics' running state."""
        if self._core is not None:
            self._reset_metrics(self._core)

    def _batch_result(self, core, return_dict):
        if return_dict:
            return self._logs(core)
        return _single(list(self._results(core).values()))


class _Predictions:
    """Where predict's outputs go: written in place into whole arrays for in-memory data, gathered
    batch by batch and joined at the end for streamed data."""

    def __init__(self, output_shapes, iterator):
        self.shapes, self.iterator, self.pieces = [tuple(s) for s in output_shapes], iterator, []
        rows = iterator.adapter.num_samples if iterator.in_core else None
        if rows is not None and iterator.steps is not None:
            rows = min(rows, iterator.steps * iterator.batch_size)
        self.whole = None if rows is None else [np.empty((rows,) + s, np.float32) for s in self.shapes]

    def predict(self, core, run):
        """Predicts the run's rows; returns its outputs (one array per output)."""
        inputs = run.batch[0]
        rows = inputs[0].shape[0]
        if self.whole is not None:
            first = run.begin * self.iterator.batch_size
            out = [o[first:first + rows] for o in self.whole]
            core.predict(inputs, self.iterator.batch_size, out)
            return out
        out = [np.empty((rows,) + s, np.float32) for s in self.shapes]
        core.predict(inputs, rows, out)
        self.pieces.append(out)
        return out

    def result(self):
        if self.whole is not None:
            return self.whole
        if not self.pieces:
            raise ValueError("predict: `x` yielded no batches")
        return [np.concatenate(parts) for parts in zip(*self.pieces)]

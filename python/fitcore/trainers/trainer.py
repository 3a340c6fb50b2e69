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
from fitcore.callbacks.metrics_viewer import in_notebook, resolve_view_metrics
from fitcore.data.adapters import ArrayAdapter, array_adapter, check_stream_arguments, stream_adapter
from fitcore.data.batch_stream import BatchStream, unpack_element
from fitcore.data.standardize import check_class_weight
from fitcore.data.validation import check_fraction, check_int, check_positive_int, split_at
from fitcore.trainers.compile_utils import CompileConfig
from fitcore.trainers.exclusive import guarded
from fitcore.utils.random import draw_seed

_VERBOSE = (0, 1, 2, "auto")
# Between two progress updates the core runs for about this long.
_PROGRESS_INTERVAL = 0.1
# Without a bar, each core call still returns after about this long, so Ctrl-C is answered promptly.
_CORE_CALL_SECONDS = 0.2
_COMPILE_KEYWORDS_IGNORED = ("run_eagerly", "jit_compile", "steps_per_execution", "auto_scale_loss")


def _resolve_verbose(verbose, arg="verbose"):
    if verbose not in _VERBOSE or isinstance(verbose, bool):
        raise ValueError(f"`{arg}` must be 0, 1, 2 or 'auto', got {verbose!r}")
    if verbose == "auto":
        return 1 if _interactive() else 2
    return verbose


def _interactive():
    """A terminal or a notebook: where a progress bar redrawn in place reads well."""
    return in_notebook() or (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())


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
        self._next_core_seed = None
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
            names, specs = self._compile_config.metric_plan(self.output_names, shapes, self.output_shapes)
            core.set_metrics(specs)
            self._metric_plan = (shapes, names)
        return self._metric_plan[1]

    def _logs(self, core):
        return dict(zip(self._metric_plan[1], (float(v) for v in core.results())))

    def _require_compiled(self, what):
        """Compiled with a loss for every output: checked before the data (whose targets the losses check)."""
        if self._compile_config is None:
            raise ValueError(f"{what}: you must call compile() on the model before {what}()")
        self._compile_config.require_loss()

    def _adapter(self, x, y=None, sample_weight=None, arg_prefix="", in_memory=False):
        """The adapter for the user's data (building a model that has no Input yet from it)."""
        losses = self._compile_config.losses if self._compile_config else None
        stream = stream_adapter(x, arg_prefix + "x")
        if stream is None:
            self._build_from_data(x)
            if in_memory:  # a single batch: read whole, whatever kind of array
                return ArrayAdapter.from_user_data(x, self, y, sample_weight, losses, arg_prefix)
            return array_adapter(x, self, y, sample_weight, losses, arg_prefix)
        if in_memory:
            raise TypeError(f"`{arg_prefix}x` must be arrays (one batch), got a {stream.description}")
        check_stream_arguments(stream, arg_prefix, y=y, sample_weight=sample_weight)
        if not self.built:
            try:
                first = stream.first_element()
            except StopIteration:
                raise ValueError(f"`{arg_prefix}x` yielded no batches") from None
            self._build_from_data(unpack_element(first, 1, f"the first batch of `{arg_prefix}x`")[0])
        return stream

    def _stream(self, adapter, batch_size, **kwargs):
        """Batches of a streaming adapter (None for in-memory arrays, which the core batches itself)."""
        if adapter.arrays is not None:
            return None
        losses = self._compile_config.losses if self._compile_config else None
        seed = self._core.seed if self._core is not None else 0
        return BatchStream(adapter, self, losses, batch_size, seed=seed, **kwargs)

    # --- fit ---------------------------------------------------------------------------------
    @guarded("fit")
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1,
            view_metrics="auto"):
        given_batch_size, given_validation_batch_size = batch_size, validation_batch_size
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
        self._require_compiled("fit")

        train = self._adapter(x, y, sample_weight)
        if train.makes_batches:
            for name, value, default in (("batch_size", given_batch_size, None),
                                         ("validation_split", validation_split, 0.0)):
                if value != default:
                    raise ValueError(f"`{name}` must not be given when `x` is a {train.description}, which makes "
                                     f"its own batches; got {name}={value!r}")
        elif y is None:
            raise ValueError("fit: `y` is required for array inputs")
        core = self._core_trainer("fit")
        val = None
        if validation_data is not None:
            val = self._validation_adapter(validation_data, given_validation_batch_size)
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
        stream = self._stream(train, batch_size, shuffle=bool(shuffle), steps=steps_per_epoch,
                              restart=steps_per_epoch is None, repeat=True, class_weight=class_weight)
        val_stream = None if val is None else self._stream(val, validation_batch_size, shuffle=False,
                                                           steps=validation_steps, arg="validation_data")
        if stream is None:
            self._prepare_metrics(core, train.targets)

        steps = steps_per_epoch if steps_per_epoch is not None else train.num_batches(batch_size)
        callback_list = CallbackList(callbacks, model=self, add_history=True, add_progbar=verbose != 0,
                                     extra=[resolve_view_metrics(view_metrics, verbose, epochs,
                                                                  self._compile_config.has_metrics)],
                                     verbose=verbose, epochs=epochs, steps=steps)
        every_batch = callback_list.needs_every_batch
        if steps == -1 and not every_batch and (stream is None or train.repeats):
            raise ValueError("`steps_per_epoch`=-1 trains until a callback sets model.stop_training, "
                             "but no callback has batch hooks to do so")

        if stream is None:
            core.set_data(*train.arrays)
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
                if stream is None:
                    if epoch == first_epoch or steps_per_epoch is None or steps_per_epoch == -1:
                        core.begin_epoch(epoch, bool(shuffle), batch_size)
                    epoch_logs = self._train_epoch(core, steps, callback_list, every_batch, verbose == 1)
                else:
                    train.on_epoch_begin()
                    # verbose 2 too: a stream's step count is known only by counting
                    epoch_logs, done = self._train_stream_epoch(core, stream, epoch, callback_list, every_batch,
                                                                verbose != 0)
                    train.on_epoch_end()
                    if stream.ran_out:
                        warnings.warn(f"fit: the training data ran out at step {done + 1} of epoch {epoch + 1}; "
                                      f"training stops. A generator or dataset must yield at least steps_per_epoch "
                                      f"* epochs batches (steps_per_epoch={steps_per_epoch}, epochs={epochs}): "
                                      f"pass a re-iterable dataset, a generator that loops, or fewer "
                                      f"steps_per_epoch", UserWarning, stacklevel=2)
                        self.stop_training = True
                    if epoch_logs is None:  # not a single step this epoch: it does not count
                        break
                logs = epoch_logs
                if val is not None and should_validate(epoch):
                    val_logs = self._evaluate(val, val_stream, validation_batch_size, validation_steps, callback_list,
                                              epoch=epoch, steps_arg="validation_steps")
                    if val_logs is None:
                        warnings.warn(f"fit: `validation_data` yielded no batches at epoch {epoch + 1} (a one-shot "
                                      f"generator used up by an earlier validation?); pass a re-iterable dataset, "
                                      f"or a looping generator with `validation_steps`", UserWarning, stacklevel=2)
                    logs.update({"val_" + k: v for k, v in (val_logs or {}).items()})
                callback_list.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
            callback_list.on_train_end(logs)
        finally:
            core.clear_data()
        self.history = callback_list.history
        return self.history

    def _run_in_chunks(self, total, run, begin, end, make_logs, every_batch, show_progress, stoppable=False):
        """Runs `total` batches (-1: until model.stop_training) through `run(first, count)`: one at a
        time when a callback needs every batch, else in core calls of about _CORE_CALL_SECONDS
        (_PROGRESS_INTERVAL when a bar is drawn), so Ctrl-C lands between calls. Steps stay atomic."""
        done, chunk = 0, 1
        interval = _PROGRESS_INTERVAL if show_progress else _CORE_CALL_SECONDS
        while total == -1 or done < total:
            if every_batch:
                chunk = 1
                begin(done)
            elif total != -1:
                chunk = max(1, min(chunk, total - done))
            started = time.perf_counter()
            run(done, chunk)
            done += chunk
            if every_batch or show_progress:
                end(done - 1, make_logs(done - chunk, chunk))
            if not every_batch:
                elapsed = max(time.perf_counter() - started, 1e-6)
                chunk = max(1, min(chunk * 10, int(chunk * interval / elapsed)))
            if stoppable and self.stop_training:
                break
        return done

    def _train_epoch(self, core, steps, callbacks, every_batch, show_progress):
        """Runs one epoch's steps over the arrays the core holds, in stretches as long as allowed."""
        self._run_in_chunks(steps, lambda first, count: core.train_steps(count), callbacks.on_train_batch_begin,
                            callbacks.on_train_batch_end, lambda first, count: self._logs(core), every_batch,
                            show_progress, stoppable=True)
        return self._logs(core)

    def _train_stream_epoch(self, core, stream, epoch, callbacks, every_batch, show_progress):
        """One epoch of streamed batches, each checked before it reaches the core: (logs or None, steps)."""
        done = 0
        for inputs, targets, weights in stream.epoch(epoch):
            self._prepare_metrics(core, targets)
            if every_batch:
                callbacks.on_train_batch_begin(done)
            core.train_batch(inputs, targets, weights)
            done += 1
            if every_batch or show_progress:
                callbacks.on_train_batch_end(done - 1, self._logs(core))
            if self.stop_training:
                break
        return (self._logs(core) if done else None), done

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
        if given_batch_size is not None:
            raise ValueError(f"`validation_batch_size` must not be given when `validation_data` is a "
                             f"{stream.description}, which makes its own batches; got {given_batch_size!r}")
        return stream

    # --- evaluate / predict ------------------------------------------------------------------
    def _evaluate(self, data, stream, batch_size, steps, callbacks, show_progress=False, epoch=0, steps_arg="steps"):
        """Metrics over `data` (arrays) or `stream`; None when a stream yielded nothing."""
        core = self._core
        core.reset_metrics()
        callbacks.on_test_begin()
        every_batch = callbacks.needs_every_batch
        if stream is None:
            if steps is not None:
                data = data.take(0, min(data.num_samples, steps * batch_size))
            self._prepare_metrics(core, data.targets)

            def run(first, count):
                core.evaluate(*data.take(first * batch_size, (first + count) * batch_size).arrays, batch_size)

            self._run_in_chunks(data.num_batches(batch_size), run, callbacks.on_test_batch_begin,
                                callbacks.on_test_batch_end, lambda first, count: self._logs(core), every_batch,
                                show_progress)
        else:
            done = 0
            for inputs, targets, weights in stream.epoch(epoch):
                self._prepare_metrics(core, targets)
                if every_batch:
                    callbacks.on_test_batch_begin(done)
                core.evaluate(inputs, targets, weights, inputs[0].shape[0])
                done += 1
                if every_batch or show_progress:
                    callbacks.on_test_batch_end(done - 1, self._logs(core))
            if stream.ran_out and done and not data.repeats:
                warnings.warn(f"the evaluation data ran out after {done} batches, before `{steps_arg}`={steps}",
                              UserWarning, stacklevel=3)
            if not done:
                callbacks.on_test_end({})
                return None
        logs = self._logs(core)
        callbacks.on_test_end(logs)
        return logs

    @guarded("evaluate")
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        given_batch_size = batch_size
        batch_size = check_positive_int("batch_size", batch_size, allow_none=True) or 32
        steps = check_positive_int("steps", steps, allow_none=True)
        verbose = _resolve_verbose(verbose)
        if x is None:
            raise ValueError("evaluate: `x` is required")
        self._require_compiled("evaluate")
        data = self._adapter(x, y, sample_weight)
        self._check_batching(data, given_batch_size, y, "evaluate")
        self._core_trainer("evaluate")
        stream = self._stream(data, batch_size, shuffle=False, steps=steps)
        total = data.num_batches(batch_size)
        callback_list = CallbackList(callbacks, model=self, add_progbar=verbose != 0, verbose=verbose, epochs=1,
                                     steps=min(steps, total) if steps and total else steps or total)
        logs = self._evaluate(data, stream, batch_size, steps, callback_list,
                              show_progress=verbose == 1 if stream is None else verbose != 0)
        if logs is None:
            raise ValueError("evaluate: `x` yielded no batches")
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    @staticmethod
    def _check_batching(data, given_batch_size, y, what):
        if data.makes_batches and given_batch_size is not None:
            raise ValueError(f"`batch_size` must not be given when `x` is a {data.description}, which makes its "
                             f"own batches; got batch_size={given_batch_size!r}")
        if not data.makes_batches and y is None and what != "predict":
            raise ValueError(f"{what}: `y` is required for array inputs")

    @guarded("predict")
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        given_batch_size = batch_size
        batch_size = check_positive_int("batch_size", batch_size, allow_none=True) or 32
        steps = check_positive_int("steps", steps, allow_none=True)
        verbose = _resolve_verbose(verbose)
        data = self._adapter(x)
        self._check_batching(data, given_batch_size, None, "predict")
        core = self._inference_core()
        stream = self._stream(data, batch_size, shuffle=False, steps=steps, need_targets=False)
        if stream is None and steps is not None:
            data = data.take(0, min(data.num_samples, steps * batch_size))
        total = data.num_batches(batch_size)
        callback_list = CallbackList(callbacks, model=self, add_progbar=verbose != 0, verbose=verbose, epochs=1,
                                     steps=min(steps, total) if steps and total else steps or total)
        every_batch, show_progress = callback_list.needs_every_batch, verbose == 1 if stream is None else verbose != 0
        callback_list.on_predict_begin()
        if stream is None:
            n = data.num_samples
            outputs = [np.empty((n,) + tuple(s), np.float32) for s in self.output_shapes]

            def rows(first, count):
                return slice(first * batch_size, min(n, (first + count) * batch_size))

            def run(first, count):
                core.predict(data.take(rows(first, count).start, rows(first, count).stop).inputs, batch_size,
                             [o[rows(first, count)] for o in outputs])

            def batch_logs(first, count):
                batch = [o[rows(first, count)] for o in outputs]
                return {"outputs": batch[0] if len(batch) == 1 else batch}

            self._run_in_chunks(total, run, callback_list.on_predict_batch_begin, callback_list.on_predict_batch_end,
                                batch_logs, every_batch, show_progress)
        else:
            pieces = []
            for inputs, _, _ in stream.epoch(0):
                if every_batch:
                    callback_list.on_predict_batch_begin(len(pieces))
                batch = [np.empty((inputs[0].shape[0],) + tuple(s), np.float32) for s in self.output_shapes]
                core.predict(inputs, inputs[0].shape[0], batch)
                pieces.append(batch)
                if every_batch or show_progress:
                    callback_list.on_predict_batch_end(len(pieces) - 1, {"outputs": batch[0] if len(batch) == 1 else batch})
            if not pieces:
                raise ValueError("predict: `x` yielded no batches")
            outputs = [np.concatenate(parts) for parts in zip(*pieces)]
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
    @guarded("train_on_batch")
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._require_compiled("train_on_batch")
        batch = self._adapter(x, y, sample_weight, in_memory=True)
        core = self._core_trainer("train_on_batch")
        if batch.targets is None:
            raise ValueError("train_on_batch: `y` is required")
        if class_weight is not None:
            batch = batch.with_class_weight(class_weight, self, self._compile_config.losses)
        self._prepare_metrics(core, batch.targets)
        core.reset_metrics()  # as Keras 3: the logs are this batch's alone
        core.train_batch(*batch.arrays)
        return self._batch_result(core, return_dict)

    @guarded("test_on_batch")
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch")
        batch = self._adapter(x, y, sample_weight, in_memory=True)
        core = self._core_trainer("test_on_batch")
        if batch.targets is None:
            raise ValueError("test_on_batch: `y` is required")
        self._prepare_metrics(core, batch.targets)
        core.reset_metrics()
        core.evaluate(*batch.arrays, batch.num_samples)
        return self._batch_result(core, return_dict)

    @guarded("predict_on_batch")
    def predict_on_batch(self, x):
        batch = self._adapter(x, in_memory=True)
        outputs = [np.empty((batch.num_samples,) + tuple(s), np.float32) for s in self.output_shapes]
        self._inference_core().predict(batch.inputs, batch.num_samples, outputs)
        return outputs[0] if len(outputs) == 1 else outputs

    def reset_metrics(self):
        if self._core is not None:
            self._core.reset_metrics()

    def _batch_result(self, core, return_dict):
        logs = self._logs(core)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

"""EpochIterator: the steps of every epoch of one fit / evaluate / predict call, for every input kind.

The rules about steps are written here once (the trainer only runs what it is handed):

- steps=None: an epoch is one pass over the data (arrays: ceil(n / batch_size) batches; a dataset
  or PyDataset: its length, or until its iterator ends; a generator: until it ends).
- steps=N during training: when a pass ends before the epoch has its N steps, arrays (in memory or
  lazily read) repeat with a reshuffled pass, and re-iterables (a list of batches, a torch
  DataLoader, a PyDataset) restart from their first batch, so every epoch has N steps and training
  never ends early. The pass continues from one epoch to the next. Only a one-shot generator cannot
  restart: when it ends, training stops with a warning that names steps_per_epoch.
- steps=-1 during training: as N, without end; a callback sets model.stop_training.
- Evaluation reads at most one pass, from its first batch, every time it runs. A validation source
  that cannot restart (a generator) is read once, at the first validation, and those same batches
  are evaluated at every later validation (with validation_steps=N: its first N batches).

In-memory arrays stay in the core: training yields runs of several steps that the core draws from
the arrays it holds (one C++ call for the whole run, as long as ~0.1-0.2 s), and evaluation and
prediction yield the rows of several batches at once. Everything else yields one checked batch
per step.
"""
import time
import warnings
from typing import NamedTuple, Optional

from fitcore.data.batch_stream import standardize_element
from fitcore.distribution.data_parallel import ONE_PROCESS

# Between two progress updates the core runs for about this long.
PROGRESS_INTERVAL = 0.1
# Without a bar, each core call still returns after about this long, so Ctrl-C is answered promptly.
CORE_CALL_SECONDS = 0.2


class Run(NamedTuple):
    """A run of consecutive steps of one epoch.

    Attributes:
        begin: the epoch's 0-based index of the first step.
        count: how many steps the run holds.
        batch: None when the core draws the batches from the arrays it holds (in-memory training);
            otherwise `(inputs, targets, weights)`, lists of float32 arrays per model input / output,
            holding the rows of all `count` steps.
    """

    begin: int
    count: int
    batch: Optional[tuple]


class EpochIterator:
    """Hands out the steps of each epoch of one source of data.

    Args:
        adapter: the `DataAdapter` of the data (from `fitcore.data.adapters.get_adapter`).
        model: the model the batches are checked against.
        batch_size: rows per step for arrays; None for data that makes its own batches.
        steps: steps per epoch: None (one pass), a positive int, or -1 (until
            model.stop_training; training only).
        shuffle: a new order for every pass of arrays and PyDatasets (training only).
        seed: the seed of the shuffled orders (the core's own, so lazily read arrays get the
            permutation the core would draw for the same arrays in memory).
        class_weight: `{class_index: weight}` multiplied into each streamed batch's weights.
        losses: the compiled losses (they check the targets), or None.
        training: True for fit's training data (repeats, restarts, the running-out warning).
        reuse: True for validation data: a source that cannot restart is read once and replayed.
        need_targets: False for predict (targets and weights are dropped).
        arg: the argument's name in error messages.
        begin_pass: for in-memory training, called as `begin_pass(epoch)` when the core must draw
            a new epoch's order from the arrays it holds.
        stepwise: arrays in memory go one batch at a time through Python (gathered in the core's
            own order), for metrics computed in Python.
        distribution: the processes of a data-parallel run (see fitcore.distribution): every
            process gets runs of the same lengths, a stream ends in all of them at once, and
            lazily read arrays are read by each process for its part of every batch.
    """

    def __init__(self, adapter, model, batch_size, steps=None, shuffle=False, seed=0, class_weight=None,
                 losses=None, training=False, reuse=False, need_targets=True, arg="x", begin_pass=None,
                 stepwise=False, distribution=ONE_PROCESS):
        self.adapter, self.model, self.batch_size = adapter, model, batch_size
        self.steps, self.shuffle, self.seed = steps, shuffle, seed
        self.class_weight, self.losses, self.training = class_weight, losses, training
        self.reuse, self.need_targets, self.arg = reuse, need_targets, arg
        self.begin_pass, self.stepwise, self.distribution = begin_pass, stepwise, distribution
        self.ran_out = False
        self._iterator = None      # the current pass over a streamed source
        self._pass = None          # (epoch the run of passes began at, pass within it): the shuffle seed
        self._pass_steps = 0       # elements the current pass has yielded (0: restarting cannot help)
        self._cached = None        # the batches of a validation source that cannot restart

    @property
    def in_core(self):
        """True when the data are whole arrays in memory, which the core batches itself."""
        return self.adapter.arrays is not None and not self.stepwise

    @property
    def _reads_parts(self):
        """Each process reads its part of every batch (lazily read arrays, data-parallel)."""
        return self.adapter.splits_by_row and self.distribution.distributed

    @property
    def num_steps(self):
        """Steps an epoch has, as the progress bar and callbacks' params show it (None: unknown)."""
        batches = self.adapter.num_batches(self.batch_size)
        if self.steps is None:
            return batches if self._cached is None else len(self._cached)
        if not self.training and batches is not None and self.steps > 0:
            return min(self.steps, batches)  # evaluation reads at most one pass
        return self.steps

    def epoch(self, epoch, one_step_at_a_time=False, show_progress=False):
        """The runs of steps of `epoch` (0-based).

        Args:
            epoch: the 0-based epoch (it seeds the shuffled order of arrays).
            one_step_at_a_time: a callback needs every step's hooks: runs of one step.
            show_progress: a progress bar is drawn: runs of about PROGRESS_INTERVAL seconds
                rather than CORE_CALL_SECONDS.

        Returns:
            A generator of `Run`s. After it ends, `ran_out` tells whether training data ended
            before the epoch's steps (training then stops).
        """
        self.ran_out = False
        if self.in_core:
            return self._in_core_runs(epoch, one_step_at_a_time, show_progress)
        if self.training:
            return self._training_batches(epoch)
        return self._evaluation_batches(epoch)

    # --- arrays in memory ---------------------------------------------------------------------
    def _in_core_runs(self, epoch, one_step_at_a_time, show_progress):
        """Runs as long as the time allowed: 1, 10, ... steps until a run takes about `interval`."""
        if self.training and self.begin_pass is not None and (
                self._pass is None or self.steps is None or self.steps == -1):
            self.begin_pass(epoch)  # with steps_per_epoch=N, the core's pass continues into the next epoch
            self._pass = (epoch, 0)
        total = self.num_steps
        interval = PROGRESS_INTERVAL if show_progress else CORE_CALL_SECONDS
        done, chunk = 0, 1
        while total == -1 or done < total:
            if one_step_at_a_time:
                chunk = 1
            elif total != -1:
                chunk = max(1, min(chunk, total - done))
            started = time.perf_counter()
            yield Run(done, chunk, None if self.training else self._rows(done, chunk))
            done += chunk
            if not one_step_at_a_time:
                elapsed = max(time.perf_counter() - started, 1e-6)
                # Every process runs the same steps per core call (the core's collectives pair up).
                chunk = self.distribution.smallest(max(1, min(chunk * 10, int(chunk * interval / elapsed))))

    def _rows(self, first_step, count):
        """The rows of `count` steps from `first_step`, as views of the arrays (evaluate, predict)."""
        rows = self.adapter.take(first_step * self.batch_size, (first_step + count) * self.batch_size)
        return rows.inputs, rows.targets, rows.weights

    # --- streams --------------------------------------------------------------------------------
    def _new_pass(self, epoch, continuing=False):
        self._pass = (self._pass[0], self._pass[1] + 1) if continuing else (epoch, 0)
        self._pass_steps = 0
        # Only adapters that split by row take a part (each process reads its rows of every batch).
        part = {"part": (self.distribution.data_shard_id, self.distribution.num_processes)} if self._reads_parts else {}
        self._iterator = iter(self.adapter.iterate(self.batch_size, self.shuffle, (self.seed, *self._pass), **part))

    def _next_element(self):
        try:
            element = next(self._iterator)
        except StopIteration:
            element = _END
        # A pass ends for every process of a data-parallel run when it ends for one.
        if self.distribution.any(element is _END) and element is not _END:
            warnings.warn(f"`{self.arg}` of process {self.distribution.data_shard_id} had more batches than another "
                          f"process's; each process's data must yield as many batches (the extra ones are skipped)",
                          UserWarning, stacklevel=2)
            return _END
        return element

    def _training_batches(self, epoch):
        """Training: whole passes (steps=None) or N steps a pass continues, repeats or restarts to fill."""
        self.adapter.on_epoch_begin()
        try:  # a PyDataset's on_epoch_end runs also when a callback stops training mid-epoch
            if self._iterator is None or (self.steps is None and self.adapter.reiterable):
                self._new_pass(epoch)
            step = 0
            while self.steps is None or self.steps == -1 or step < self.steps:
                element = self._next_element()
                if element is _END:
                    if self.steps is not None and self.adapter.reiterable and self._pass_steps:
                        self._new_pass(epoch, continuing=True)  # arrays repeat, datasets restart
                        continue
                    self.ran_out = step == 0 or self.steps is not None
                    if self.ran_out:
                        self._warn_ran_out(epoch, step)
                    break
                self._pass_steps += 1
                yield Run(step, 1, self._standardize(element, step, epoch))
                step += 1
        finally:
            self.adapter.on_epoch_end()

    def _warn_ran_out(self, epoch, step):
        """The data ended before the epoch's steps and nothing can restart it: training stops."""
        warnings.warn(f"fit: the training data ran out at step {step + 1} of epoch {epoch + 1}; training stops. "
                      f"A generator must yield at least steps_per_epoch * epochs batches "
                      f"(steps_per_epoch={self.steps}): pass a re-iterable dataset (a list of batches, a "
                      f"PyDataset, a torch DataLoader), a generator that loops, or fewer steps_per_epoch",
                      UserWarning, stacklevel=6)  # the user's fit() call

    def _evaluation_batches(self, epoch):
        """Evaluation: the first `steps` batches (or one pass) from the start; replayed when the
        source cannot restart and this is validation."""
        if self._cached is not None:
            yield from self._cached
            return
        keep = [] if self.reuse and not self.adapter.reiterable else None
        if self._iterator is None or self.adapter.reiterable:
            self._new_pass(epoch)
        step = 0
        while self.steps is None or step < self.steps:
            element = self._next_element()
            if element is _END:
                if self.steps is not None and step and self.adapter.makes_batches:
                    warnings.warn(f"the evaluation data `{self.arg}` ran out after {step} batches, before "
                                  f"{'`validation_steps`' if self.reuse else '`steps`'}={self.steps}",
                                  UserWarning, stacklevel=5)  # the user's evaluate() call
                break
            run = Run(step, 1, self._standardize(element, step, epoch))
            if keep is not None:
                keep.append(run)
            yield run
            step += 1
        if keep is not None:
            self._cached = keep

    def _standardize(self, element, step, epoch):
        where = f"the batch `{self.arg}` yielded at step {step + 1} of epoch {epoch + 1}"
        # A process's part of a batch smaller than the number of processes may hold no rows.
        return standardize_element(element, self.model, self.losses, where, class_weight=self.class_weight,
                                   need_targets=self.need_targets, allow_empty=self._reads_parts)


_END = object()  # a pass ended (distinct from any element a user's data can yield)

"""DataParallel: one model trained by the K processes of `mpiexec -n K python train.py`.

Every process runs the same script. `fit`, `evaluate` and `predict` keep their meaning: `batch_size`
is the global batch; each process computes its part of every batch, the core sums the gradients
over the processes once per step (MPI_Allreduce of the flat gradient buffer, called from C++ with
the GIL released) and every process applies the same update. Losses, metrics and
BatchNormalization's statistics are the whole batch's, and dropout draws the masks one process
would draw for the same rows, so K processes reproduce a one-process run to float rounding.

What is decided here rather than in the core: the agreements a step loop needs before it can run
(one seed, one set of starting weights, no process failing its argument checks alone), and the
rules that keep every process in the same sequence of core calls (runs of equal length, a stream
ending for all at once, `stop_training` set anywhere stopping everywhere).
"""
import os
import sys
import time
import traceback
from contextlib import contextmanager

import numpy as np

# Launchers set these in every process they start: MPICH's Hydra (PMI_*), Open MPI, PMIx, Slurm.
ABORT_GRACE_SECONDS = 0.5
_LAUNCHER_RANK_VARIABLES = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "MPI_LOCALRANKID")


def launched_by_mpi():
    """True when this process was started by an MPI launcher (mpiexec / mpirun / srun)."""
    return any(v in os.environ for v in _LAUNCHER_RANK_VARIABLES)


class DataParallel:
    """Distribution for data parallelism over the processes of an MPI job, as Keras's `DataParallel`.

    Each process holds the whole model; each step's global batch is split across the processes,
    whose gradients are summed before every process applies the same update. Launch the script
    with `mpiexec -n K python train.py` (`pip install "fitcore[mpi]"` provides mpi4py and MPICH).
    Started without a launcher, or with K = 1, training is plain one-process fitcore.

    Data: in-memory arrays and memmaps are sharded by row: every process passes the same arrays
    and reads only its part of each batch. Generators, datasets and `PyDataset`s are per process:
    each yields that process's part of every batch (ask `data_shard_id` and `num_processes`), and
    all of them must yield the same number of batches. `predict` computes every row it is given in
    every process (the same result everywhere). Callbacks run in every process on the same logs;
    progress, CSV logs, checkpoints, TensorBoard files, backups and `model.save` are written by
    process 0 alone (the others return at once, so read a saved file after the next `fit` or a
    barrier, not right away). Metrics written in Python are not supported. `fit`, `evaluate`,
    `train_on_batch` and `test_on_batch` are collective: every process calls them, in the same
    order (a call in process 0 alone would wait for the others); `predict` is not.

    Args:
        device_mesh: accepted for Keras compatibility; must be None.
        devices: None (every process of the job), or the list `list_devices()` returns.
        auto_shard_dataset: must be True: arrays are sharded by row (per-process streams are
            already sharded).

    Raises:
        ValueError: for a device mesh, other devices or `auto_shard_dataset=False`.
        ImportError: launched by MPI without mpi4py installed.
    """

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        if device_mesh is not None:
            raise ValueError("DataParallel: `device_mesh` is not supported; fitcore's data parallelism is over the "
                             "processes of `mpiexec -n K` (pass nothing)")
        if auto_shard_dataset is not True:
            raise ValueError(f"DataParallel: `auto_shard_dataset` must be True, got {auto_shard_dataset!r}; per-process "
                             f"data is passed as a generator or PyDataset yielding each process's part of the batches")
        self._comm = _world_comm()
        self.collective = None
        if self._comm is not None and self._comm.Get_size() > 1:
            from fitcore.distribution.mpi import world_collective

            self.collective = world_collective()  # the core's MPI_Allreduce over the same processes
        self.num_processes = 1 if self._comm is None else self._comm.Get_size()
        self.data_shard_id = 0 if self._comm is None else self._comm.Get_rank()
        self.auto_shard_dataset = True
        if devices is not None and list(devices) != list_devices():
            raise ValueError(f"DataParallel: `devices` must be None or {list_devices()!r} (one per process), "
                             f"got {devices!r}")
        if self.distributed:
            # One random stream in every process (process 0's): the same initial weights and core
            # seeds, hence the same shuffles and dropout masks, wherever a model is built.
            from fitcore.utils import random as fc_random

            fc_random.reseed(self.broadcast(fc_random.draw_seed()))

    def __repr__(self):
        return f"<DataParallel process {self.data_shard_id} of {self.num_processes}>"

    @property
    def is_chief(self):
        """True in process 0, which writes progress and files."""
        return self.data_shard_id == 0

    @property
    def distributed(self):
        """True when more than one process trains."""
        return self.num_processes > 1

    # --- agreements (Python-level MPI calls, a few per fit: never one per step of in-memory data) ---
    def broadcast(self, value):
        """Process 0's `value` (any picklable object), in every process."""
        return value if self._comm is None else self._comm.bcast(value, root=0)

    def broadcast_array(self, array):
        """Overwrites a float32 array in place with process 0's."""
        if self._comm is not None:
            self._comm.Bcast(array, root=0)

    def smallest(self, value):
        """The smallest of every process's int."""
        return value if self._comm is None else self._comm.allreduce(int(value), op=_mpi().MIN)

    def any(self, flag):
        """True in every process when `flag` is true in any."""
        return bool(flag) if self._comm is None else self._comm.allreduce(bool(flag), op=_mpi().LOR)

    @contextmanager
    def checking_together(self, what):
        """Around a call's argument checks and data preparation: when they raise in any process,
        they raise in all (the failing process its own error, the others a RuntimeError naming
        it), so no process is left waiting in a collective for one that will never come."""
        failure = None
        try:
            yield
        except Exception as error:
            failure = error
            raise
        finally:
            failures = self._comm.allgather(None if failure is None else f"{type(failure).__name__}: {failure}")
            if failure is None:
                for rank, message in enumerate(failures):
                    if message is not None:
                        raise RuntimeError(f"{what}: process {rank} of {self.num_processes} failed, so every "
                                           f"process stops: {message}")

    def join(self, model, core, once=False):
        """Points the model's core trainer at the processes and gives every process process 0's
        weights. Called after `checking_together`, before the first step of a call.

        Args:
            model: the model.
            core: its core trainer.
            once: only if this core has not joined yet (train_on_batch, test_on_batch).

        Raises:
            RuntimeError: the processes' core trainers were seeded differently (made before
                `set_distribution`), so their shuffles and dropout masks would differ.
        """
        if once and getattr(core, "_distribution", None) is self:
            return
        core.set_collective(self.collective)
        core._distribution = self
        seeds = self._comm.allgather(core.seed)
        if len(set(seeds)) > 1:
            raise RuntimeError("the model's training state was made before set_distribution(DataParallel()), with a "
                               "different seed in each process; call compile() again after set_distribution")
        params = as_float32_params(model._network)
        self.broadcast_array(params)
        model._network.write(0, params)

    @contextmanager
    def failing_together(self):
        """Once steps have begun, the other processes wait in the core's collectives: an error in
        one process prints its traceback and ends the whole job (MPI_Abort) instead of a hang."""
        try:
            yield
        except BaseException as error:
            if self._comm is None or not self.distributed or isinstance(error, SystemExit):
                raise
            abort(self._comm, error)


class OneProcess:
    """The distribution of plain one-process training: every agreement is with oneself."""

    num_processes, data_shard_id, collective, distributed, is_chief = 1, 0, None, False, True

    @staticmethod
    def smallest(value):
        return value

    @staticmethod
    def any(flag):
        return bool(flag)

    @staticmethod
    @contextmanager
    def checking_together(what):
        yield

    @staticmethod
    def join(model, core, once=False):
        if getattr(core, "_distribution", None) is not None:  # it was data-parallel: alone again
            core.set_collective(None)
            core._distribution = None

    @staticmethod
    @contextmanager
    def failing_together():
        yield


ONE_PROCESS = OneProcess()


def abort(comm, error):
    """Prints `error` with this process's rank and ends every process of the job."""
    sys.stderr.write(f"fitcore: process {comm.Get_rank()} of {comm.Get_size()} failed with "
                     f"{type(error).__name__}: {error}; ending every process\n")
    traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    sys.stderr.flush()
    time.sleep(ABORT_GRACE_SECONDS)  # the launcher forwards the output before it ends the processes
    comm.Abort(1)
    os._exit(1)  # MPI_Abort may return before the launcher ends this process: nothing more may run here


def _mpi():
    from mpi4py import MPI

    return MPI


def _world_comm():
    """mpi4py's COMM_WORLD when an MPI launcher started this process, else None (MPI never starts)."""
    if not launched_by_mpi():
        return None
    try:
        return _mpi().COMM_WORLD
    except ImportError as e:
        raise ImportError('fitcore: started by an MPI launcher, but data-parallel fitcore needs mpi4py: '
                          'pip install "fitcore[mpi]"') from e


def list_devices(device_type=None):
    """The devices a `DataParallel` spreads over: one "cpu:<rank>" per process of the MPI job.

    Args:
        device_type: None or "cpu" (fitcore trains on CPUs).

    Returns:
        A list of strings.
    """
    if device_type not in (None, "cpu"):
        raise ValueError(f"list_devices: `device_type` must be None or 'cpu', got {device_type!r}")
    comm = _world_comm()
    size = 1 if comm is None else comm.Get_size()
    return [f"cpu:{r}" for r in range(size)]


def as_float32_params(network):
    """A copy of a core network's flat parameter buffer."""
    params = np.empty(network.num_params, np.float32)
    network.read(0, params)
    return params

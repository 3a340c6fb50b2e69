"""What every public run of a model (fit, evaluate, predict, *_on_batch) does first and last.

Training a model is exclusive: a second fit or train_on_batch while one runs (from another thread,
or from one of the running fit's own callbacks) is a RuntimeError that says so, before anything is
touched. Inference needs nothing exclusive: the core gives each call its own workspace and a
finished step's weights, so threads predict and evaluate at once, also during a fit.

Before running, a model brings its buffer up to date with the homes of its weights (a layer shared
with another model may have been trained there): inference refreshes its copies, training takes
the homes (fitcore/models/weight_homes.py).
"""
import contextlib
import functools
import threading

_TRAINING_CALLS = ("fit", "train_on_batch")


@contextlib.contextmanager
def model_call(model, what):
    """Guards one public call on `model`.

    Args:
        model: the fc.Model being called.
        what: the method's name ("fit", "evaluate", "predict", "train_on_batch", ...).

    Raises:
        RuntimeError: `what` trains while the model is already training.
    """
    calls = model._model_calls()
    me = threading.get_ident()
    training = what in _TRAINING_CALLS
    if training:
        _claim_training(model, calls, what, me)
    calls.depth[me] = calls.depth.get(me, 0) + 1
    try:
        bindings = getattr(model, "_bindings", None) if model.built else None
        if bindings is not None:
            bindings.take_homes(training=True) if training else bindings.refresh()
        yield
    finally:
        calls.depth[me] -= 1
        if calls.depth[me] == 0:
            del calls.depth[me]
            core = getattr(model, "_core", None)
            if core is not None:  # this thread's metric accumulators in the core are done with
                core.release_thread_state()
        if training:
            calls.training_thread = calls.training_call = None


def _claim_training(model, calls, what, me):
    from fitcore.models import weight_homes

    with weight_homes._homes_lock:  # the same lock under which other models look at this flag
        if calls.training_thread is not None:
            where = ("in this thread (a callback of the running fit?)" if calls.training_thread == me
                     else "in another thread")
            raise RuntimeError(f"{what}: model '{model.name}' is already running {calls.training_call}() {where}; "
                               f"a model trains one fit or train_on_batch at a time")
        calls.training_thread, calls.training_call = me, what


def guarded(what):
    """Decorates a public Trainer method so that it runs inside model_call(self, what).

    Args:
        what: the method's name, as errors should show it.

    Returns:
        The decorator.
    """

    def decorate(method):
        @functools.wraps(method)
        def run(self, *args, **kwargs):
            with model_call(self, what):
                return method(self, *args, **kwargs)

        return run

    return decorate

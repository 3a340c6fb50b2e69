"""What every public run of a model (fit, evaluate, predict, *_on_batch) does first and last.

Training a model is exclusive: a second fit or train_on_batch while one runs (from another thread,
or from one of the running fit's own callbacks) is a RuntimeError that says so, before anything is
touched. Inference needs nothing exclusive: the core gives each call its own workspace and a
finished step's weights, so threads predict and evaluate at once, also during a fit.

Before running, a model brings its buffer up to date with the homes of its weights (a layer shared
with another model may have been trained there): inference refreshes its copies, training takes
the homes (fitcore/models/weight_homes.py).
"""
import functools
import threading

_TRAINING_CALLS = ("fit", "train_on_batch")


def guarded(what):
    """Decorates a public Trainer method (fit, evaluate, ...) with what every such call does first
    and last: claim training (or refuse), bring the model's buffer up to date with its weights'
    homes, and free this thread's metric accumulators in the core once its outermost call ends.

    Args:
        what: the method's name, as errors should show it.

    Returns:
        The decorator.

    The decorated method raises RuntimeError when it trains while the model is already training.
    """
    training = what in _TRAINING_CALLS

    def decorate(method):
        @functools.wraps(method)
        def run(self, *args, **kwargs):
            calls = self._model_calls()
            me = threading.get_ident()
            if training:
                _claim_training(self, calls, what, me)
            calls.depth[me] = calls.depth.get(me, 0) + 1
            try:
                bindings = self.__dict__.get("_bindings") if self.built else None
                if bindings is not None:
                    bindings.take_homes(training=True) if training else bindings.refresh()
                return method(self, *args, **kwargs)
            finally:
                _leave(self, calls, me, training)

        return run

    return decorate


def _leave(model, calls, me, training):
    calls.depth[me] -= 1
    if calls.depth[me] == 0:
        del calls.depth[me]
        core = model.__dict__.get("_core")
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


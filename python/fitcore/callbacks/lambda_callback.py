"""LambdaCallback: a callback made of plain functions, one per hook given."""
from fitcore.callbacks.callback import BATCH_HOOKS, Callback

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_test_begin", "on_test_end",
          "on_predict_begin", "on_predict_end") + BATCH_HOOKS


class LambdaCallback(Callback):
    """A callback made of plain functions: `LambdaCallback(on_epoch_end=lambda epoch, logs: ...)`.

    Each function takes the arguments of the Callback method of the same name (epoch or batch,
    then logs; or logs only).

    Args:
        on_epoch_begin: `f(epoch, logs)`.
        on_epoch_end: `f(epoch, logs)`.
        on_train_begin: `f(logs)`.
        on_train_end: `f(logs)`.
        on_train_batch_begin: `f(batch, logs)`.
        on_train_batch_end: `f(batch, logs)`.
        **kwargs: any other hook by name (on_test_*, on_predict_*, on_batch_*).
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                     on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end, **kwargs)
        unknown = sorted(set(given) - set(_HOOKS))
        if unknown:
            raise TypeError(f"LambdaCallback: unknown hook(s) {unknown}; hooks are {list(_HOOKS)}")
        self._given = {}
        for hook, function in given.items():
            if function is None:
                continue
            if not callable(function):
                raise TypeError(f"LambdaCallback: `{hook}` must be callable, got {function!r}")
            self._given[hook] = function
            setattr(self, hook, function)

    def overrides_batch_hooks(self):
        """True when a batch hook was given (fit then calls it after every step)."""
        return any(hook in self._given for hook in BATCH_HOOKS)

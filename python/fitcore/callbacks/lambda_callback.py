"""LambdaCallback: a callback made of plain functions, one per hook given."""
from fitcore.callbacks.callback import BATCH_HOOKS, Callback

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_test_begin", "on_test_end",
          "on_predict_begin", "on_predict_end") + BATCH_HOOKS


class LambdaCallback(Callback):
    """LambdaCallback(on_epoch_end=lambda epoch, logs: ...). Hooks take the same arguments as the
    Callback methods of the same name (epoch/batch, logs; or logs only)."""

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
        return any(hook in self._given for hook in BATCH_HOOKS)

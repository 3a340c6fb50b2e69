"""Callbacks: one hook protocol (Callback), dispatched by CallbackList."""
from fitcore.callbacks.callback import Callback
from fitcore.callbacks.callback_list import CallbackList
from fitcore.callbacks.history import History
from fitcore.callbacks.progbar_logger import ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger"]

"""Callbacks: one hook protocol (Callback), dispatched by CallbackList; one module per callback."""
from fitcore.callbacks.backup_and_restore import BackupAndRestore
from fitcore.callbacks.callback import Callback
from fitcore.callbacks.callback_list import CallbackList
from fitcore.callbacks.csv_logger import CSVLogger
from fitcore.callbacks.early_stopping import EarlyStopping
from fitcore.callbacks.history import History
from fitcore.callbacks.lambda_callback import LambdaCallback
from fitcore.callbacks.learning_rate_scheduler import LearningRateScheduler
from fitcore.callbacks.metrics_viewer import MetricsViewer
from fitcore.callbacks.model_checkpoint import ModelCheckpoint
from fitcore.callbacks.progbar_logger import ProgbarLogger
from fitcore.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from fitcore.callbacks.terminate_on_nan import TerminateOnNaN
from fitcore.callbacks.tensorboard import TensorBoard

__all__ = ["BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History", "LambdaCallback",
           "LearningRateScheduler", "MetricsViewer", "ModelCheckpoint", "ProgbarLogger", "ReduceLROnPlateau",
           "TerminateOnNaN"]
__all__ += ["TensorBoard"]

from fitcore.models.model import Model
from fitcore.models.sequential import Sequential
from fitcore.saving.model_file import load_model
from fitcore.saving.keras_format import from_keras

__all__ = ["Model", "Sequential", "load_model", "from_keras"]

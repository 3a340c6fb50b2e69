from fitcore.models.model import Model
from fitcore.models.sequential import Sequential
from fitcore.saving.model_file import load_model

__all__ = ["Model", "Sequential", "load_model"]

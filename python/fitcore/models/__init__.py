from fitcore.models.model import Model
from fitcore.models.sequential import Sequential

__all__ = ["Model", "Sequential"]

"""One adapter per kind of input, behind the DataAdapter interface."""
from fitcore.data.adapters.array_adapter import ArrayAdapter
from fitcore.data.adapters.data_adapter import DataAdapter


def get_adapter(x, **kwargs):
    """The adapter for `x`; TypeError for kinds fitcore cannot read."""
    return ArrayAdapter.from_user_data(x, **kwargs)


__all__ = ["ArrayAdapter", "DataAdapter", "get_adapter"]

"""Data: everything between what the user passes and the buffers the core reads.
One adapter per input kind behind one interface (adapters/)."""
from fitcore.data.adapters import ArrayAdapter, DataAdapter, get_adapter

__all__ = ["ArrayAdapter", "DataAdapter", "get_adapter"]

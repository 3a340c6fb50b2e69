from fitcore.utils.py_dataset import PyDataset, Sequence
from fitcore.utils.random import set_random_seed
from fitcore.utils.numerical import to_categorical

__all__ = ["PyDataset", "Sequence", "set_random_seed"]
__all__ += ["to_categorical"]

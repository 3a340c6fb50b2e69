"""Metrics: streaming epoch means computed in the core (cpp/src/metrics.cpp).
"accuracy" is resolved per output from the target and prediction shapes, as Keras does."""


class Metric:
    core_name = None

    def __init__(self, name=None):
        self.name = name or self.core_name

    def core_config(self):
        return {}

    def get_config(self):
        return {"name": self.name}


class SparseCategoricalAccuracy(Metric):
    core_name = "sparse_categorical_accuracy"


class CategoricalAccuracy(Metric):
    core_name = "categorical_accuracy"


class BinaryAccuracy(Metric):
    core_name = "binary_accuracy"

    def __init__(self, name="binary_accuracy", threshold=0.5):
        super().__init__(name)
        self.threshold = float(threshold)

    def core_config(self):
        return {"threshold": self.threshold}

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


class Accuracy(Metric):
    """Keras's "accuracy": binary, sparse categorical or categorical, chosen from the shapes."""

    core_name = None

    def __init__(self, name="accuracy"):
        super().__init__(name)

    def resolve(self, target_shape, output_shape):
        """The concrete metric for per-sample target and output shapes."""
        if output_shape[-1] == 1:
            cls = BinaryAccuracy
        elif len(target_shape) < len(output_shape) or target_shape[-1:] == (1,):
            cls = SparseCategoricalAccuracy
        else:
            cls = CategoricalAccuracy
        return cls(name=self.name)


_BY_NAME = {
    "accuracy": Accuracy, "acc": Accuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "binary_accuracy": BinaryAccuracy,
}
_BY_CLASS_NAME = {cls.__name__: cls for cls in _BY_NAME.values() if cls is not Accuracy}


def get(identifier):
    """A Metric from a name or an instance; ValueError lists the valid names."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        if identifier in _BY_NAME:
            return _BY_NAME[identifier](name=identifier) if _BY_NAME[identifier] is Accuracy else _BY_NAME[identifier]()
        if identifier in _BY_CLASS_NAME:
            return _BY_CLASS_NAME[identifier]()
    valid = sorted(set(_BY_NAME) | set(_BY_CLASS_NAME))
    raise ValueError(f"Unknown metric {identifier!r}; valid metrics are: {', '.join(valid)}")

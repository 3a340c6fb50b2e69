"""Objects as plain JSON ({"class_name": ..., "config": {...}}) and back.

Loading only ever rebuilds classes that fitcore itself defines, looked up by name in an allow-list
of modules and checked against their base class: a file can name a class, never make one run.
"""
import importlib
import numbers

# What may be rebuilt from a file, per kind: (module holding the classes, dotted name of the base).
_KINDS = {
    "layer": ("fitcore.layers", "fitcore.layers.layer.Layer"),
    "loss": ("fitcore.losses", "fitcore.losses.Loss"),
    "metric": ("fitcore.metrics", "fitcore.metrics.Metric"),
    "optimizer": ("fitcore.optimizers", "fitcore.optimizers.optimizer.Optimizer"),
    "schedule": ("fitcore.optimizers.schedules", "fitcore.optimizers.schedules.LearningRateSchedule"),
}


def _resolve(dotted):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def serialize(obj):
    """The one serialized form of fitcore objects (layers, losses, metrics, optimizers, schedules,
    regularizers): {"class_name", "config"}, JSON-able.

    Args:
        obj: any fitcore object with get_config().

    Returns:
        A dict {"class_name": str, "config": dict}.
    """
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def deserialize(kind, spec, where):
    """Rebuilds an object of `kind` from serialize()'s output; ValueError naming `where` otherwise."""
    if not isinstance(spec, dict) or set(spec) != {"class_name", "config"} or not isinstance(
            spec["class_name"], str) or not isinstance(spec["config"], dict):
        raise ValueError(f"{where}: expected {{'class_name': str, 'config': dict}}, got {_short(spec)}")
    module_name, base_name = _KINDS[kind]
    try:
        module, base = importlib.import_module(module_name), _resolve(base_name)
    except (ImportError, AttributeError):
        raise ValueError(f"{where}: this fitcore has no {kind}s to rebuild '{spec['class_name']}'") from None
    cls = getattr(module, spec["class_name"], None) if not spec["class_name"].startswith("_") else None
    if not isinstance(cls, type) or not issubclass(cls, base) or cls is base:
        raise ValueError(f"{where}: unknown {kind} class {spec['class_name']!r}")
    config = dict(spec["config"])
    if kind == "optimizer" and isinstance(config.get("learning_rate"), dict):
        config["learning_rate"] = deserialize("schedule", config["learning_rate"], f"{where}.learning_rate")
    try:
        return cls(**config)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: cannot rebuild {spec['class_name']} from {_short(config)}: {error}") from None


def check_json_value(value, where, depth=0):
    """Only JSON's own types, nested at most 32 deep (what get_config() produces)."""
    if depth > 32:
        raise ValueError(f"{where}: nested too deeply")
    if isinstance(value, dict):
        for k, v in value.items():
            check_json_value(v, f"{where}.{k}", depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_json_value(v, f"{where}[{i}]", depth + 1)
    elif not (value is None or isinstance(value, (str, bool, numbers.Real))):
        raise ValueError(f"{where}: unexpected value {_short(value)}")


def _short(value, limit=120):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."

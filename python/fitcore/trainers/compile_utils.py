"""What compile() was given, resolved per model output: losses, loss weights, metrics."""
import numbers
import warnings

from fitcore import _core, losses as losses_module, metrics as metrics_module, optimizers
from fitcore.trainers import python_metrics


def _per_output(value, output_names, arg, allow_single=True):
    """A single entry (for every output), a list by position, or a dict by output name."""
    n = len(output_names)
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(output_names))
        if unknown:
            raise ValueError(f"compile: `{arg}` has keys {unknown} that are not output names {output_names}")
        return [value.get(name) for name in output_names]
    if isinstance(value, (list, tuple)) and n > 1:
        if len(value) != n:
            raise ValueError(f"compile: `{arg}` has {len(value)} entries for {n} outputs {output_names}")
        return list(value)
    if not allow_single and n > 1:
        raise ValueError(f"compile: pass `{arg}` as a list or dict for the outputs {output_names}")
    return [value] * n


def _loss_weight(value, num_outputs):
    """One output's loss weight as a float; a one-entry list is accepted for a single output, as Keras."""
    if value is None:
        return 1.0
    if num_outputs == 1 and isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(f"compile: `loss_weights` has {len(value)} entries for 1 output")
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"compile: `loss_weights` must be a number per output (a float, a list or a dict of floats), "
                        f"got {value!r}")
    return float(value)


def _metric_list(value, arg):
    """The metrics of one output: the core's (by name or instance) and Python-defined ones."""
    if value is None:
        return []
    entries = value if isinstance(value, (list, tuple)) else [value]
    return [python_metrics.wrap(m) if not isinstance(m, (str, dict)) and python_metrics.is_python_metric(m)
            else metrics_module.get(m) for m in entries]


class CompileConfig:
    """What compile() was given, resolved per model output.

    Args:
        model: the model being compiled.
        optimizer: compile's `optimizer`.
        loss: compile's `loss`.
        loss_weights: compile's `loss_weights`.
        metrics: compile's `metrics`.
        weighted_metrics: compile's `weighted_metrics`.
    """

    def __init__(self, model, optimizer, loss, loss_weights, metrics, weighted_metrics):
        self.optimizer = optimizers.get(optimizer)
        names = model.output_names
        self.losses = [None if l is None else losses_module.get(l, owner="compile")
                       for l in _per_output(loss, names, "loss")]
        weights = _per_output(1.0 if loss_weights is None else loss_weights, names, "loss_weights")
        self.loss_weights = [_loss_weight(w, len(names)) for w in weights]
        self.metrics = [_metric_list(m, "metrics") for m in self._metrics_per_output(metrics, names, "metrics")]
        self.weighted_metrics = [_metric_list(m, "weighted_metrics")
                                 for m in self._metrics_per_output(weighted_metrics, names, "weighted_metrics")]

    @property
    def has_metrics(self):
        """True when any metric (weighted or not) was compiled."""
        return any(self.metrics) or any(self.weighted_metrics)

    @property
    def has_python_metrics(self):
        """True when a compiled metric is Python-defined: fit then goes step by step."""
        return any(isinstance(m, python_metrics.PythonMetric) for group in self.metrics + self.weighted_metrics
                   for m in group)

    @staticmethod
    def _metrics_per_output(value, names, arg):
        """As Keras 3: for several outputs, a dict by output name or a list with one entry (a metric
        or a list of metrics) per output; for one output, the metrics themselves."""
        if value is None:
            return [None] * len(names)
        if isinstance(value, dict):
            return _per_output(value, names, arg)
        if len(names) > 1:
            if not isinstance(value, (list, tuple)) or len(value) != len(names):
                got = f"{len(value)} entries" if isinstance(value, (list, tuple)) else repr(value)
                raise ValueError(f"compile: for a model with {len(names)} outputs {names}, pass `{arg}` as a dict "
                                 f"by output name or a list with one entry (a metric or a list of metrics) per "
                                 f"output; got {got}")
            return list(value)
        return [value]

    @staticmethod
    def saved_metrics(metrics):
        """The metrics a saved file can describe: Python-defined ones are code, which fitcore's files
        never hold, so they are left out with a warning (the loaded model has the others).

        Args:
            metrics: one output's compiled metrics.

        Returns:
            The list without the Python-defined metrics.
        """
        python = [m.name for m in metrics if isinstance(m, python_metrics.PythonMetric)]
        if python:
            warnings.warn(f"saving: the Python-defined metrics {python} are not saved (a fitcore file holds no code); "
                          f"compile the loaded model with them again", UserWarning, stacklevel=4)
        return [m for m in metrics if not isinstance(m, python_metrics.PythonMetric)]

    def reset_python_metrics(self):
        """Clears the state of every Python-defined metric (with the core's own, at each reset)."""
        for group in self.metrics + self.weighted_metrics:
            for metric in group:
                if isinstance(metric, python_metrics.PythonMetric):
                    metric.reset_state()

    def require_loss(self):
        """ValueError when an output has no loss (fit / evaluate need one for every output)."""
        if any(l is None for l in self.losses):
            raise ValueError("compile() was called without a `loss` for every output; fit/evaluate need one")

    def loss_specs(self, output_shapes):
        """The core's loss specification per output.

        Args:
            output_shapes: the model's per-sample output shapes.

        Returns:
            A list of `_core.OutputLossSpec`.
        """
        return [_core.OutputLossSpec(l.core_name, _core.Config(l.core_config(), {}), w, l.target_width(shape))
                for l, w, shape in zip(self.losses, self.loss_weights, output_shapes)]

    def metric_plan(self, output_names, target_shapes, output_shapes):
        """The log names, core specs and Python metrics for targets of the given per-sample shapes.

        Names as Keras 3's CompileMetrics.result(): every output's metrics, then every output's
        weighted_metrics; a repeated name gets a suffix _1, _2, ...; a weighted metric whose name is
        taken is renamed weighted_<name> (after the output prefix).

        Args:
            output_names: the model's output names.
            target_shapes: per output, the targets' per-sample shape.
            output_shapes: per output, the model's per-sample output shape.

        Returns:
            `(names, specs, python)`: every log name in compile order (loss first), the core's
            MetricSpecs, and `PythonMetrics` holding `(output, weighted, metric)` for the
            Python-defined ones (with their places among the names).
        """
        multi = len(output_names) > 1
        names = ["loss"] + ([f"{n}_loss" for n in output_names] if multi else [])
        taken, metric_names, specs, python, positions = {}, [], [], [], []
        for weighted, groups in ((False, self.metrics), (True, self.weighted_metrics)):
            for o, (out_name, t_shape, o_shape) in enumerate(zip(output_names, target_shapes, output_shapes)):
                prefix = f"{out_name}_" if multi else ""
                for metric in groups[o]:
                    if isinstance(metric, metrics_module.Accuracy):
                        metric = metric.resolve(tuple(t_shape), tuple(o_shape))
                    metric.check_shapes(tuple(t_shape), tuple(o_shape), out_name)
                    name = prefix + metric.name
                    if name in taken and weighted:
                        name = prefix + "weighted_" + metric.name
                    if name in taken:
                        taken[name] += 1
                        name = f"{name}_{taken[name] - 1}"
                    else:
                        taken[name] = 1
                    metric_names.append(name)
                    if isinstance(metric, python_metrics.PythonMetric):
                        python.append((o, weighted, metric))
                        positions.append(len(names) + len(metric_names) - 1)
                        continue
                    specs.append(_core.MetricSpec(metric.core_name, _core.Config(metric.core_config(),
                                                                                 metric.core_strings()), o, weighted))
        return names + metric_names, specs, python_metrics.PythonMetrics(python, positions)

"""What compile() was given, resolved per model output: losses, loss weights, metrics."""
import numbers

from fitcore import _core, losses as losses_module, metrics as metrics_module, optimizers


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
    if value is None:
        return []
    entries = value if isinstance(value, (list, tuple)) else [value]
    return [metrics_module.get(m) for m in entries]


class CompileConfig:
    def __init__(self, model, optimizer, loss, loss_weights, metrics, weighted_metrics):
        self.optimizer = optimizers.get(optimizer)
        names = model.output_names
        self.losses = [None if l is None else losses_module.get(l) for l in _per_output(loss, names, "loss")]
        weights = _per_output(1.0 if loss_weights is None else loss_weights, names, "loss_weights")
        self.loss_weights = [_loss_weight(w, len(names)) for w in weights]
        self.metrics = [_metric_list(m, "metrics") for m in self._metrics_per_output(metrics, names, "metrics")]
        self.weighted_metrics = [_metric_list(m, "weighted_metrics")
                                 for m in self._metrics_per_output(weighted_metrics, names, "weighted_metrics")]

    @staticmethod
    def _metrics_per_output(value, names, arg):
        if value is None:
            return [None] * len(names)
        if isinstance(value, dict):
            return _per_output(value, names, arg)
        if len(names) > 1 and isinstance(value, (list, tuple)) and all(
                isinstance(v, (list, tuple)) or v is None for v in value):
            return _per_output(list(value), names, arg)
        return [value] * len(names)  # a flat list applies to every output, as Keras does

    def require_loss(self):
        if any(l is None for l in self.losses):
            raise ValueError("compile() was called without a `loss` for every output; fit/evaluate need one")

    def loss_specs(self, output_shapes):
        return [_core.OutputLossSpec(l.core_name, _core.Config(l.core_config(), {}), w, l.target_width(shape))
                for l, w, shape in zip(self.losses, self.loss_weights, output_shapes)]

    def metric_plan(self, output_names, target_shapes, output_shapes):
        """(log names, core specs) for targets of the given per-sample shapes."""
        multi = len(output_names) > 1
        names = ["loss"] + ([f"{n}_loss" for n in output_names] if multi else [])
        specs = []
        for o, (out_name, t_shape, o_shape) in enumerate(zip(output_names, target_shapes, output_shapes)):
            for weighted, group in ((False, self.metrics[o]), (True, self.weighted_metrics[o])):
                for metric in group:
                    if isinstance(metric, metrics_module.Accuracy):
                        metric = metric.resolve(tuple(t_shape), tuple(o_shape))
                    name = f"{out_name}_{metric.name}" if multi else metric.name
                    if name in names:
                        name = "weighted_" + name if weighted else name
                    names.append(name)
                    specs.append(_core.MetricSpec(metric.core_name, _core.Config(metric.core_config(), {}), o,
                                                  weighted))
        return names, specs

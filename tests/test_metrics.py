"""Metrics against hand computation in numpy float64: streaming values over several batches, with
and without sample weights (weighted_metrics only), temporal outputs, "accuracy" resolution, log
names, compile-time errors and config round trips. Identity models (an Activation on the input)
make the predictions the inputs themselves."""
import json

import numpy as np
import pytest

import fitcore as fc
from reference import auc, auc_thresholds, confusion_counts, sigmoid, weighted_mean

RNG = np.random.default_rng(3)
N = 53  # several batches of 8 and a short last one


def identity_model(shape, activation="linear", metrics=None, weighted_metrics=None, loss="mse"):
    model = fc.Sequential([fc.Input(shape), fc.layers.Activation(activation)])
    model.compile(optimizer="sgd", loss=loss, metrics=metrics, weighted_metrics=weighted_metrics)
    return model


def evaluate(model, x, y, sample_weight=None, batch_size=8):
    """The logs in compile order (loss, then each metric as named), as evaluate's list gives them
    (the dict of return_dict=True is sorted by name, as Keras 3 logs)."""
    values = model.evaluate(x, y, sample_weight=sample_weight, batch_size=batch_size, verbose=0)
    logs = dict(zip(model._metric_plan[1], values if isinstance(values, list) else [values]))
    assert model.evaluate(x, y, sample_weight=sample_weight, batch_size=batch_size, verbose=0,
                          return_dict=True) == dict(sorted(logs.items()))
    return logs


def _regression_data(shape=(4,)):
    return (RNG.normal(size=(N,) + shape).astype(np.float32), RNG.normal(size=(N,) + shape).astype(np.float32),
            RNG.uniform(0.0, 2.0, size=N).astype(np.float32))


def test_regression_metrics_stream_over_batches_and_weights_apply_only_to_weighted_metrics():
    x, y, w = _regression_data()
    names = ["mse", "mae", "root_mean_squared_error"]
    model = identity_model((4,), metrics=names, weighted_metrics=names)
    logs = evaluate(model, x, y, w)
    err = x.astype(np.float64) - y
    mse, mae = np.mean(err ** 2, -1), np.mean(np.abs(err), -1)
    expected = {"mse": weighted_mean(mse), "mae": weighted_mean(mae), "root_mean_squared_error":
                np.sqrt(weighted_mean(mse)), "weighted_mse": weighted_mean(mse, w),
                "weighted_mae": weighted_mean(mae, w), "weighted_root_mean_squared_error": np.sqrt(weighted_mean(mse, w))}
    assert list(logs) == ["loss"] + list(expected)
    for name, value in expected.items():
        assert logs[name] == pytest.approx(value, rel=1e-5), name
    assert logs["mse"] != pytest.approx(logs["weighted_mse"], rel=1e-3)  # the weights really differ


def test_metric_classes_log_under_their_default_names():
    x, y, _ = _regression_data()
    metrics = [fc.metrics.MeanSquaredError(), fc.metrics.MeanAbsoluteError(), fc.metrics.RootMeanSquaredError(),
               fc.metrics.AUC(), fc.metrics.Precision(), fc.metrics.Recall(), fc.metrics.TopKCategoricalAccuracy()]
    logs = evaluate(identity_model((4,), "sigmoid", metrics=metrics), x, (y > 0).astype(np.float32))
    assert list(logs) == ["loss", "mean_squared_error", "mean_absolute_error", "root_mean_squared_error", "auc",
                          "precision", "recall", "top_k_categorical_accuracy"]


def test_string_names_log_as_given_and_repeats_get_suffixes():
    x, y, w = _regression_data()
    model = identity_model((4,), metrics=["mse", "MSE", "mean_squared_error", "mse"], weighted_metrics=["mse", "mse"])
    logs = evaluate(model, x, y, w)
    assert list(logs) == ["loss", "mse", "MSE", "mean_squared_error", "mse_1", "weighted_mse", "weighted_mse_1"]
    assert logs["mse_1"] == logs["mse"] == logs["MSE"]
    assert logs["weighted_mse_1"] == logs["weighted_mse"] != logs["mse"]


def test_weighted_metric_alone_keeps_its_name():
    x, y, w = _regression_data()
    logs = evaluate(identity_model((4,), metrics=["mae"], weighted_metrics=["mse"]), x, y, w)
    assert list(logs) == ["loss", "mae", "mse"]
    assert logs["mse"] == pytest.approx(weighted_mean(np.mean((x.astype(np.float64) - y) ** 2, -1), w), rel=1e-5)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_categorical_accuracy(k):
    x = RNG.normal(size=(N, 5)).astype(np.float32)
    x[:5, :] = 0.5  # all tied: ties count as hits
    labels = RNG.integers(0, 5, N)
    y = np.eye(5, dtype=np.float32)[labels]
    w = RNG.uniform(0.0, 2.0, size=N).astype(np.float32)
    model = identity_model((5,), metrics=[fc.metrics.TopKCategoricalAccuracy(k=k)],
                           weighted_metrics=[fc.metrics.TopKCategoricalAccuracy(k=k)])
    logs = evaluate(model, x, y, w)
    hits = (x > x[np.arange(N), labels][:, None]).sum(1) < k
    assert hits[:5].all()
    assert logs["top_k_categorical_accuracy"] == pytest.approx(weighted_mean(hits), rel=1e-6)
    assert logs["weighted_top_k_categorical_accuracy"] == pytest.approx(weighted_mean(hits, w), rel=1e-6)


def _binary_data(shape=(3,)):
    logits = RNG.normal(size=(N,) + shape).astype(np.float32)
    labels = (RNG.uniform(size=(N,) + shape) < sigmoid(1.5 * logits)).astype(np.float32)
    return logits, labels, RNG.uniform(0.0, 2.0, size=N).astype(np.float32)


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("summation", ["interpolation", "minoring", "majoring"])
def test_auc_against_a_direct_computation_on_the_same_thresholds(curve, summation):
    logits, labels, w = _binary_data()
    make = lambda: fc.metrics.AUC(num_thresholds=50, curve=curve, summation_method=summation)  # noqa: E731
    model = identity_model((3,), "sigmoid", metrics=[make()], weighted_metrics=[make()])
    logs = evaluate(model, logits, labels, w)
    pred = sigmoid(logits.astype(np.float64)).astype(np.float32)
    thresholds = auc_thresholds(50)
    assert logs["auc"] == pytest.approx(auc(*confusion_counts(pred, labels, thresholds), curve, summation), rel=1e-6)
    assert logs["weighted_auc"] == pytest.approx(auc(*confusion_counts(pred, labels, thresholds, w), curve, summation),
                                                 rel=1e-6)
    assert abs(logs["auc"] - logs["weighted_auc"]) > 1e-4
    assert 0.6 < logs["auc"] <= 1.0


def test_auc_from_logits_and_given_thresholds():
    logits, labels, _ = _binary_data()
    metric = fc.metrics.AUC(thresholds=[0.7, 0.2, 0.5], from_logits=True)
    logs = evaluate(identity_model((3,), metrics=[metric], loss="binary_crossentropy"), logits, labels)
    thresholds = np.array([-1e-7, 0.2, 0.5, 0.7, 1 + 1e-7], np.float32)
    pred = sigmoid(logits.astype(np.float64)).astype(np.float32)
    assert metric.num_thresholds == 5
    assert logs["auc"] == pytest.approx(auc(*confusion_counts(pred, labels, thresholds)), rel=1e-6)


def test_auc_default_thresholds_are_keras():
    thresholds = fc.metrics.AUC().thresholds
    assert len(thresholds) == 200
    assert thresholds[0] == -1e-7 and thresholds[-1] == 1 + 1e-7
    np.testing.assert_allclose(thresholds[1:-1], np.arange(1, 199) / 199.0, rtol=1e-12)


@pytest.mark.parametrize("metric, threshold, class_id", [
    ("precision", None, None), ("recall", None, None), ("precision", 0.3, None), ("recall", 0.8, 2),
    ("precision", 0.6, 1)])
def test_precision_and_recall_count_over_the_epoch(metric, threshold, class_id):
    logits, labels, w = _binary_data()
    cls = {"precision": fc.metrics.Precision, "recall": fc.metrics.Recall}[metric]
    model = identity_model((3,), "sigmoid", metrics=[cls(thresholds=threshold, class_id=class_id)],
                           weighted_metrics=[cls(thresholds=threshold, class_id=class_id)])
    logs = evaluate(model, logits, labels, w)
    pred = sigmoid(logits.astype(np.float64)).astype(np.float32)
    columns = slice(None) if class_id is None else slice(class_id, class_id + 1)
    t = [0.5 if threshold is None else threshold]
    for name, weights in ((metric, None), ("weighted_" + metric, w)):
        tp, fp, _, fn = confusion_counts(pred[:, columns], labels[:, columns], t, weights)
        expected = tp[0] / (tp[0] + (fp[0] if metric == "precision" else fn[0]))
        assert logs[name] == pytest.approx(expected, rel=1e-6), name


def test_precision_is_zero_when_nothing_is_predicted_positive():
    logs = evaluate(identity_model((2,), metrics=["precision", "recall"]), np.zeros((4, 2), np.float32),
                    np.ones((4, 2), np.float32))
    assert logs["precision"] == 0.0 and logs["recall"] == 0.0


def test_temporal_outputs_with_per_timestep_weights():
    x = RNG.normal(size=(N, 4, 3)).astype(np.float32)
    y = (RNG.uniform(size=(N, 4, 3)) < sigmoid(x)).astype(np.float32)
    w = RNG.uniform(0.0, 2.0, size=(N, 4)).astype(np.float32)
    names = ["mse", "root_mean_squared_error", "auc", "precision", "binary_accuracy"]
    model = identity_model((4, 3), "sigmoid", metrics=None, weighted_metrics=names)
    logs = evaluate(model, x, y, w, batch_size=5)
    pred = sigmoid(x.astype(np.float64)).astype(np.float32)
    mse = np.mean((pred.astype(np.float64) - y) ** 2, -1)  # (N, 4): one value per timestep
    tp, fp, _, _ = confusion_counts(pred, y, [0.5], w)
    expected = {"mse": weighted_mean(mse, w), "root_mean_squared_error": np.sqrt(weighted_mean(mse, w)),
                "auc": auc(*confusion_counts(pred, y, auc_thresholds(200), w)),
                "precision": tp[0] / (tp[0] + fp[0]),
                "binary_accuracy": weighted_mean(np.mean((pred > 0.5) == y, -1), w)}
    for name, value in expected.items():
        assert logs[name] == pytest.approx(value, rel=1e-5), name


def test_epoch_values_stream_over_all_training_batches():
    # AUC over the epoch is not the mean of the batches' AUCs: the History value must be the former.
    x, labels, _ = _binary_data(shape=(1,))
    model = fc.Sequential([fc.Input((1,)), fc.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=fc.optimizers.SGD(0.0), loss="binary_crossentropy", metrics=["auc", "mse"])
    history = model.fit(x, labels, batch_size=8, epochs=2, verbose=0)
    pred = model.predict(x, verbose=0)
    assert history.history["auc"][1] == pytest.approx(auc(*confusion_counts(pred, labels, auc_thresholds(200))),
                                                      rel=1e-6)
    assert history.history["mse"][1] == pytest.approx(weighted_mean((pred.astype(np.float64) - labels) ** 2), rel=1e-5)


def test_metrics_do_not_depend_on_the_thread_count(restore_threads):
    x, labels, w = _binary_data(shape=(50,))
    results = []
    for threads in (1, 2):
        fc.config.set_num_threads(threads)
        model = identity_model((50,), "sigmoid", metrics=["auc", "mse"], weighted_metrics=["auc", "precision"])
        results.append(evaluate(model, x, labels, w))
    assert results[0] == results[1]


# --- "accuracy" resolution (Keras 3's is_binary_or_sparse_categorical) ----------------------------

@pytest.mark.parametrize("identifier", ["accuracy", "acc", "Accuracy", "ACC"])
def test_accuracy_resolves_from_shapes_and_logs_as_given(identifier):
    x = RNG.normal(size=(N, 4)).astype(np.float32)
    labels = RNG.integers(0, 4, N)
    onehot = np.eye(4, dtype=np.float32)[labels]
    expected = weighted_mean(np.argmax(x, -1) == labels)
    for y, loss in ((labels, "sparse_categorical_crossentropy"), (labels[:, None], "sparse_categorical_crossentropy"),
                    (onehot, "categorical_crossentropy")):
        logs = evaluate(identity_model((4,), "softmax", metrics=[identifier], loss=loss), x, y)
        assert list(logs) == ["loss", identifier]
        assert logs[identifier] == pytest.approx(expected, rel=1e-6)


def test_accuracy_on_a_single_unit_output_is_binary():
    x = RNG.uniform(size=(N, 1)).astype(np.float32)
    y = (RNG.uniform(size=N) < 0.5).astype(np.float32)
    logs = evaluate(identity_model((1,), metrics=["accuracy"], loss="binary_crossentropy"), x, y)
    assert logs["accuracy"] == pytest.approx(weighted_mean((x[:, 0] > 0.5) == y), rel=1e-6)


# --- errors ---------------------------------------------------------------------------------------

def test_unknown_metric_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"Unknown metric 'auroc'; valid metrics are: .*\bauc\b.*\bmse\b.*\bprecision"
                                         r".*top_k_categorical_accuracy"):
        identity_model((2,), metrics=["auroc"])


@pytest.mark.parametrize("make, message", [
    (lambda: fc.metrics.AUC(curve="roc_pr"), r'Invalid AUC curve value: "roc_pr". Expected values are \["PR", "ROC"\]'),
    (lambda: fc.metrics.AUC(summation_method="simpson"), 'Invalid AUC summation method value: "simpson"'),
    (lambda: fc.metrics.AUC(num_thresholds=1), "Argument `num_thresholds` must be an integer > 1"),
    (lambda: fc.metrics.AUC(num_thresholds=10**10), r"AUC: `num_thresholds` must be in \[2, 2\*\*20 = 1048576\], "
                                                    r"got 10000000000"),
    (lambda: fc.metrics.AUC(num_thresholds=2**20 + 1), r"`num_thresholds` must be in \[2, 2\*\*20 = 1048576\]"),
    (lambda: fc.metrics.AUC(thresholds=[0.5] * (2**20 - 1)), r"AUC: `thresholds` may list at most 1048574 values, "
                                                             r"got 1048575"),
    (lambda: fc.metrics.AUC(multi_label=True), "multi_label=False"),
    (lambda: fc.metrics.Precision(thresholds=1.5), r"Threshold values must be in \[0, 1\]"),
    (lambda: fc.metrics.Recall(thresholds=[0.3, 0.6]), "`thresholds` must be one number"),
    (lambda: fc.metrics.Recall(top_k=2), "`top_k` is not supported"),
    (lambda: fc.metrics.TopKCategoricalAccuracy(k=0), "^TopKCategoricalAccuracy: `k` must be >= 1, got 0$"),
    (lambda: fc.metrics.Precision(class_id=-1), "^Precision: `class_id` must be >= 0, got -1$"),
    (lambda: fc.metrics.BinaryAccuracy(threshold=float("nan")),
     "^BinaryAccuracy: `threshold` must be a finite number, got nan$"),
])
def test_bad_metric_arguments_name_the_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make, message", [
    (lambda: fc.metrics.TopKCategoricalAccuracy(k=2.0), "TopKCategoricalAccuracy: `k` must be an int, got 2.0"),
    (lambda: fc.metrics.Recall(class_id="a"), "Recall: `class_id` must be an int or None, got 'a'"),
    (lambda: fc.metrics.BinaryAccuracy(threshold="a"), "BinaryAccuracy: `threshold` must be a number, got 'a'"),
    (lambda: fc.metrics.AUC(thresholds=[0.5, "x"]), "AUC: `thresholds` must be a number, got 'x'"),
])
def test_metric_arguments_of_the_wrong_type_are_type_errors(make, message):
    with pytest.raises(TypeError) as info:
        make()
    assert type(info.value) is TypeError and str(info.value) == message


@pytest.mark.parametrize("metric", ["mse", "auc", "top_k_categorical_accuracy", fc.metrics.Precision(class_id=0)])
def test_metric_needing_dense_targets_with_sparse_labels_fails_before_training(metric):
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(4, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=[metric])
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"^`metrics`: .* needs `y` with the output's shape, \(n, 4\); the targets "
                                         r"have per-sample shape \(\)"):
        model.fit(RNG.normal(size=(10, 3)).astype(np.float32), RNG.integers(0, 4, 10), verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_class_id_outside_the_output_is_an_error():
    with pytest.raises(ValueError, match="`class_id`=3 is outside the 2 columns of output"):
        evaluate(identity_model((2,), metrics=[fc.metrics.Recall(class_id=3)]), np.zeros((4, 2), np.float32),
                 np.zeros((4, 2), np.float32))


# --- serialisation --------------------------------------------------------------------------------

@pytest.mark.parametrize("metric", [
    fc.metrics.MeanSquaredError(), fc.metrics.MeanAbsoluteError(name="m"), fc.metrics.RootMeanSquaredError(),
    fc.metrics.TopKCategoricalAccuracy(k=2), fc.metrics.BinaryAccuracy(threshold=0.3),
    fc.metrics.CategoricalAccuracy(), fc.metrics.SparseCategoricalAccuracy(),
    fc.metrics.AUC(num_thresholds=20, curve="PR", summation_method="minoring", from_logits=True),
    fc.metrics.AUC(thresholds=[0.1, 0.4]), fc.metrics.Precision(thresholds=0.4, class_id=1), fc.metrics.Recall(),
])
def test_metric_config_round_trip(metric):
    cfg = json.loads(json.dumps(metric.get_config()))
    rebuilt = type(metric)(**cfg)
    assert rebuilt.get_config() == metric.get_config()
    assert rebuilt.core_config() == metric.core_config() and rebuilt.core_strings() == metric.core_strings()
    again = fc.metrics.get(json.loads(json.dumps(fc.metrics.serialize(metric))))
    assert type(again) is type(metric) and again.get_config() == metric.get_config()


def test_deserializing_an_unknown_metric_class_lists_the_known_ones():
    with pytest.raises(ValueError, match="Unknown metric class 'F1Score'; known classes are: AUC, Accuracy"):
        fc.metrics.deserialize({"class_name": "F1Score", "config": {}})


@pytest.mark.parametrize("loss", [fc.losses.MeanSquaredError(), fc.losses.MeanAbsoluteError(),
                                  fc.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
                                  fc.losses.CategoricalCrossentropy(label_smoothing=0.2),
                                  fc.losses.SparseCategoricalCrossentropy(from_logits=True)])
def test_loss_config_round_trip(loss):
    cfg = json.loads(json.dumps(loss.get_config()))
    rebuilt = type(loss)(**cfg)
    assert rebuilt.get_config() == loss.get_config() and rebuilt.core_config() == loss.core_config()


def test_multi_output_names_put_the_output_before_weighted():
    # Keras 3's CompileMetrics.result(): all outputs' metrics, then all outputs' weighted metrics,
    # a taken name becoming <output>_weighted_<metric>.
    inputs = fc.Input((3,), name="x")
    model = fc.Model(inputs=inputs, outputs=[fc.layers.Dense(2, name="a")(inputs), fc.layers.Dense(1, name="b")(inputs)])
    model.compile(optimizer="sgd", loss=["mse", "mse"], metrics=[["mse"], ["mae"]],
                  weighted_metrics=[["mse"], ["mae", "mse"]])
    x = RNG.normal(size=(N, 3)).astype(np.float32)
    ya, yb = RNG.normal(size=(N, 2)).astype(np.float32), RNG.normal(size=(N, 1)).astype(np.float32)
    w = RNG.uniform(0.0, 2.0, size=N).astype(np.float32)
    logs = evaluate(model, x, [ya, yb], sample_weight=w)
    assert list(logs)[3:] == ["a_mse", "b_mae", "a_weighted_mse", "b_weighted_mae", "b_mse"]
    pa, pb = (p.astype(np.float64) for p in model.predict(x, verbose=0))
    assert logs["a_weighted_mse"] == pytest.approx(weighted_mean(np.mean((pa - ya) ** 2, -1), w), rel=1e-5)
    assert logs["b_mse"] == pytest.approx(weighted_mean((pb - yb)[:, 0] ** 2, w), rel=1e-5)
    assert logs["b_mae"] == pytest.approx(weighted_mean(np.abs(pb - yb)[:, 0]), rel=1e-5)

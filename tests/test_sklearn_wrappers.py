"""fc.wrappers: scikit-learn's estimator checks, Pipeline / cross_val_score / GridSearchCV(n_jobs=2),
and the target coding the estimators do around the model."""
import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", reason="scikit-learn is part of the test extra")
from sklearn.datasets import make_classification, make_regression  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import fitcore as fc  # noqa: E402
from fitcore.wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer  # noqa: E402


# Module-level builders: GridSearchCV(n_jobs=2) pickles the estimators, and with them these functions.
def build_classifier(X, y, hidden=16):
    model = fc.Sequential([fc.Input((X.shape[1],)), fc.layers.Dense(hidden, activation="relu"),
                           fc.layers.Dense(y.shape[1], activation="softmax")])
    model.compile(fc.optimizers.Adam(0.01), "categorical_crossentropy")
    return model


def build_regressor(X, y, hidden=16):
    model = fc.Sequential([fc.Input((X.shape[1],)), fc.layers.Dense(hidden, activation="relu"),
                           fc.layers.Dense(y.shape[1])])
    model.compile(fc.optimizers.Adam(0.01), "mse")
    return model


def build_transformer(X, y, width=3):
    """Learns y through a narrow tanh layer; transform() gives its outputs (y's width)."""
    model = fc.Sequential([fc.Input((X.shape[1],)), fc.layers.Dense(width, activation="tanh"),
                           fc.layers.Dense(y.shape[1])])
    model.compile("adam", "mse")
    return model


# Checks that cannot hold for a network trained from random weights, each with the reason (the same
# list Keras 3 keeps for its wrappers, less what passes here). Every other check must pass.
_RANDOM_START = "each fit starts from new random weights, so two fits on the same data differ"
_EXPECTED_FAILURES = {
    "SKLearnClassifier": {
        "check_supervised_y_2d": _RANDOM_START,
        "check_classifiers_train": "5 epochs of a small network do not reach the check's accuracy bar",
        "check_classifiers_classes": "5 epochs of a small network may predict one class throughout",
        "check_classifier_data_not_an_array": _RANDOM_START,
    },
    "SKLearnRegressor": {
        "check_supervised_y_2d": _RANDOM_START,
        "check_regressor_data_not_an_array": _RANDOM_START,
        "check_regressors_int": _RANDOM_START,
        "check_fit_idempotent": _RANDOM_START,
    },
    "SKLearnTransformer": {
        "check_transformer_data_not_an_array": _RANDOM_START,
        "check_transformer_general": _RANDOM_START,
        "check_fit_idempotent": _RANDOM_START,
    },
}


def _expected_failures(estimator):
    return _EXPECTED_FAILURES[type(estimator).__name__]


@parametrize_with_checks(
    [SKLearnClassifier(build_classifier, fit_kwargs={"epochs": 5}),
     SKLearnRegressor(build_regressor, fit_kwargs={"epochs": 5}),
     SKLearnTransformer(build_transformer, fit_kwargs={"epochs": 2})],
    expected_failed_checks=_expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _classification(n=400, seed=0):
    X, y = make_classification(n_samples=n, n_features=8, n_informative=5, n_classes=3, random_state=seed)
    return X.astype(np.float32), np.array(["cat", "dog", "eel"])[y]


def test_classifier_codes_labels_and_decodes_predictions():
    X, y = _classification()
    seen = {}

    def build(X, y):
        seen["y"] = y
        return build_classifier(X, y)

    clf = SKLearnClassifier(build, fit_kwargs={"epochs": 30}).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog", "eel"])
    # The model trains on one-hot rows in classes_'s order.
    np.testing.assert_array_equal(seen["y"], (y[:, None] == clf.classes_[None, :]).astype(np.float32))
    outputs = clf.model_.predict(X, verbose=0)
    np.testing.assert_array_equal(clf.decision_function(X), outputs)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[outputs.argmax(axis=1)])
    assert clf.score(X, y) > 0.8  # three classes: chance is 1/3
    assert len(clf.history_["loss"]) == 30 and clf.history_["loss"][-1] < clf.history_["loss"][0]


def test_pipeline_cross_val_score_and_grid_search_with_two_jobs():
    X, y = _classification(600, seed=1)
    pipe = make_pipeline(StandardScaler(), SKLearnClassifier(build_classifier, fit_kwargs={"epochs": 20}))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.7
    search = GridSearchCV(SKLearnClassifier(build_classifier, fit_kwargs={"epochs": 20}),
                          {"model_kwargs": [{"hidden": 2}, {"hidden": 32}]}, cv=3, n_jobs=2)
    search.fit(X, y)
    assert search.best_params_ == {"model_kwargs": {"hidden": 32}}
    assert search.best_estimator_.model_.layers[0].units == 32
    assert search.best_score_ > 0.7


def test_regressor_learns_and_keeps_the_target_shape():
    X, y = make_regression(n_samples=500, n_features=5, noise=1.0, random_state=0)
    y = (y / y.std()).astype(np.float32)
    reg = SKLearnRegressor(build_regressor, model_kwargs={"hidden": 32}, fit_kwargs={"epochs": 60}).fit(X, y)
    prediction = reg.predict(X)
    assert prediction.shape == (500,)
    np.testing.assert_array_equal(prediction, reg.model_.predict(X.astype(np.float32), verbose=0)[:, 0])
    assert reg.score(X, y) > 0.9


def test_regressor_multioutput():
    X, y = make_regression(n_samples=300, n_features=4, n_targets=2, random_state=0)
    reg = SKLearnRegressor(build_regressor, fit_kwargs={"epochs": 2}).fit(X, y / y.std())
    assert reg.predict(X).shape == (300, 2)


def test_transformer_feeds_the_next_step():
    X, y = _classification(300)
    pipe = make_pipeline(SKLearnTransformer(build_transformer, fit_kwargs={"epochs": 5}), LogisticRegression())
    codes = (y == "dog").astype(np.float32)
    pipe.fit(X, codes)
    transformer = pipe.steps[0][1]
    features = transformer.transform(X)
    assert features.shape == (300, 1)
    np.testing.assert_array_equal(features, transformer.model_.predict(X.astype(np.float32), verbose=0))


def test_warm_start_continues_the_same_model():
    X, y = _classification(200)
    clf = SKLearnClassifier(build_classifier, warm_start=True, fit_kwargs={"epochs": 1}).fit(X, y)
    first = clf.model_
    weights = [w.copy() for w in first.get_weights()]
    clf.fit(X, y)
    assert clf.model_ is first
    assert any(not np.array_equal(a, b) for a, b in zip(weights, first.get_weights()))
    fresh = SKLearnClassifier(build_classifier, fit_kwargs={"epochs": 1}).fit(X, y)
    model = fresh.model_
    fresh.fit(X, y)
    assert fresh.model_ is not model


def test_bad_models_and_targets_are_named():
    X, y = _classification(50)
    with pytest.raises(TypeError, match=r"SKLearnClassifier: `model` must be a compiled fc.Model or a function"):
        SKLearnClassifier(42).fit(X, y)
    with pytest.raises(TypeError, match=r"SKLearnRegressor: `model` returned str, expected an fc.Model"):
        SKLearnRegressor(lambda X, y: "model").fit(X, y == "cat")

    def uncompiled(X, y):
        return fc.Sequential([fc.Input((X.shape[1],)), fc.layers.Dense(y.shape[1])])

    with pytest.raises(ValueError, match=r"SKLearnRegressor: the model must be compiled"):
        SKLearnRegressor(uncompiled).fit(X, (y == "cat").astype(float))
    with pytest.raises(ValueError, match=r"SKLearnClassifier: `y` has 1 class \('cat'\); a classifier needs at least two"):
        SKLearnClassifier(build_classifier).fit(X, np.full(50, "cat"))
    with pytest.raises(ValueError, match=r"SKLearnClassifier: `y` must be binary or multiclass labels, got continuous"):
        SKLearnClassifier(build_classifier).fit(X, np.linspace(0, 1, 50))


def test_without_scikit_learn_the_error_names_the_extra(monkeypatch):
    from fitcore.wrappers import sklearn_wrapper

    monkeypatch.setattr(sklearn_wrapper, "_SKLEARN", False)
    with pytest.raises(ImportError, match=r'SKLearnClassifier needs scikit-learn: pip install "fitcore\[sklearn\]"'):
        SKLearnClassifier(build_classifier)

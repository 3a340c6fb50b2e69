"""scikit-learn estimators that build, fit and predict with a fitcore model.

Each estimator takes a model-building function (called at `fit` with the validated `X` and the
encoded `y`, so it can size the input and output layers from them) or a compiled model, and turns
scikit-learn's `fit` / `predict` / `transform` into the model's. They follow scikit-learn's estimator
contract (parameters stored as given, fitted state in `*_` attributes, `n_features_in_`), so they
work inside `Pipeline`, `cross_val_score` and `GridSearchCV`, also with `n_jobs` (which pickles them).
"""
import copy

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
    from sklearn.utils.multiclass import type_of_target
    from sklearn.utils.validation import check_is_fitted
except ImportError:  # the classes still import; constructing one says what to install
    _SKLEARN = False
    BaseEstimator = ClassifierMixin = RegressorMixin = TransformerMixin = object
else:
    _SKLEARN = True


def _require_sklearn(owner):
    if not _SKLEARN:
        raise ImportError(f"{owner} needs scikit-learn: pip install \"fitcore[sklearn]\"")


def _validate_data(estimator, X, y=None, reset=True):
    """scikit-learn's input validation (and its `n_features_in_` bookkeeping), old and new API."""
    try:  # scikit-learn >= 1.6
        from sklearn.utils.validation import validate_data
    except ImportError:
        return estimator._validate_data(X, y, reset=reset) if y is not None else \
            estimator._validate_data(X, reset=reset)
    if y is None:
        return validate_data(estimator, X, reset=reset)
    return validate_data(estimator, X, y, reset=reset, multi_output=True)


class _SKLearnBase(BaseEstimator):
    """What the three estimators share: the model's construction, `fit` and the target coding.

    Args:
        model: a function `model(X, y, **model_kwargs)` returning a compiled `fc.Model`, or a
            compiled `fc.Model`. A model is copied before it is fitted (its weights as they are),
            unless `warm_start=True`, when the same model trains on at every `fit`.
        warm_start: bool. Whether `fit` continues from the previously fitted model instead of
            building a new one.
        model_kwargs: dict or None. Extra keyword arguments for `model` when it is a function.
        fit_kwargs: dict or None. Keyword arguments for `Model.fit` (`epochs`, `batch_size`, ...);
            those given to the estimator's `fit` take precedence.

    Attributes:
        model_: the fitted `fc.Model`.
        history_: dict, the fit's `History.history`.
        n_features_in_: int, the number of features seen in `fit`.
    """

    def __init__(self, model, warm_start=False, model_kwargs=None, fit_kwargs=None):
        _require_sklearn(type(self).__name__)
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True  # weights start from random draws unless the user seeds them
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"non_deterministic": True}

    def _build_model(self, X, y):
        from fitcore.models import Model

        if self.warm_start and hasattr(self, "model_"):
            return self.model_
        if isinstance(self.model, Model):
            model = self.model if self.warm_start else copy.deepcopy(self.model)
        elif callable(self.model):
            model = self.model(X=X, y=y, **(self.model_kwargs or {}))
        else:
            raise TypeError(f"{type(self).__name__}: `model` must be a compiled fc.Model or a function "
                            f"returning one, got {type(self.model).__name__}")
        if not isinstance(model, Model):
            raise TypeError(f"{type(self).__name__}: `model` returned {type(model).__name__}, expected an fc.Model")
        if not model.compiled:
            raise ValueError(f"{type(self).__name__}: the model must be compiled (with a loss and an optimizer) "
                             f"before it is fitted")
        return model

    def fit(self, X, y, **kwargs):
        """Builds (or reuses) the model and fits it.

        Args:
            X: array-like of shape `(n_samples, n_features)`.
            y: array-like of shape `(n_samples,)` or `(n_samples, n_outputs)`.
            **kwargs: keyword arguments for `Model.fit`, over `fit_kwargs`.

        Returns:
            The estimator.
        """
        if y is None:  # scikit-learn's own wording, which its checks look for
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        X, y = _validate_data(self, X, y, reset=True)
        X = np.asarray(X, dtype=np.float32)
        y = self._encode_target(y, reset=True)
        model = self._build_model(X, y)
        arguments = {"verbose": 0, **(self.fit_kwargs or {}), **kwargs}
        self.history_ = model.fit(X, y, **arguments).history
        self.model_ = model
        return self

    def _outputs(self, X):
        check_is_fitted(self, "model_")
        X = _validate_data(self, X, reset=False)
        return self.model_.predict(np.asarray(X, dtype=np.float32), verbose=0)

    def _encode_target(self, y, reset):
        """Regressors and transformers train on y as a 2-D array."""
        y = np.asarray(y)
        if reset:
            self._target_ndim = y.ndim
        return y.reshape(-1, 1).astype(np.float32) if y.ndim == 1 else y.astype(np.float32)


class SKLearnClassifier(ClassifierMixin, _SKLearnBase):
    """A scikit-learn classifier around a fitcore model.

    The targets are one-hot encoded over `classes_` before the model sees them (so a model ends in
    a softmax over `y.shape[1]` units with `categorical_crossentropy`); `predict` gives the class of
    the largest output. Binary and multiclass targets are supported.

    Args:
        model: a function `model(X, y, **model_kwargs)` returning a compiled `fc.Model` (it receives the
            one-hot `y`), or a compiled `fc.Model`.
        warm_start: bool. Whether `fit` continues from the previously fitted model.
        model_kwargs: dict or None. Extra keyword arguments for `model` when it is a function.
        fit_kwargs: dict or None. Keyword arguments for `Model.fit`.

    Attributes:
        classes_: the class labels, sorted.
        model_, history_, n_features_in_: as for every fitcore estimator.

    Example:

    ```python
    def build(X, y, hidden=32):
        model = fc.Sequential([fc.Input((X.shape[1],)), fc.layers.Dense(hidden, activation="relu"),
                               fc.layers.Dense(y.shape[1], activation="softmax")])
        model.compile("adam", "categorical_crossentropy")
        return model

    clf = fc.wrappers.SKLearnClassifier(build, model_kwargs={"hidden": 64}, fit_kwargs={"epochs": 20})
    cross_val_score(clf, X, y, cv=3)
    ```
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True  # a few epochs of a small network
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"non_deterministic": True, "poor_score": True}

    def _encode_target(self, y, reset):
        y = np.asarray(y)
        kind = type_of_target(y, raise_unknown=True)
        if kind not in ("binary", "multiclass"):
            raise ValueError(f"{type(self).__name__}: `y` must be binary or multiclass labels, got {kind} targets")
        if y.ndim == 2:
            y = y[:, 0]
        if reset:
            self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise ValueError(f"{type(self).__name__}: `y` has 1 class ({self.classes_[0].item()!r}); "
                                 f"a classifier needs at least two")
        index = np.searchsorted(self.classes_, y)
        return np.eye(len(self.classes_), dtype=np.float32)[index]

    def predict(self, X):
        """The most likely class of each sample.

        Args:
            X: array-like of shape `(n_samples, n_features)`.

        Returns:
            An array of labels from `classes_`, shape `(n_samples,)`.
        """
        outputs = self._outputs(X)  # first: an unfitted estimator raises NotFittedError there
        return self.classes_[np.argmax(outputs, axis=1)]

    def decision_function(self, X):
        """The model's raw outputs, one column per class of `classes_`.

        Args:
            X: array-like of shape `(n_samples, n_features)`.

        Returns:
            A float32 array of shape `(n_samples, n_classes)`.
        """
        return self._outputs(X)


class SKLearnRegressor(RegressorMixin, _SKLearnBase):
    """A scikit-learn regressor around a fitcore model.

    A 1-D `y` trains as one output column and predicts 1-D again.

    Args:
        model: a function `model(X, y, **model_kwargs)` returning a compiled `fc.Model` (it receives `y`
            as a 2-D array), or a compiled `fc.Model`.
        warm_start: bool. Whether `fit` continues from the previously fitted model.
        model_kwargs: dict or None. Extra keyword arguments for `model` when it is a function.
        fit_kwargs: dict or None. Keyword arguments for `Model.fit`.

    Attributes:
        model_, history_, n_features_in_: as for every fitcore estimator.
    """

    def predict(self, X):
        """The model's predictions.

        Args:
            X: array-like of shape `(n_samples, n_features)`.

        Returns:
            A float32 array of shape `(n_samples,)` when `y` was 1-D in `fit`, else `(n_samples, n_outputs)`.
        """
        outputs = self._outputs(X)
        return outputs[:, 0] if self._target_ndim == 1 else outputs


class SKLearnTransformer(TransformerMixin, _SKLearnBase):
    """A scikit-learn transformer around a fitcore model: `fit` trains it, `transform` gives its outputs
    (an embedding, an encoder's code, ...) as the next pipeline step's features.

    Args:
        model: a function `model(X, y, **model_kwargs)` returning a compiled `fc.Model`, or a compiled
            `fc.Model`.
        warm_start: bool. Whether `fit` continues from the previously fitted model.
        model_kwargs: dict or None. Extra keyword arguments for `model` when it is a function.
        fit_kwargs: dict or None. Keyword arguments for `Model.fit`.

    Attributes:
        model_, history_, n_features_in_: as for every fitcore estimator.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # outputs are float32 whatever X was
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"non_deterministic": True, "preserves_dtype": []}

    def transform(self, X):
        """The model's outputs for `X`.

        Args:
            X: array-like of shape `(n_samples, n_features)`.

        Returns:
            A float32 array of shape `(n_samples, output width)`.
        """
        return self._outputs(X)

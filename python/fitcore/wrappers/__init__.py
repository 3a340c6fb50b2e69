"""scikit-learn estimators around fitcore models (`pip install "fitcore[sklearn]"`), as Keras 3's
`keras.wrappers`: `SKLearnClassifier`, `SKLearnRegressor` and `SKLearnTransformer`."""
from fitcore.wrappers.sklearn_wrapper import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]

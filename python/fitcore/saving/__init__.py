from fitcore.saving.keras_format import from_keras  # noqa: F401 (fc.saving.from_keras, as fc.models.from_keras)

"""An augmentation pipeline (tf.data) feeding a JAX-backend model's fit."""

import helpers
import keras
import pytest

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="JAX backend only"
)


@pytest.mark.compat("augment.Pipeline", "JAX")
def test_pipeline_feeds_jax_fit():
    helpers.fit_on_pipeline(epochs=2)

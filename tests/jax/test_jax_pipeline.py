"""An augmentation pipeline (tf.data) feeding a JAX-backend model's fit."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_regkit import augment as rka

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="JAX backend only"
)


@pytest.mark.compat("augment.Pipeline", "JAX")
def test_pipeline_feeds_jax_fit():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (32, 12, 10, 1)).astype("uint8")
    y = rng.integers(0, 2, (32,))
    pipeline = rka.Pipeline([rka.RandomFlip(), rka.RandomRotation(0.05)], 7)
    ds = pipeline(tf.data.Dataset.from_tensor_slices((x, y)).batch(8))
    model = keras.Sequential(
        [
            keras.Input((12, 10, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    model.compile(
        "adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    history = model.fit(ds, epochs=2, verbose=0, shuffle=False)
    assert len(history.history["loss"]) == 2
    assert np.isfinite(history.history["loss"]).all()

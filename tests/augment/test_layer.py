"""AugmentationLayer: a pipeline as a Keras layer (train, save, load)."""

import keras
import numpy as np
import pytest

from keras_regkit import augment as rka


def data(n=24, height=12, width=16):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, height, width, 3), dtype=np.uint8)
    y = rng.integers(0, 5, (n,))
    return x, y


def test_layer_trains_saves_and_loads(tmp_path):
    x, y = data(32, 12, 16)
    pipeline = rka.Pipeline(
        [rka.RandomFlip(), rka.RandomRotation(0.05)], seed=3
    )
    model = keras.Sequential(
        [
            keras.Input((12, 16, 3), dtype="uint8"),
            rka.AugmentationLayer(pipeline),
            keras.layers.Conv2D(4, 3),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(5),
        ]
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(True))
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    layer = model.layers[0]
    train = layer(x[:4], training=True).numpy()
    infer = layer(x[:4], training=False).numpy()
    np.testing.assert_allclose(infer, x[:4] / 255.0, atol=1e-6)
    assert not np.allclose(train, infer)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        model.predict(x, verbose=0), loaded.predict(x, verbose=0), atol=1e-6
    )
    with pytest.raises(ValueError, match="AugmentationLayer.*label-mixing"):
        rka.AugmentationLayer(rka.Pipeline([rka.MixUp(num_classes=2)]))

"""tta_predict: the mean over augmented views, seeded."""

import keras
import numpy as np
import pytest

from keras_regkit import augment as rka


def data(n=24, height=12, width=16):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, height, width, 3), dtype=np.uint8)
    y = rng.integers(0, 5, (n,))
    return x, y


def test_tta_predict_averages_views():
    x, _ = data(10, 8, 8)
    model = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(3)]
    )
    flip = rka.Pipeline([rka.RandomFlip(probability=1.0)])
    single = rka.tta_predict(model, x, flip, num_views=1, batch_size=4)
    np.testing.assert_allclose(
        single, model.predict(x / 255.0, verbose=0), atol=1e-5
    )
    two = rka.tta_predict(model, x, flip, num_views=2, batch_size=4)
    mirrored = model.predict(x[:, :, ::-1] / 255.0, verbose=0)
    np.testing.assert_allclose(two, (single + mirrored) / 2, atol=1e-5)
    rotate = rka.Pipeline([rka.RandomRotation(0.1)])
    a = rka.tta_predict(model, x, rotate, num_views=3, seed=1)
    b = rka.tta_predict(model, x, rotate, num_views=3, seed=1)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="`num_views`"):
        rka.tta_predict(model, x, rotate, num_views=0)

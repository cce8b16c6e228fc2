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
    single = rka.tta_predict(model, x, flip, samples=1, batch_size=4)
    np.testing.assert_allclose(
        single, model.predict(x / 255.0, verbose=0), atol=1e-5
    )
    two = rka.tta_predict(model, x, flip, samples=2, batch_size=4)
    mirrored = model.predict(x[:, :, ::-1] / 255.0, verbose=0)
    np.testing.assert_allclose(two, (single + mirrored) / 2, atol=1e-5)
    rotate = rka.Pipeline([rka.RandomRotation(0.1)])
    a = rka.tta_predict(model, x, rotate, samples=3, seed=1)
    b = rka.tta_predict(model, x, rotate, samples=3, seed=1)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="`samples`"):
        rka.tta_predict(model, x, rotate, samples=0)


def _dataset_reference(model, x, pipeline, views, seed, batch_size):
    """tta_predict as written before the shared helper: tf.data batches,
    view ``v`` of batch ``b`` seeded by ``fold_in((seed, v), b)``."""
    import tensorflow as tf

    from keras_regkit.augment._core import sampling

    data = tf.data.Dataset.from_tensor_slices(x).batch(batch_size)
    total = model.predict(data.map(pipeline.convert), verbose=0)
    total = total.astype(np.float64)
    for view in range(1, views):

        def augment(index, batch, view=view):
            key = tf.random.experimental.stateless_fold_in(
                sampling.as_seed((seed, view)), index
            )
            return pipeline.augment(batch, key)

        total += model.predict(data.enumerate().map(augment), verbose=0)
    return total / views


def test_tta_predict_same_views_as_a_dataset_loop():
    x, _ = data(10, 8, 8)
    model = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(3)]
    )
    rotate = rka.Pipeline([rka.RandomRotation(0.2), rka.RandomFlip()])
    ours = rka.tta_predict(model, x, rotate, 4, seed=3, batch_size=4)
    reference = _dataset_reference(model, x, rotate, 4, 3, 4)
    np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-6)
    assert not np.allclose(ours, rka.tta_predict(model, x, rotate, 1))
    keyword = rka.tta_predict(model, x, rotate, samples=4, seed=3, batch_size=4)
    np.testing.assert_array_equal(keyword, ours)
    with pytest.raises(ValueError, match=r"`samples`.*samples=0"):
        rka.tta_predict(model, x, rotate, samples=0)


IMAGES = np.zeros((2, 8, 8, 3), "uint8")


def _tta_model():
    return keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(2)]
    )


@pytest.mark.parametrize(
    "model,images,error,match",
    [
        # These raised AttributeError / IndexError from inside.
        (None, IMAGES, TypeError, r"^tta_predict: .*`model`.*model=None$"),
        (-1, IMAGES, TypeError, r"`model`.*predict_on_batch.*model=-1$"),
        ("m", -1, TypeError, r"`model`.*model='m'$"),  # model checked first
        (_tta_model, -1, TypeError, r"^tta_predict: .*`images`.*images=-1$"),
        (_tta_model, "bogus", TypeError, r"`images`.*images='bogus'$"),
        (_tta_model, None, TypeError, r"`images`.*images=None$"),
        (_tta_model, (), TypeError, r"`images`.*images=\(\)$"),
        (
            _tta_model,
            np.zeros((2, 2)),
            ValueError,
            r"`images`.*rank 4.*images=<float64 array of shape \(2, 2\)>$",
        ),
        (
            _tta_model,
            np.zeros((2, 8, 8, 3), bool),
            TypeError,
            r"`images`.*numeric array.*images=<bool array",
        ),
        (
            _tta_model,
            np.zeros((0, 8, 8, 3), "uint8"),
            ValueError,
            r"`images`.*at least one example",
        ),
        (
            _tta_model,
            np.zeros((2, 6, 8, 3), "uint8"),  # the model takes 8 x 8
            ValueError,
            r"`images`.*the model accepts.*images=<uint8 array of shape "
            r"\(2, 6, 8, 3\)>$",
        ),
    ],
)
def test_tta_predict_bad_model_and_images(model, images, error, match):
    model = model() if callable(model) else model
    pipeline = rka.Pipeline([rka.RandomFlip()], jit_compile=False)
    with pytest.raises(error, match=match):
        rka.tta_predict(model, images, pipeline, 2)

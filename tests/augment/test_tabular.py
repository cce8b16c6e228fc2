"""Tabular noise and feature dropout: statistics, per-row draws, fit."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_regkit import augment as rka


def rows(batch=2000, features=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, features)).astype(np.float32)


def run(op, x, seed=1):
    return rka.Pipeline([op]).augment(x, seed).numpy()


def test_feature_noise_statistics_and_probability():
    x = rows()
    noise = run(rka.FeatureNoise(0.1), x) - x
    # 16,000 draws: standard deviation within 2%.
    assert abs(noise.std() - 0.1) < 0.002 and abs(noise.mean()) < 0.003
    partial = run(rka.FeatureNoise(0.1, probability=0.25), x) - x
    touched = np.abs(partial).max(axis=1) > 0
    # Binomial(2000, 0.25): standard deviation 0.01; 4 sigma.
    assert abs(touched.mean() - 0.25) < 0.04


def test_feature_dropout_rate_value_and_per_row_masks():
    x = rows()
    out = run(rka.FeatureDropout(0.3, value=-9.0), x)
    dropped = out == -9.0
    np.testing.assert_array_equal(out[~dropped], x[~dropped])
    # 16,000 Bernoulli(0.3): standard deviation 0.0036; 4 sigma.
    assert abs(dropped.mean() - 0.3) < 0.015
    assert len({row.tobytes() for row in dropped}) > 200
    np.testing.assert_array_equal(run(rka.FeatureDropout(0.0), x), x)


def test_tabular_pipeline_in_fit_reproducible():
    x = rows(batch=64)
    y = (x[:, 0] > 0).astype(np.int64)
    pipeline = rka.Pipeline(
        [rka.FeatureNoise(0.05), rka.FeatureDropout(0.1)], seed=5
    )
    ds = pipeline(tf.data.Dataset.from_tensor_slices((x, y)).batch(16))
    first = np.concatenate([b[0].numpy() for b in ds])
    again = rka.Pipeline.from_config(pipeline.get_config())
    second = np.concatenate(
        [
            b[0].numpy()
            for b in again(tf.data.Dataset.from_tensor_slices((x, y)).batch(16))
        ]
    )
    np.testing.assert_array_equal(first, second)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(True))
    history = model.fit(ds, epochs=2, verbose=0, shuffle=False)
    assert np.all(np.isfinite(history.history["loss"]))
    with pytest.raises(ValueError, match=r"`images`.*\(batch, features\)"):
        pipeline.augment(np.zeros((4, 3, 8), np.float32), 0)


@pytest.mark.parametrize(
    "build, error, match",
    [
        (lambda: rka.FeatureDropout(1.5), ValueError, "FeatureDropout.*`rate`"),
        (lambda: rka.FeatureDropout(value="x"), TypeError, "`value`"),
        (lambda: rka.FeatureNoise(-1.0), ValueError, "FeatureNoise.*`stddev`"),
    ],
)
def test_bad_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build()

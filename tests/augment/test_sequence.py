"""SpecAugment masks and time-series ops against numpy, in one Pipeline."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_regkit import augment as rka
from keras_regkit.augment.ops import sequence


def spectrograms(batch=16, time=40, freq=24, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, time, freq)).astype(np.float32)


def run(op, x, seed=1, jit_compile=False):
    return rka.Pipeline([op], jit_compile=jit_compile).augment(x, seed).numpy()


def test_band_mask_matches_numpy():
    start = np.array([[2.0, 7.0]], np.float32)
    width = np.array([[3.0, 0.0]], np.float32)
    mask = sequence.band_mask(9, start, width).numpy()[0]
    np.testing.assert_array_equal(mask, [0, 0, 1, 1, 1, 0, 0, 0, 0])


@pytest.mark.parametrize("jit_compile", [False, True])
def test_time_masking_masks_whole_frames_within_max_width(jit_compile):
    x = spectrograms()
    out = run(rka.TimeMasking(8), x, jit_compile=jit_compile)
    masked = out == 0
    frames = masked.all(axis=2)
    # Whole frames only, one band of 0 to 8 consecutive frames.
    np.testing.assert_array_equal(masked, np.repeat(frames[..., None], 24, 2))
    widths = frames.sum(axis=1)
    assert widths.max() <= 8 and len(np.unique(widths)) > 3
    for row, width in zip(frames, widths, strict=True):
        if width:
            first = np.argmax(row)
            assert row[first : first + width].all()
    np.testing.assert_array_equal(out[~masked], x[~masked])


def test_frequency_masking_with_channels_and_mean_fill():
    x = spectrograms(batch=8, time=10, freq=30)[..., None].repeat(2, -1)
    out = run(rka.FrequencyMasking(10, count=2, value="mean"), x)
    mean = x.mean(axis=(1, 2, 3))
    changed = out != x
    bins = changed.any(axis=(1, 3))
    np.testing.assert_array_equal(
        changed, np.broadcast_to(bins[:, None, :, None], x.shape)
    )
    for image, m, b in zip(out, mean, bins, strict=True):
        np.testing.assert_allclose(image[:, b], m, atol=1e-6)
        assert b.sum() <= 20


def test_spec_augment_in_tf_data_and_as_a_layer(tmp_path):
    x = spectrograms(batch=32, time=20, freq=12)
    y = np.random.default_rng(0).integers(0, 3, 32)
    pipeline = rka.Pipeline(
        [rka.TimeMasking(5, count=2), rka.FrequencyMasking(4)], seed=3
    )
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    augmented = pipeline(ds)
    first = [b[0].numpy() for b in augmented]
    again = [
        b[0].numpy()
        for b in rka.Pipeline.from_config(pipeline.get_config())(ds)
    ]
    np.testing.assert_array_equal(np.stack(first), np.stack(again))
    second = [b[0].numpy() for b in augmented]
    assert not np.array_equal(np.stack(first), np.stack(second))
    masks = {(b == 0).tobytes() for batch in first for b in batch}
    assert len(masks) == 32  # per example
    model = keras.Sequential(
        [
            keras.Input((20, 12)),
            rka.AugmentationLayer(pipeline),
            keras.layers.Flatten(),
            keras.layers.Dense(3),
        ]
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(True))
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    np.testing.assert_array_equal(model.layers[0](x, training=False), x)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(
        model.predict(x, verbose=0), loaded.predict(x, verbose=0), atol=1e-6
    )


def series(batch=400, time=50, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, time, channels)).astype(np.float32)


def test_jitter_and_scaling_statistics():
    x = series()
    noise = run(rka.RandomJitter(0.05), x) - x
    # 60,000 draws: the standard deviation within 1%.
    assert abs(noise.std() - 0.05) < 0.0005 and abs(noise.mean()) < 0.001
    out = run(rka.RandomScaling(0.2), x)
    factor = out / x
    # One factor per example and channel, ~ N(1, 0.2) over 1,200 draws.
    np.testing.assert_allclose(
        factor, np.broadcast_to(factor[:, :1], factor.shape), rtol=1e-5
    )
    assert abs(factor[:, 0].mean() - 1.0) < 0.03
    assert abs(factor[:, 0].std() - 0.2) < 0.02


def test_smooth_curve_matches_catmull_rom_in_numpy():
    rng = np.random.default_rng(2)
    knots = rng.normal(size=(2, 5, 1)).astype(np.float32)
    curve = sequence.smooth_curve(knots, 17).numpy()
    # Knot k sits at sample 4 k: the curve passes through the knots.
    np.testing.assert_allclose(curve[:, ::4], knots, atol=1e-6)
    p = np.concatenate(
        [
            2 * knots[:, :1] - knots[:, 1:2],
            knots,
            2 * knots[:, -1:] - knots[:, -2:-1],
        ],
        axis=1,
    )
    u = np.linspace(0, 4, 17)
    i = np.minimum(np.floor(u).astype(int), 3)
    t = (u - i)[None, :, None]
    p0, p1, p2, p3 = (p[:, i + k] for k in range(4))
    expected = 0.5 * (
        2 * p1
        + (p2 - p0) * t
        + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
        + (3 * p1 - p0 - 3 * p2 + p3) * t**3
    )
    np.testing.assert_allclose(curve, expected, atol=1e-5)


def test_magnitude_warp_is_smooth_around_one():
    x = np.ones((64, 60, 2), np.float32)
    curve = run(rka.RandomMagnitudeWarp(0.2, knots=4), x)
    assert abs(curve.mean() - 1.0) < 0.03
    # Smooth: neighbouring samples differ far less than the knots spread.
    assert np.abs(np.diff(curve, axis=1)).max() < 0.25
    assert curve.std() > 0.1
    # Per example and channel.
    per_channel = curve.transpose(0, 2, 1).reshape(128, 60)
    assert len({c.tobytes() for c in per_channel}) == 128


def test_rank_and_data_kind_errors():
    with pytest.raises(
        ValueError, match=r"`images`.*\(batch, time, channels\)"
    ):
        rka.Pipeline([rka.RandomJitter()]).augment(np.zeros((2, 3, 4, 1)), 0)
    with pytest.raises(ValueError, match="batch the dataset first"):
        rka.Pipeline([rka.RandomScaling()]).augment(np.zeros((5, 3)), 0)
    with pytest.raises(ValueError, match="Pipeline.*`ops`.*one kind of data"):
        rka.Pipeline([rka.RandomFlip(), rka.RandomJitter()])
    with pytest.raises(ValueError, match="RandomMagnitudeWarp.*static time"):
        rka.RandomMagnitudeWarp().validate((None, None, 3))


@pytest.mark.parametrize(
    "build, error, match",
    [
        (lambda: rka.TimeMasking(0), ValueError, "TimeMasking.*`max_width`"),
        (lambda: rka.FrequencyMasking(4, count=0), ValueError, "`count`"),
        (lambda: rka.TimeMasking(4, value="median"), TypeError, "`value`"),
        (lambda: rka.RandomJitter(-0.1), ValueError, "`stddev`.*>= 0"),
        (lambda: rka.RandomScaling(probability=-1), ValueError, "probab"),
        (lambda: rka.RandomMagnitudeWarp(knots=-1), ValueError, "`knots`"),
    ],
)
def test_bad_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build()

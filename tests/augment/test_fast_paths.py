"""The fast paths (separable resampling, uint8 input, XLA segments) give
the general resampler's results."""

import numpy as np
import pytest
import tensorflow as tf

from keras_regkit import augment as rka
from keras_regkit.augment._core import chain
from keras_regkit.augment._core import checks
from keras_regkit.augment._core import resample
from keras_regkit.augment.ops import geometry


def _images(shape, seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, shape).astype("uint8")
    return x if dtype == "uint8" else (x / 255.0).astype(dtype)


def _axis_aligned_matrices(batch, seed=1):
    """Random flips, zooms and (fractional) shifts, in pixel coordinates."""
    rng = np.random.default_rng(seed)
    m = np.zeros((batch, 3, 3), "float32")
    sign = np.where(rng.random((batch, 2)) < 0.5, -1.0, 1.0)
    m[:, 0, 0] = sign[:, 0] * rng.uniform(0.3, 1.7, batch)
    m[:, 1, 1] = sign[:, 1] * rng.uniform(0.3, 1.7, batch)
    m[:, 0, 2] = rng.uniform(-6, 16, batch)
    m[:, 1, 2] = rng.uniform(-6, 16, batch)
    m[:, 2, 2] = 1.0
    return tf.constant(m)


@pytest.mark.parametrize(
    "interpolation,fill_mode,fill_value",
    [
        ("bilinear", "constant", 0.0),
        ("bilinear", "constant", 0.3),
        ("bilinear", "reflect", 0.0),
        ("bilinear", "nearest", 0.0),
        ("nearest", "constant", 0.7),
        ("nearest", "reflect", 0.0),
    ],
)
def test_separable_equals_general(interpolation, fill_mode, fill_value):
    x = tf.constant(_images((6, 13, 11, 3)))
    m = _axis_aligned_matrices(6)
    kwargs = dict(
        interpolation=interpolation, fill_mode=fill_mode, fill_value=fill_value
    )
    general = resample.resample(x, m, (9, 14), **kwargs).numpy()
    fast = resample.resample(x, m, (9, 14), axis_aligned=True, **kwargs)
    assert fast.shape == (6, 9, 14, 3)
    np.testing.assert_allclose(fast.numpy(), general, atol=1e-5)
    # Not trivially equal: the matrices do move pixels.
    assert np.abs(general - x.numpy()[:, :9, :11].mean()).max() > 0.1


def test_flips_exact_and_uint8_input():
    x8 = _images((4, 8, 6, 3), dtype="uint8")
    x = tf.constant(x8 / np.float32(255.0))
    flips = tf.constant([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    centred = geometry.flip_matrix(flips[:, 0], flips[:, 1])
    m = resample.to_pixels(centred, (8, 6), (8, 6))
    expected = x.numpy().copy()
    expected[0] = expected[0, :, ::-1]
    expected[1] = expected[1, ::-1]
    expected[2] = expected[2, ::-1, ::-1]
    fast = resample.resample(x, m, (8, 6), axis_aligned=True).numpy()
    general = resample.resample(x, m, (8, 6)).numpy()
    np.testing.assert_array_equal(fast, expected)
    np.testing.assert_array_equal(general, expected)
    # uint8 in: read as value / 255, without a separate conversion.
    for axis_aligned in (True, False):
        out = resample.resample(
            tf.constant(x8), m, (8, 6), axis_aligned=axis_aligned
        )
        assert out.dtype == tf.float32
        np.testing.assert_allclose(out.numpy(), expected, atol=1e-6)
    # The mirror path: the same reversed copies, the dtype kept.
    np.testing.assert_array_equal(resample.mirror(x, m).numpy(), expected)
    mirrored8 = resample.mirror(tf.constant(x8), m)
    assert mirrored8.dtype == tf.uint8
    np.testing.assert_array_equal(mirrored8.numpy(), np.round(expected * 255))


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_flip_stage_mirrors_as_the_resampler_would(dtype):
    """A flip-only stage runs as `resample.mirror`: the resampler's values."""
    x = tf.constant(_images((16, 7, 9, 3), seed=3, dtype=dtype))
    flips = chain.Chain([rka.RandomFlip("horizontal_and_vertical")])
    assert flips.stages[0].mirror_only
    assert not chain.Chain([rka.RandomZoom(0.1)]).stages[0].mirror_only
    params = flips.sample(tf.constant([0, 5], tf.int64), 16, (7, 9, 3))
    out, _ = flips.run(x, None, params)
    matrix = params[0]["matrix"]
    expected = resample.resample(x, matrix, (7, 9)).numpy()
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-6)
    # Not trivially equal: some images are mirrored, some are not.
    signs = {(float(m[0, 0]) < 0, float(m[1, 1]) < 0) for m in matrix}
    assert len(signs) >= 3


def test_axis_aligned_stages():
    aligned = chain.Chain(
        [
            rka.RandomResizedCrop(8, 8),
            rka.RandomFlip(),
            rka.RandomZoom(0.1),
            rka.RandomTranslation(0.1, 0.1),
            rka.RandomPadCrop(2),
        ]
    )
    assert [s.axis_aligned for s in aligned.stages] == [True]
    rotated = chain.Chain([rka.RandomFlip(), rka.RandomRotation(0.1)])
    assert [s.axis_aligned for s in rotated.stages] == [False]
    sheared = chain.Chain([rka.RandomShear(0.1)])
    assert not sheared.stages[0].axis_aligned


def _imagenet_ops():
    return [
        rka.RandomResizedCrop(12, 10),
        rka.RandomFlip(),
        rka.RandomBrightness(0.4),
        rka.RandomContrast(0.4),
        rka.RandomSaturation(0.4),
    ]


@pytest.mark.parametrize("jit_compile", [True, False])
def test_pipeline_equals_general_reference(jit_compile):
    """uint8 in, separable crop + flip, segments: the general path's output
    with the same parameters, and the same output for the same seed."""
    x = _images((5, 16, 14, 3), dtype="uint8")
    pipeline = rka.Pipeline(_imagenet_ops(), jit_compile=jit_compile)
    out = pipeline.augment(x, seed=11).numpy()
    np.testing.assert_array_equal(pipeline.augment(x, seed=11).numpy(), out)
    params = pipeline.sample(11, 5, (16, 14, 3))
    stages = pipeline.chain.stages
    images = resample.resample(
        checks.to_float(tf.constant(x)), params[0]["matrix"], (12, 10)
    )
    for stage, stage_params in zip(stages[1:], params[1:], strict=True):
        images = stage.run(images, None, stage_params, pipeline.settings)[0]
    assert out.shape == (5, 12, 10, 3)
    np.testing.assert_allclose(out, images.numpy(), atol=1e-5)
    other = pipeline.augment(x, seed=12).numpy()
    assert np.abs(other - out).max() > 0.05


def test_segments_with_mixing_keep_labels():
    x = _images((4, 8, 8, 3), dtype="uint8")
    y = np.arange(4)
    pipeline = rka.Pipeline(
        [rka.RandomFlip(), rka.MixUp(num_classes=4), rka.RandomZoom(0.1)],
        jit_compile=True,
    )
    assert pipeline.chain.segments() == [(0, 1), (1, 3)]
    images, labels = pipeline.augment((x, y), seed=3)
    assert images.dtype == tf.float32 and images.shape == (4, 8, 8, 3)
    np.testing.assert_allclose(labels.numpy().sum(axis=1), 1.0, atol=1e-6)

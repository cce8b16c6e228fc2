"""Photometric ops against numpy (and PIL where available) references."""

import colorsys
import importlib
import statistics

import numpy as np
import pytest
import tensorflow as tf

from keras_regkit import augment as rka
from keras_regkit.augment.ops import color
from keras_regkit.augment.ops import filters
from keras_regkit.augment.ops import tone


def images(batch=3, height=5, width=7, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((batch, height, width, channels), dtype=np.float32)


def uint8_images(batch=3, height=9, width=7, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (batch, height, width, 3), dtype=np.uint8)


def test_brightness_adds_and_clips():
    x = images()
    out = color.adjust_brightness(x, [0.1, -0.2, 0.0]).numpy()
    delta = np.array([0.1, -0.2, 0.0], np.float32)[:, None, None, None]
    np.testing.assert_allclose(out, np.clip(x + delta, 0, 1), atol=1e-6)


def test_contrast_preserves_the_per_image_mean():
    x = 0.4 + 0.2 * images()  # in [0.4, 0.6]: no clipping at factor 1.5
    factor = np.array([0.5, 1.0, 1.5], np.float32)
    out = color.adjust_contrast(x, factor).numpy()
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(out.mean(axis=(1, 2)), mean[:, 0, 0], atol=1e-6)
    expected = mean + factor[:, None, None, None] * (x - mean)
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_saturation_and_grayscale():
    x = images()
    gray = (x @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    np.testing.assert_allclose(
        color.grayscale(x).numpy(), np.repeat(gray, 3, -1), atol=1e-6
    )
    out = color.adjust_saturation(x, [0.0, 1.0, 0.5]).numpy()
    np.testing.assert_allclose(out[0], np.repeat(gray[0], 3, -1), atol=1e-6)
    np.testing.assert_allclose(out[1], x[1], atol=1e-6)
    np.testing.assert_allclose(out[2], (gray[2] + x[2]) / 2, atol=1e-6)


def test_hue_matches_colorsys():
    x = images(batch=2, height=3, width=4)
    deltas = [0.1, -0.3]
    out = color.adjust_hue(x, deltas).numpy()
    for image, result, delta in zip(x, out, deltas, strict=True):
        for pixel, got in zip(
            image.reshape(-1, 3), result.reshape(-1, 3), strict=True
        ):
            h, s, v = colorsys.rgb_to_hsv(*pixel)
            expected = colorsys.hsv_to_rgb((h + delta) % 1.0, s, v)
            np.testing.assert_allclose(got, expected, atol=1e-5)


def test_gamma_solarize_posterize_autocontrast():
    x = images()
    np.testing.assert_allclose(
        color.adjust_gamma(x, [0.5, 1.0, 2.0]).numpy(),
        x ** np.array([0.5, 1.0, 2.0], np.float32)[:, None, None, None],
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        tone.solarize(x, [0.5] * 3).numpy(),
        np.where(x >= 0.5, 1 - x, x),
        atol=1e-6,
    )
    q = uint8_images()
    out = tone.posterize(q.astype(np.float32) / 255, [2, 4, 8]).numpy()
    shifts = np.array([6, 4, 0])[:, None, None, None]
    expected = (q >> shifts) << shifts
    np.testing.assert_array_equal(
        np.round(out * 255).astype(np.uint8), expected
    )
    stretched = color.autocontrast(0.2 + 0.5 * x).numpy()
    np.testing.assert_allclose(stretched.min(axis=(1, 2)), 0.0, atol=1e-6)
    np.testing.assert_allclose(stretched.max(axis=(1, 2)), 1.0, atol=1e-6)


def test_equalize_and_sharpness_match_pil():
    pil = importlib.import_module("PIL.Image")
    ops = importlib.import_module("PIL.ImageOps")
    enhance = importlib.import_module("PIL.ImageEnhance")
    q = uint8_images(height=11, width=8)
    q[0, :, :, 0] //= 4  # a narrow histogram in one channel
    x = q.astype(np.float32) / 255
    eq = np.round(color.equalize(x).numpy() * 255)
    sharp = np.round(filters.sharpen(x, [1.8, 0.3, 1.0]).numpy() * 255)
    for i, image in enumerate(q):
        reference = np.asarray(ops.equalize(pil.fromarray(image)))
        np.testing.assert_array_equal(eq[i], reference)
    for i, factor in enumerate([1.8, 0.3, 1.0]):
        image = pil.fromarray(q[i])
        reference = np.asarray(enhance.Sharpness(image).enhance(factor))
        # PIL rounds the smoothed image to uint8 first: off by one at most.
        assert np.abs(sharp[i] - reference).max() <= 1


@pytest.mark.parametrize("jit_compile", [True, False])
def test_gaussian_blur_on_an_empty_batch(jit_compile):
    # XLA's MirrorPad rejected the zero-size batch axis (an InternalError).
    pipeline = rka.Pipeline(
        [rka.RandomGaussianBlur(5)], seed=1, jit_compile=jit_compile
    )
    out = pipeline.augment(np.zeros((0, 9, 7, 3), "float32"), seed=1)
    assert tuple(out.shape) == (0, 9, 7, 3)


@pytest.mark.parametrize("radius", [1, 2, 3])
def test_reflect_pad_equals_tf_pad(radius):
    x = tf.random.stateless_uniform([2, 9, 7, 3], seed=(1, 2))
    for axis in (1, 2):
        padding = [[0, 0], [0, 0], [0, 0], [0, 0]]
        padding[axis] = [radius, radius]
        expected = tf.pad(x, padding, mode="REFLECT").numpy()
        got = filters._reflect_pad(x, axis=axis, radius=radius).numpy()
        np.testing.assert_array_equal(got, expected)


def _blur_reference(image, s, kernel_size):
    """numpy: separable Gaussian taps over reflect-padded rows, columns."""
    radius = kernel_size // 2
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / s) ** 2)
    k /= k.sum()
    height, width = image.shape[:2]
    padded = np.pad(image, [(radius, radius), (0, 0), (0, 0)], mode="reflect")
    rows = sum(k[j] * padded[j : j + height] for j in range(kernel_size))
    padded = np.pad(rows, [(0, 0), (radius, radius), (0, 0)], mode="reflect")
    return sum(k[j] * padded[:, j : j + width] for j in range(kernel_size))


# Sizes above 2 * radius + 1 (interior and edges apart), at it, below it
# (one reflected copy), and unknown in the graph (the same).
@pytest.mark.parametrize(
    "height,width,kernel_size,known",
    [
        (6, 9, 5, True),
        (5, 12, 5, True),
        (4, 3, 5, True),
        (11, 8, 7, True),
        (9, 10, 5, False),
    ],
)
def test_gaussian_blur_matches_numpy(height, width, kernel_size, known):
    x = images(batch=2, height=height, width=width)
    sigma = [0.8, 1.5]
    blur = filters.gaussian_blur
    if not known:
        spec = tf.TensorSpec([None, None, None, 3], tf.float32)
        blur = tf.function(
            lambda v, s: filters.gaussian_blur(v, s, kernel_size),
            input_signature=[spec, tf.TensorSpec([2], tf.float32)],
        )
        out = blur(tf.constant(x, tf.float32), tf.constant(sigma)).numpy()
    else:
        out = blur(x, sigma, kernel_size).numpy()
    for image, result, s in zip(x, out, sigma, strict=True):
        expected = _blur_reference(image, s, kernel_size)
        np.testing.assert_allclose(result, expected, atol=1e-5)


ALL_OPS = [
    rka.RandomBrightness(0.2),
    rka.RandomContrast(0.3),
    rka.RandomSaturation(0.5),
    rka.RandomHue(0.2),
    rka.RandomGamma(0.5),
    rka.RandomGrayscale(),
    rka.RandomGaussianNoise(0.1),
    rka.RandomGaussianBlur(3),
    rka.RandomSolarize((0.3, 0.7)),
    rka.RandomPosterize((2, 6)),
    rka.RandomEqualize(),
    rka.RandomAutoContrast(),
    rka.RandomSharpness(0.9),
]


def test_every_op_keeps_range_and_compiles_with_xla():
    x = uint8_images(batch=6)
    plain = rka.Pipeline(ALL_OPS, jit_compile=False).augment(x, seed=5)
    compiled = rka.Pipeline(ALL_OPS, jit_compile=True).augment(x, seed=5)
    assert plain.dtype == tf.float32 and plain.shape == x.shape
    assert 0.0 <= float(tf.reduce_min(plain)) <= float(tf.reduce_max(plain))
    assert float(tf.reduce_max(plain)) <= 1.0
    np.testing.assert_allclose(plain, compiled, atol=1e-4)


@pytest.mark.parametrize("op", ALL_OPS, ids=lambda op: type(op).__name__)
def test_probability_zero_is_identity_and_draws_differ(op):
    x = np.repeat(uint8_images(batch=1, height=20, width=16), 12, axis=0)
    config = {**op.get_config(), "probability": 0.0}
    identity = rka.Pipeline([type(op)(**config)], jit_compile=False)
    np.testing.assert_allclose(identity.augment(x, seed=1), x / 255, atol=1e-6)
    half = rka.Pipeline([type(op)(**{**config, "probability": 0.5})])
    out = half.augment(x, seed=3).numpy().reshape(12, -1)
    unchanged = np.all(np.abs(out - x.reshape(12, -1) / 255) < 1e-6, axis=1)
    assert 0 < unchanged.sum() < 12, unchanged


@pytest.mark.parametrize(
    "op", [rka.RandomSaturation(0.2), rka.RandomHue(0.1), rka.RandomGrayscale()]
)
def test_rgb_ops_reject_other_channel_counts(op):
    x = np.zeros((2, 4, 4, 1), np.float32)
    name = type(op).__name__
    with pytest.raises(ValueError, match=f"{name}.*`images`.*3 channels"):
        rka.Pipeline([op]).augment(x, seed=0)


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: rka.RandomContrast(1.5), "RandomContrast.*`factor`"),
        (lambda: rka.RandomHue(0.7), "RandomHue.*`factor`"),
        (lambda: rka.RandomPosterize(9), "RandomPosterize.*`bits`"),
        (lambda: rka.RandomPosterize((6, 2)), "low <= high"),
        (lambda: rka.RandomGaussianBlur(4), "RandomGaussianBlur.*odd"),
        (lambda: rka.RandomSolarize(1.5), "`threshold`"),
        (lambda: rka.RandomGrayscale(-0.1), "`probability`"),
        (lambda: rka.RandomGaussianNoise(-1.0), "`stddev`"),
    ],
)
def test_bad_arguments(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_normal_draws_from_bits_are_standard_normal():
    """16-bit inverse-transform draws: N(0, 1) by moments and a KS test."""
    from keras_regkit.augment._core import sampling

    bits = sampling.normal_bits(tf.constant([3, 4], tf.int64), 4, 50_000)
    draws = sampling.normal_from_bits(bits, (250, 200)).numpy()
    assert draws.shape == (4, 250, 200)
    flat = np.sort(draws.ravel())
    assert abs(flat.mean()) < 0.01 and abs(flat.std() - 1.0) < 0.01
    # Kolmogorov-Smirnov against the normal CDF: 200,000 draws put the
    # 1% critical value at 1.63 / sqrt(n) = 0.0036.
    cdf = np.array([statistics.NormalDist().cdf(v) for v in flat[::50]])
    empirical = (np.arange(len(flat))[::50] + 0.5) / len(flat)
    assert np.abs(cdf - empirical).max() < 0.0036
    # The examples' draws differ (one row of bits per example).
    assert not np.allclose(draws[0], draws[1])


def test_gaussian_noise_has_its_stddev_and_gamma_is_a_power():
    x = np.full((2, 64, 64, 3), 128, "uint8")
    noisy = rka.Pipeline([rka.RandomGaussianNoise(0.05)]).augment(x, seed=2)
    added = noisy.numpy() - 128 / 255
    assert abs(added.mean()) < 0.002 and abs(added.std() - 0.05) < 0.002
    images = uint8_images(batch=3)
    gamma = tf.constant([0.5, 1.0, 1.7])
    out = color.adjust_gamma(images / 255.0, gamma).numpy()
    expected = (images / 255.0) ** gamma.numpy()[:, None, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)

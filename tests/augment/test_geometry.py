"""Geometric ops against numpy references, on non-square images."""

import numpy as np
import pytest
import tensorflow as tf

from keras_regkit import augment as rka
from keras_regkit.augment._core import resample
from keras_regkit.augment._core import sampling
from keras_regkit.augment.ops import geometry


def images(batch=4, height=6, width=10, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((batch, height, width, channels), dtype=np.float32)


def run(ops, x, seed=1, **kwargs):
    kwargs.setdefault("jit_compile", False)
    return rka.Pipeline(ops, **kwargs).augment(x, seed=seed).numpy()


def test_horizontal_flip_mirrors_exactly():
    x = images()
    out = run([rka.RandomFlip(probability=1.0)], x)
    np.testing.assert_allclose(out, x[:, :, ::-1], atol=1e-6)


def test_vertical_flip_mirrors_exactly():
    x = images(height=5, width=8)
    out = run([rka.RandomFlip("vertical", probability=1.0)], x)
    np.testing.assert_allclose(out, x[:, ::-1], atol=1e-6)


def test_flip_probability_is_per_example():
    x = np.repeat(images(batch=1), 64, axis=0)
    out = run([rka.RandomFlip()], x)
    flipped = np.all(np.abs(out - x[:, :, ::-1]) < 1e-6, axis=(1, 2, 3))
    kept = np.all(np.abs(out - x) < 1e-6, axis=(1, 2, 3))
    assert np.all(flipped | kept)
    assert 16 < flipped.sum() < 48, flipped.sum()


@pytest.mark.parametrize("jit_compile", [False, True])
def test_rotation_by_90_degrees_equals_rot90_on_the_interior(jit_compile):
    # 6x10: the centred 6x6 square rotates onto itself.
    x = images(height=6, width=10)
    out = run([rka.RandomRotation((0.25, 0.25))], x, jit_compile=jit_compile)
    expected = np.rot90(x[:, :, 2:8], k=1, axes=(1, 2))
    np.testing.assert_allclose(out[:, :, 2:8], expected, atol=1e-5)
    # Outside the square the rotated image is off-canvas: the fill value.
    np.testing.assert_allclose(out[:, :, :2], 0.0, atol=1e-5)


def test_translation_by_whole_pixels_shifts_exactly():
    x = images(height=6, width=10)
    op = rka.RandomTranslation((2 / 6, 2 / 6), (-0.3, -0.3))
    out = run([op], x)
    # Down by 2 rows, left by 3 columns.
    np.testing.assert_allclose(out[:, 2:, :-3], x[:, :-2, 3:], atol=1e-5)
    np.testing.assert_allclose(out[:, :2], 0.0, atol=1e-6)
    np.testing.assert_allclose(out[:, :, -3:], 0.0, atol=1e-6)


@pytest.mark.parametrize(
    "fill_mode, pad_mode", [("reflect", "symmetric"), ("nearest", "edge")]
)
def test_fill_modes_match_numpy_padding(fill_mode, pad_mode):
    x = images(height=5, width=7)
    op = rka.RandomTranslation((0.0, 0.0), (2 / 7, 2 / 7))
    out = run([op], x, fill_mode=fill_mode)
    padded = np.pad(x, [(0, 0), (0, 0), (2, 0), (0, 0)], mode=pad_mode)
    np.testing.assert_allclose(out, padded[:, :, :7], atol=1e-5)


def test_constant_fill_value():
    x = images(height=5, width=7)
    op = rka.RandomTranslation((0.4, 0.4), (0.0, 0.0))
    out = run([op], x, fill_value=0.25)
    np.testing.assert_allclose(out[:, :2], 0.25, atol=1e-6)


def test_pad_crop_shifts_each_example_by_whole_pixels():
    x = np.repeat(images(batch=1, height=7, width=9), 16, axis=0)
    out = run([rka.RandomPadCrop(2)], x, interpolation="nearest")
    padded = np.pad(x[0], [(2, 2), (2, 2), (0, 0)])
    shifts = set()
    for image in out:
        matches = [
            (dy, dx)
            for dy in range(5)
            for dx in range(5)
            if np.array_equal(image, padded[dy : dy + 7, dx : dx + 9])
        ]
        assert matches, "not a crop of the padded image"
        shifts.add(matches[0])
    assert len(shifts) > 4, shifts


def test_fused_matrix_is_the_product_of_the_op_matrices():
    ops = [
        rka.RandomFlip(probability=0.5),
        rka.RandomRotation(0.1),
        rka.RandomTranslation(0.2, 0.1),
        rka.RandomZoom(0.2, 0.3),
        rka.RandomShear(0.1, 0.2),
    ]
    pipeline = rka.Pipeline(ops, jit_compile=False)
    seed = tf.constant([3, 4], tf.int64)
    fused = pipeline.sample(seed, 5, (6, 10, 3))[0]["matrix"].numpy()
    seeds = sampling.split_seed(seed, len(ops))
    product = np.eye(3)
    for op, op_seed in zip(ops, seeds, strict=True):
        product = product @ op.sample(op_seed, 5, (6, 10, 3))["matrix"].numpy()
    to_pixels = np.array([[1, 0, 4.5], [0, 1, 2.5], [0, 0, 1]])
    from_pixels = np.array([[1, 0, -4.5], [0, 1, -2.5], [0, 0, 1]])
    expected = to_pixels @ product @ from_pixels
    np.testing.assert_allclose(fused, expected, atol=1e-5)
    # Five geometric ops, one resampling stage.
    assert len(pipeline.chain.stages) == 1


def test_one_resampling_for_several_ops():
    # Two half-turn rotations fused: the identity, exactly; done as two
    # bilinear resamplings they would be too, but a quarter-pixel shift
    # and its inverse would blur.
    x = images(height=6, width=8)
    ops = [
        rka.RandomTranslation((0.0, 0.0), (0.25 / 8, 0.25 / 8)),
        rka.RandomTranslation((0.0, 0.0), (-0.25 / 8, -0.25 / 8)),
    ]
    fused = run(ops, x)
    np.testing.assert_allclose(fused, x, atol=1e-5)
    first = run(ops[:1], x, fill_mode="nearest")
    twice = run(ops[1:], first, fill_mode="nearest")
    assert np.abs(twice - x).max() > 1e-2


def test_rotation_parameters_differ_per_example():
    x = np.repeat(images(batch=1), 8, axis=0)
    out = run([rka.RandomRotation(0.1)], x)
    flat = out.reshape(8, -1)
    assert len({row.tobytes() for row in flat}) == 8


def test_zero_ranges_and_zero_probability_are_identity():
    x = images(height=7, width=5)
    ops = [
        rka.RandomRotation(0.0),
        rka.RandomZoom(0.0),
        rka.RandomShear(0.0, 0.0),
        rka.RandomTranslation(0.3, 0.3, probability=0.0),
        rka.RandomFlip(probability=0.0),
    ]
    np.testing.assert_allclose(run(ops, x), x, atol=1e-5)


def test_zoom_in_by_half_matches_numpy():
    x = images(batch=2, height=8, width=12)
    out = run([rka.RandomZoom((-0.5, -0.5))], x)
    # Output pixel u reads input c + (u - c) / 2, c = (n - 1) / 2.
    ys = 3.5 + (np.arange(8) - 3.5) / 2
    xs = 5.5 + (np.arange(12) - 5.5) / 2

    def interp(img, coords, axis):
        low = np.floor(coords).astype(int)
        frac = (coords - low).reshape(
            [-1 if a == axis else 1 for a in range(3)]
        )
        a = np.take(img, low, axis=axis)
        b = np.take(img, np.minimum(low + 1, img.shape[axis] - 1), axis=axis)
        return a * (1 - frac) + b * frac

    for image, result in zip(x, out, strict=True):
        expected = interp(interp(image, ys, 0), xs, 1)
        np.testing.assert_allclose(result, expected, atol=1e-5)


def test_shear_keeps_the_centre_row():
    x = images(batch=2, height=7, width=9)
    out = run([rka.RandomShear((0.3, 0.3))], x)
    np.testing.assert_allclose(out[:, 3], x[:, 3], atol=1e-5)


def test_resized_crop_output_size_and_whole_image_identity():
    x = images(height=6, width=10)
    whole = rka.RandomResizedCrop(6, 10, scale=(1.0, 1.0), ratio=(10 / 6,) * 2)
    np.testing.assert_allclose(run([whole], x), x, atol=1e-5)
    crop = rka.RandomResizedCrop(5, 7, scale=(0.2, 0.5))
    out = run([crop, rka.RandomFlip()], x)
    assert out.shape == (4, 5, 7, 3)
    pipeline = rka.Pipeline([crop])
    assert pipeline.convert(x).shape == (4, 5, 7, 3)


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("fill_mode", ["constant", "reflect", "nearest"])
def test_gather_resampler_equals_tensorflow_kernel(interpolation, fill_mode):
    x = tf.constant(images(batch=6, height=9, width=13))
    ops = [rka.RandomRotation(0.2), rka.RandomZoom(0.3), rka.RandomShear(0.2)]
    ops.append(rka.RandomResizedCrop(7, 11, scale=(0.5, 1.0)))
    pipeline = rka.Pipeline(ops)
    matrix = pipeline.sample(1, 6, (9, 13, 3))[0]["matrix"]
    args = (x, matrix, (7, 11), interpolation, fill_mode, 0.3)
    gathered = resample.resample(*args)
    kernel = resample.resample(*args, gather=False)
    np.testing.assert_allclose(gathered, kernel, atol=1e-5)


def test_matrix_functions():
    m = geometry.rotation_matrix(tf.constant([np.pi / 2]))[0].numpy()
    np.testing.assert_allclose(m, [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-6)
    t = geometry.translation_matrix(tf.constant([2.0]), tf.constant([3.0]))
    np.testing.assert_allclose(t[0, :2, 2], [-2.0, -3.0])


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: rka.RandomFlip("diagonal"), "RandomFlip.*`mode`.*diagonal"),
        (lambda: rka.RandomRotation(1.5), "RandomRotation.*`factor`"),
        (lambda: rka.RandomRotation(0.1, probability=1.5), "`probability`"),
        (lambda: rka.RandomTranslation(0.1, (0.2, 0.1)), "low <= high"),
        (lambda: rka.RandomZoom(-1.0), "RandomZoom.*`height_factor`"),
        (lambda: rka.RandomPadCrop(-1), "RandomPadCrop.*`padding`"),
        (
            lambda: rka.RandomResizedCrop(8, 8, scale=(0.0, 1.0)),
            "RandomResizedCrop.*`scale`",
        ),
        (lambda: rka.Pipeline([], fill_mode="wrap"), "`fill_mode`.*wrap"),
    ],
)
def test_bad_arguments(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_wrong_type_raises_type_error():
    with pytest.raises(TypeError, match="RandomRotation.*`factor`"):
        rka.RandomRotation("big")

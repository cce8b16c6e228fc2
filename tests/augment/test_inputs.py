"""Images of any size and encoded images: crop first, then batch."""

import numpy as np
import pytest
import tensorflow as tf

from keras_regkit import augment as rka
from keras_regkit.augment._core import resample
from keras_regkit.augment._core import sampling
from keras_regkit.augment.inputs import decode
from keras_regkit.augment.inputs import unbatched

SIZES = [(20, 30), (33, 17), (24, 24)]
# A uint8 crop is rounded to the nearest of 256 levels.
ROUNDED = 0.5 / 255 + 1e-6


def gradient(height, width, channels=3):
    """A smooth uint8 image (JPEG keeps it within a few levels)."""
    y = np.linspace(0.0, 1.0, height)[:, None, None]
    x = np.linspace(0.0, 1.0, width)[None, :, None]
    c = np.arange(channels)[None, None, :] / max(channels, 1)
    image = 40 + 90 * y + 110 * x * (1 - c / 2) + 10 * c
    return image.round().astype(np.uint8)


def varying(count=None, jpeg=False, labels=True):
    """An unbatched dataset of images of three sizes (random content)."""
    rng = np.random.default_rng(0)
    sizes = SIZES if count is None else [SIZES[i % 3] for i in range(count)]
    images = [rng.integers(0, 256, s + (3,), dtype=np.uint8) for s in sizes]
    if jpeg:
        images = [tf.io.encode_jpeg(x).numpy() for x in images]
        spec = tf.TensorSpec([], tf.string)
    else:
        spec = tf.TensorSpec([None, None, 3], tf.uint8)
    if not labels:
        return tf.data.Dataset.from_generator(
            lambda: iter(images), output_signature=spec
        )
    return tf.data.Dataset.from_generator(
        lambda: ((x, i) for i, x in enumerate(images)),
        output_signature=(spec, tf.TensorSpec([], tf.int64)),
    )


def resize_reference(image, height, width, antialias=True):
    """PIL's bilinear resize in numpy: half-pixel centres, edges repeated.

    Output pixel ``i`` weighs input pixel ``j`` by the triangle ``1 - |j +
    0.5 - (i + 0.5) * s| / support`` (``s`` input pixels per output
    pixel), normalized over the pixels inside the image; ``support`` is
    ``max(s, 1)`` with antialiasing (PIL, torchvision), 1 without (plain
    bilinear interpolation).
    """
    image = image.astype(np.float64)

    def weights(size_in, size_out):
        step = size_in / size_out
        support = max(step, 1.0) if antialias else 1.0
        centres = (np.arange(size_out)[:, None] + 0.5) * step
        distance = np.abs(np.arange(size_in)[None, :] + 0.5 - centres)
        w = np.maximum(0.0, 1.0 - distance / support)
        return w / w.sum(axis=1, keepdims=True)

    rows = np.einsum("ij,jkc->ikc", weights(image.shape[0], height), image)
    return np.einsum("kj,ijc->ikc", weights(image.shape[1], width), rows)


def pipeline(*ops, seed=5, size=(12, 16), **crop):
    crop = rka.RandomResizedCrop(*size, **crop)
    return rka.Pipeline([crop, *ops], seed=seed, jit_compile=False)


def as_arrays(dataset):
    return [
        tf.nest.map_structure(lambda t: t.numpy(), element)
        for element in dataset
    ]


# ------------------------------------------------------------ windows


def test_window_is_inside_with_the_ops_area_and_ratio():
    op = rka.RandomResizedCrop(8, 8, scale=(0.2, 0.6), ratio=(0.5, 2.0))
    height, width = 90, 130
    windows = np.array([op.window(s, height, width).numpy() for s in range(60)])
    y, x, h, w = windows.T
    assert (y >= 0).all() and (x >= 0).all()
    assert (y + h <= height).all() and (x + w <= width).all()
    area = h * w / (height * width)
    # Rounding the sides to whole pixels moves the area a little.
    assert area.min() > 0.2 * 0.95 and area.max() < 0.6 * 1.05, area
    aspect = w / h
    assert aspect.min() > 0.5 * 0.9 and aspect.max() < 2.0 * 1.1, aspect
    assert len({tuple(row) for row in windows}) > 50  # Per seed.
    # The same seed, the same window.
    np.testing.assert_array_equal(
        op.window(7, height, width),
        op.window(7, height, width),
    )


def test_window_is_the_one_the_batched_op_resamples():
    # The op's matrix, resampled as a batched pipeline resamples it, reads
    # the same pixels as the window (a downscale: every bilinear tap lies
    # inside the window, so the two agree exactly, up to float rounding).
    rng = np.random.default_rng(3)
    image = rng.uniform(0, 1, (60, 80, 3)).astype(np.float32)
    op = rka.RandomResizedCrop(12, 16, scale=(0.5, 1.0))
    for seed in range(3):
        seed = tf.constant([0, seed], tf.int64)
        matrix = op.sample(seed, 1, (60, 80, 3))["matrix"]
        pixels = resample.to_pixels(matrix, (60, 80), (12, 16))
        batched = resample.resample(image[None], pixels, (12, 16))[0]
        window = op.window(seed, 60, 80)
        # The batched resampling is plain bilinear (no antialiasing).
        out = decode.resized_crop(image, window, (12, 16), antialias=False)
        np.testing.assert_allclose(out, batched, atol=1e-5)


def _window_from_matrix(op, seed, height, width):
    """The window read back from `sample`'s matrix, in numpy."""
    seed = sampling.as_seed(seed)
    matrix = op.sample(seed, 1, (height, width, 1))["matrix"][0].numpy()
    crop_w = np.clip(np.round(matrix[0, 0] * width), 1, width)
    crop_h = np.clip(np.round(matrix[1, 1] * height), 1, height)
    x = np.clip(
        np.round(matrix[0, 2] + (width - crop_w) / 2), 0, width - crop_w
    )
    y = np.clip(
        np.round(matrix[1, 2] + (height - crop_h) / 2), 0, height - crop_h
    )
    return [int(y), int(x), int(crop_h), int(crop_w)]


@pytest.mark.parametrize(
    "op",
    [
        rka.RandomResizedCrop(8, 8),
        rka.RandomResizedCrop(8, 8, probability=0.5),
        rka.RandomResizedCrop(
            8, 8, scale=(0.5, 1), ratio=(2, 3), fallback="whole"
        ),
        rka.RandomResizedCrop(8, 8, scale=(0.9, 1), ratio=(0.2, 0.3)),
    ],
    ids=["default", "probability", "whole", "centre"],
)
def test_window_is_the_window_of_the_ops_matrix(op):
    # `window` skips the matrix; the same draws, read back from the matrix
    # of a batch of one, give the same window, including the fallbacks, a
    # gated-off example and slivers whose fallback rounds to no pixel.
    for height, width in [(375, 500), (100, 1000), (1000, 100), (1, 7), (3, 2)]:
        for s in range(12):
            seed = tf.constant([0, s], tf.int32)
            expected = _window_from_matrix(op, seed, height, width)
            got = op.window(seed, height, width).numpy().tolist()
            assert got == expected, (height, width, s)


def test_window_probability_zero_is_the_whole_image():
    op = rka.RandomResizedCrop(8, 8, probability=0.0)
    window = op.window(3, 37, 52).numpy().tolist()
    assert window == [0, 0, 37, 52]


def test_center_geometry_is_torchvisions_resize_and_center_crop():
    # Changed by issue 21: torchvision's arithmetic, not the exact centre.
    # 400 x 300: Resize(256) gives 341 x 256 (int(256 * 400 / 300)),
    # CenterCrop(224) starts at (round(58.5), 16) = (58, 16) (half to even).
    window, scale, translation = decode.center_crop_geometry(
        400, 300, (224, 224)
    )
    y, x, h, w = window.numpy()
    np.testing.assert_allclose(scale, [341 / 400, 256 / 300], rtol=1e-6)
    # Output pixel i samples the input at (58 + i + 0.5) * 400 / 341,
    # that is (i + 0.5 - translation) / scale in the window.
    for axis, start, top, step in [
        (0, y, 58, 400 / 341),
        (1, x, 16, 300 / 256),
    ]:
        for i in (0, 223):
            inside = (i + 0.5 - translation[axis]) / scale[axis]
            np.testing.assert_allclose(
                start + inside, (top + i + 0.5) * step, rtol=1e-5
            )
    # The window reaches the filter's support (one output pixel: 400/341
    # input pixels on either side) and stays in the image.
    assert y <= 58 * 400 / 341 - 400 / 341 and y + h >= 282 * 400 / 341
    assert 0 <= y and y + h <= 400 and 0 <= x and x + w <= 300
    # Non-square output: Resize(floor(20 / 0.5)) = 40 on the shorter side.
    window, scale, _ = decode.center_crop_geometry(100, 200, (20, 40), 0.5)
    np.testing.assert_allclose(scale, [0.4, 0.4], rtol=1e-6)
    assert decode.resize_size((20, 40), 0.5) == 40


def test_resized_crop_equals_numpy_reference():
    rng = np.random.default_rng(1)
    image = rng.uniform(0, 1, (23, 31, 2)).astype(np.float32)
    for window, size in [
        ([3, 5, 11, 17], (7, 9)),  # Down.
        ([0, 0, 5, 4], (13, 11)),  # Up, at the corner.
        ([10, 20, 13, 11], (13, 11)),  # Same size: a plain slice.
    ]:
        y, x, h, w = window
        expected = resize_reference(image[y : y + h, x : x + w], *size)
        out = decode.resized_crop(image, window, size).numpy()
        assert out.dtype == np.float32 and out.shape == (*size, 2)
        np.testing.assert_allclose(out, expected, atol=1e-5)
        # Without antialiasing: plain bilinear taps.
        plain = decode.resized_crop(image, window, size, antialias=False)
        expected = resize_reference(
            image[y : y + h, x : x + w], *size, antialias=False
        )
        np.testing.assert_allclose(plain, expected, atol=1e-5)
    # uint8 stays uint8, rounded.
    pixels = rng.integers(0, 256, (23, 31, 3), dtype=np.uint8)
    out = decode.resized_crop(pixels, [2, 4, 15, 20], (10, 8)).numpy()
    expected = resize_reference(pixels[2:17, 4:24], 10, 8)
    assert out.dtype == np.uint8
    assert np.abs(out - expected).max() <= 0.5 + 1e-6


# ------------------------------------------------------- unbatched


def test_varying_sizes_become_fixed_size_batches():
    p = pipeline(rka.RandomFlip(), rka.RandomContrast(0.2))
    batches = as_arrays(rka.augment_unbatched(p, varying(7), batch_size=3))
    assert [b[0].shape for b in batches] == [(3, 12, 16, 3)] * 2 + [
        (1, 12, 16, 3)
    ]
    labels = np.concatenate([b[1] for b in batches])
    np.testing.assert_array_equal(labels, np.arange(7))  # Order kept.
    for images, _ in batches:
        assert images.dtype == np.float32
        assert 0.0 <= images.min() and images.max() <= 1.0
    # Without batch_size: single examples, ready for any .batch().
    ds = rka.augment_unbatched(p, varying(7, labels=False))
    assert ds.element_spec.shape == (12, 16, 3)
    assert len(as_arrays(ds.batch(4))) == 2
    # Only per-example ops: converted one by one, nothing batched.
    ds = rka.augment_unbatched(pipeline(rka.RandomFlip()), varying(2))
    (image, label), _ = as_arrays(ds)
    assert image.shape == (12, 16, 3) and image.dtype == np.float32
    assert label == 0


def test_whole_image_crop_equals_a_plain_resize():
    # probability=0.0: the window is the whole image, so the output is
    # the resize of each image, a reference computed independently.
    p = pipeline(probability=0.0)
    out = as_arrays(rka.augment_unbatched(p, varying(), batch_size=3))
    rng = np.random.default_rng(0)
    for i, size in enumerate(SIZES):
        image = rng.integers(0, 256, size + (3,), dtype=np.uint8)
        expected = resize_reference(image, 12, 16) / 255.0
        # uint8 crops: rounded to the nearest level.
        np.testing.assert_allclose(out[0][0][i], expected, atol=ROUNDED)


def test_flips_after_the_crop_flip_each_example():
    # Only the crop runs per example; flips after it run batched, as
    # reversed copies of each example's crop.
    p = pipeline(
        rka.RandomFlip(probability=1.0),
        rka.RandomFlip("vertical", probability=1.0),
        rka.RandomContrast((0.0, 0.0)),
        probability=0.0,
    )
    per_example, batched = unbatched.split_example_ops(p.ops)
    assert [type(op).__name__ for op in per_example] == ["RandomResizedCrop"]
    names = [type(op).__name__ for op in batched]
    assert names == ["RandomFlip", "RandomFlip", "RandomContrast"]
    out = as_arrays(rka.augment_unbatched(p, varying(), batch_size=3))
    rng = np.random.default_rng(0)
    for i, size in enumerate(SIZES):
        image = rng.integers(0, 256, size + (3,), dtype=np.uint8)
        expected = resize_reference(image, 12, 16)[::-1, ::-1] / 255.0
        np.testing.assert_allclose(out[0][0][i], expected, atol=ROUNDED)
    # Probability 0.5: about half the examples flipped.
    p = pipeline(rka.RandomFlip(), probability=0.0)
    ds = varying(40, labels=False).map(lambda x: x[:20, :20])
    (batch,) = as_arrays(rka.augment_unbatched(p, ds, batch_size=40))
    plain = np.array(
        as_arrays(
            rka.augment_unbatched(pipeline(probability=0.0), ds, batch_size=40)
        )[0]
    )
    flipped = np.abs(batch - plain).max(axis=(1, 2, 3)) > 0
    np.testing.assert_allclose(batch[flipped], plain[flipped][:, :, ::-1])
    assert 10 <= flipped.sum() <= 30, flipped.sum()


def test_same_seed_same_batches_and_examples_get_their_own_crops():
    def run(seed):
        p = pipeline(rka.RandomFlip(), seed=seed)
        ds = rka.augment_unbatched(p, varying(6), batch_size=6)
        return as_arrays(ds)[0][0]

    first, again, other = run(11), run(11), run(12)
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 0.1
    # The same image (examples 0 and 3) gets different crops.
    assert np.abs(first[0] - first[3]).max() > 0.1
    # A new iterator (a new epoch) gets fresh crops.
    p = pipeline(seed=11)
    ds = rka.augment_unbatched(p, varying(3), batch_size=3)
    assert np.abs(as_arrays(ds)[0][0] - as_arrays(ds)[0][0]).max() > 0.1


def test_dict_elements_are_cropped_and_passed_through():
    ds = varying(3).map(lambda x, y: {"images": x, "labels": y})
    p = pipeline()
    (batch,) = as_arrays(rka.augment_unbatched(p, ds, batch_size=3))
    assert sorted(batch) == ["images", "labels"]
    assert batch["images"].shape == (3, 12, 16, 3)


# ------------------------------------------------------------- JPEG


def test_decoded_window_equals_the_crop_of_the_decoded_image():
    image = gradient(67, 93)
    jpeg = tf.io.encode_jpeg(image, quality=95)
    decoded = tf.io.decode_jpeg(jpeg).numpy()
    op = rka.RandomResizedCrop(20, 24, scale=(0.1, 0.5))
    for seed in range(4):
        window = op.window(seed, 67, 93)
        out = rka.decode_random_resized_crop(
            jpeg, (20, 24), seed=seed, scale=(0.1, 0.5)
        ).numpy()
        assert out.dtype == np.uint8 and out.shape == (20, 24, 3)
        full = decode.resized_crop(decoded, window, (20, 24)).numpy()
        # Decoding only the window: the same pixels, up to JPEG rounding.
        assert np.abs(out.astype(int) - full).max() <= 2
        # And the crop of the original image, within JPEG's error.
        y, x, h, w = window.numpy()
        expected = resize_reference(image[y : y + h, x : x + w], 20, 24)
        assert np.abs(out - expected).mean() < 2.0


def test_other_formats_decode_whole_then_crop():
    image = gradient(30, 41)
    png = tf.io.encode_png(image)
    op = rka.RandomResizedCrop(9, 9)
    window = op.window(2, 30, 41)
    out = rka.decode_random_resized_crop(png, 9, seed=2)
    expected = decode.resized_crop(image, window, (9, 9))
    np.testing.assert_array_equal(out, expected)  # Lossless: exact.


def test_center_crop_decodes_the_eval_window():
    image = gradient(64, 48)
    jpeg = tf.io.encode_jpeg(image, quality=95)
    out = rka.decode_center_crop(jpeg, 16).numpy()
    # torchvision: Resize(18) gives 24 x 18, CenterCrop(16) at (4, 1).
    expected = resize_reference(image, 24, 18)[4:20, 1:17]
    assert np.abs(out - expected).mean() < 2.0


def test_pipeline_over_jpeg_bytes_of_three_sizes():
    p = pipeline(rka.RandomFlip(), seed=3)
    ds = varying(jpeg=True)
    (batch,) = as_arrays(rka.augment_unbatched(p, ds, batch_size=3))
    assert batch[0].shape == (3, 12, 16, 3)
    np.testing.assert_array_equal(batch[1], [0, 1, 2])
    (again,) = as_arrays(rka.augment_unbatched(p, ds, batch_size=3))
    np.testing.assert_array_equal(batch[0], again[0])


# ----------------------------------------------------------- ragged


def test_ragged_batch():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, s + (3,), dtype=np.uint8) for s in SIZES]
    ragged = tf.ragged.stack(images)
    labels = np.arange(3)
    p = pipeline(rka.RandomFlip())
    out, out_labels = rka.augment_ragged(p, (ragged, labels), seed=4)
    assert out.shape == (3, 12, 16, 3) and out.dtype == tf.float32
    np.testing.assert_array_equal(out_labels, labels)
    again, _ = rka.augment_ragged(p, (ragged, labels), seed=4)
    np.testing.assert_array_equal(out, again)
    other, _ = rka.augment_ragged(p, (ragged, labels), seed=5)
    assert np.abs(np.asarray(out) - other).max() > 0.1
    # The whole-image crop is the plain resize of each image.
    whole = rka.augment_ragged(pipeline(probability=0.0), ragged, seed=4)
    for i, image in enumerate(images):
        expected = resize_reference(image, 12, 16) / 255.0
        np.testing.assert_allclose(whole[i], expected, atol=ROUNDED)


# ----------------------------------------------------------- errors


def test_pipeline_without_a_leading_crop_raises():
    p = rka.Pipeline([rka.RandomFlip(), rka.RandomResizedCrop(8, 8)])
    # Unbatched: batch first, or start with a crop.
    with pytest.raises(
        ValueError,
        match=r"`images`.*batch the dataset first.* or, for images of any "
        r"size, a pipeline whose first op is RandomResizedCrop \(here it "
        r"is RandomFlip;.*Received: images=\(None, None, 3\)",
    ):
        rka.augment_unbatched(p, varying())
    ragged = tf.ragged.stack([np.zeros((4, 5, 3)), np.zeros((6, 3, 3))])
    with pytest.raises(ValueError, match=r"`ops`.*ragged batch.*'RandomFlip'"):
        rka.augment_ragged(p, ragged, seed=0)


def test_bad_inputs_raise_naming_the_argument():
    p = pipeline()
    batched = varying(labels=False).map(lambda x: x[None, :8, :8])
    with pytest.raises(ValueError, match=r"`images`.*unbatched images"):
        rka.augment_unbatched(p, batched)
    masks = varying().map(lambda x, y: {"images": x, "masks": x})
    with pytest.raises(ValueError, match="'masks'"):
        rka.augment_unbatched(p, masks, batch_size=2)
    mixing = rka.Pipeline(
        [rka.RandomResizedCrop(8, 8), rka.MixUp(num_classes=3)]
    )
    with pytest.raises(ValueError, match="`batch_size`.*mixing ops"):
        rka.augment_unbatched(mixing, varying())
    with pytest.raises(TypeError, match="`batch_size`"):
        rka.augment_unbatched(p, varying(), batch_size=2.0)
    with pytest.raises(ValueError, match="`drop_remainder`.*without batch"):
        rka.augment_unbatched(p, varying(), drop_remainder=True)
    with pytest.raises(TypeError, match="`dataset`"):
        rka.augment_unbatched(p, np.zeros((2, 8, 8, 3)))
    with pytest.raises(TypeError, match="`data`.*RaggedTensor"):
        rka.augment_ragged(p, np.zeros((2, 8, 8, 3)), seed=0)
    ragged = tf.ragged.stack([np.zeros((4, 5, 3)), np.zeros((6, 3, 3))])
    with pytest.raises(TypeError, match="`seed`"):
        rka.augment_ragged(p, ragged, seed=0.5)
    with pytest.raises(TypeError, match="augment_unbatched: .*`pipeline`"):
        rka.augment_unbatched([rka.RandomResizedCrop(8, 8)], varying())


def test_decode_arguments_are_checked():
    jpeg = tf.io.encode_jpeg(gradient(8, 8))
    with pytest.raises(
        ValueError, match="decode_random_resized_crop: .*`size`"
    ):
        rka.decode_random_resized_crop(jpeg, 0, seed=0)
    with pytest.raises(ValueError, match="`size`.*pair"):
        rka.decode_random_resized_crop(jpeg, (1, 2, 3), seed=0)
    with pytest.raises(
        ValueError, match="decode_random_resized_crop: .*`scale`"
    ):
        rka.decode_random_resized_crop(jpeg, 4, seed=0, scale=(0.5, 2.0))
    with pytest.raises(TypeError, match="`ratio`"):
        rka.decode_random_resized_crop(jpeg, 4, seed=0, ratio=1.0)
    with pytest.raises(
        ValueError, match="decode_center_crop: .*`crop_fraction`"
    ):
        rka.decode_center_crop(jpeg, 4, crop_fraction=0.0)
    with pytest.raises(ValueError, match="`channels`"):
        rka.decode_center_crop(jpeg, 4, channels=4)
    with pytest.raises(TypeError, match="`seed`"):
        rka.decode_random_resized_crop(jpeg, 4, seed=0.5)
    with pytest.raises(ValueError, match="`seed`"):
        rka.decode_random_resized_crop(jpeg, 4, seed=(1, 2, 3))
    with pytest.raises(TypeError, match="`contents`"):
        rka.decode_center_crop(np.zeros((2, 2)), 4)
    # Bytes that are no image: named, eagerly (in tf.data, TensorFlow's
    # own error at run time).
    with pytest.raises(ValueError, match=r"`contents`.*Received: contents=b'n"):
        rka.decode_center_crop(b"not an image", 4)


# ------------------------------------------------ Pipeline dispatch


def test_pipeline_call_and_augment_dispatch_here():
    p = pipeline(rka.RandomFlip(), rka.RandomContrast(0.2))
    direct = as_arrays(rka.augment_unbatched(p, varying(), batch_size=3))
    called = as_arrays(p(varying(), batch_size=3))
    np.testing.assert_array_equal(called[0][0], direct[0][0])
    assert p(varying()).element_spec[0].shape == (12, 16, 3)
    ragged = tf.ragged.stack([np.zeros((4, 5, 3)), np.zeros((6, 3, 3))])
    np.testing.assert_array_equal(
        p.augment(ragged, seed=2), rka.augment_ragged(p, ragged, seed=2)
    )
    batched = varying(4, labels=False).map(lambda x: x[:8, :8]).batch(2)
    with pytest.raises(ValueError, match="`batch_size`"):
        p(batched, batch_size=2)

"""The pixels of the standard transforms (issue 21, point 1).

torchvision's evaluation transform ``Resize(256)`` + ``CenterCrop(224)`` and
its ``RandomResizedCrop`` on PIL images, reimplemented here with PIL and
numpy (no torchvision dependency), are the references:

* ``Resize(s)``: the shorter side becomes ``s``, the longer one
  ``int(s * long / short)`` (truncated), resampled by PIL's bilinear filter,
  whose support grows with the downscaling factor (antialiasing);
* ``CenterCrop(c)``: the offset ``int(round((size - c) / 2))``, Python's
  round (half to even);
* ``RandomResizedCrop``: crop the window, then the same PIL resize.

`decode_center_crop` must equal the first two within the decoders'
difference (mean absolute difference at most 1.5 grey levels) on
scikit-learn's two photographs, at their size and as 2000-pixel images of
several aspect ratios, JPEG-encoded here; and fine stripes must come out as
the flat grey PIL gives, not as aliasing.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from sklearn.datasets import load_sample_images

from keras_regkit import augment as rka

# The bound: what two JPEG decoders may differ by, after resizing.
MEAN_TOLERANCE = 1.5


# ------------------------------------------------------------ references


def torchvision_resize_size(height, width, size):
    """torchvision's ``Resize(size)`` output ``(height, width)``."""
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size, int(size * long / short)
    if width <= height:
        return new_long, new_short
    return new_short, new_long


def torchvision_eval(image, resize=256, crop=(224, 224)):
    """``Resize(resize)`` + ``CenterCrop(crop)`` on a PIL image, as uint8."""
    width, height = image.size
    new_h, new_w = torchvision_resize_size(height, width, resize)
    if (new_h, new_w) != (height, width):
        image = image.resize((new_w, new_h), Image.BILINEAR)
    top = int(round((new_h - crop[0]) / 2.0))
    left = int(round((new_w - crop[1]) / 2.0))
    box = (left, top, left + crop[1], top + crop[0])
    return np.asarray(image.crop(box))


def torchvision_resized_crop(image, window, size):
    """``resized_crop``: the window ``[y, x, h, w]``, PIL-resized."""
    y, x, h, w = window
    crop = image.crop((x, y, x + w, y + h))
    return np.asarray(crop.resize((size[1], size[0]), Image.BILINEAR))


def encode(array, format="JPEG"):
    buffer = io.BytesIO()
    options = {"quality": 95} if format == "JPEG" else {}
    Image.fromarray(array).save(buffer, format, **options)
    return buffer.getvalue()


def decode_pil(contents):
    return Image.open(io.BytesIO(contents)).convert("RGB")


def mirrored_tiles(image, height, width):
    """``image`` tiled with mirrored copies: full detail at any size."""
    row = np.concatenate([image, image[:, ::-1]], axis=1)
    block = np.concatenate([row, row[::-1]], axis=0)
    reps = (-(-height // block.shape[0]), -(-width // block.shape[1]), 1)
    return np.tile(block, reps)[:height, :width]


def photographs():
    """scikit-learn's two photographs, and 2000-pixel versions of them."""
    out = {}
    names = ("china", "flower")
    for name, image in zip(names, load_sample_images().images, strict=True):
        pil = Image.fromarray(image)
        out[f"{name}_427x640"] = image
        # Upscaled: smooth content, a large downscale back.
        out[f"{name}_1333x2000"] = np.asarray(
            pil.resize((2000, 1333), Image.LANCZOS)
        )
        # Tiled: the photograph's own detail at 2000 pixels, both ways.
        out[f"{name}_tiles_854x2000"] = mirrored_tiles(image, 854, 2000)
        out[f"{name}_tiles_2000x1501"] = mirrored_tiles(image, 2000, 1501)
        # A panorama, and an image smaller than 256 (an upscale).
        out[f"{name}_tiles_500x2000"] = mirrored_tiles(image, 500, 2000)
        out[f"{name}_200x300"] = np.asarray(
            pil.resize((300, 200), Image.LANCZOS)
        )
    return out


PHOTOS = photographs()


def stripes(height=1500, width=2000):
    """One-pixel black and white columns: aliasing's worst case."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:, ::2] = 255
    return image


# ---------------------------------------------------------- evaluation


@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_decode_center_crop_equals_torchvision_eval(name):
    contents = encode(PHOTOS[name])
    expected = torchvision_eval(decode_pil(contents)).astype(int)
    out = rka.decode_center_crop(contents, 224).numpy()
    assert out.shape == (224, 224, 3) and out.dtype == np.uint8
    diff = np.abs(out.astype(int) - expected)
    assert diff.mean() <= MEAN_TOLERANCE, (name, diff.mean(), diff.max())


@pytest.mark.parametrize(
    "shape",
    [
        (2001, 1499),
        (1499, 2001),
        (300, 257),
        (257, 300),
        (301, 999),
        (256, 256),
    ],
)
def test_center_crop_window_is_torchvision_arithmetic(shape):
    # Lossless noise: a window one source pixel off, or another filter,
    # moves every pixel; only PIL's integer arithmetic (and its rounding
    # between the horizontal and the vertical pass) is left.
    rng = np.random.default_rng(sum(shape))
    image = rng.integers(0, 256, shape + (3,), dtype=np.uint8)
    contents = encode(image, "PNG")
    expected = torchvision_eval(Image.fromarray(image)).astype(int)
    out = rka.decode_center_crop(contents, 224).numpy().astype(int)
    diff = np.abs(out - expected)
    assert diff.max() <= 1 and diff.mean() < 0.3, (diff.mean(), diff.max())


def test_center_crop_inside_dataset_map_equals_eager():
    contents = [encode(PHOTOS[name]) for name in sorted(PHOTOS)[:3]]
    ds = tf.data.Dataset.from_tensor_slices(contents)
    mapped = ds.map(lambda c: rka.decode_center_crop(c, (96, 128)))
    for one, out in zip(contents, mapped, strict=True):
        eager = rka.decode_center_crop(one, (96, 128))
        np.testing.assert_array_equal(out, eager)


def test_center_crop_other_fractions_and_sizes():
    # crop_fraction f: Resize(floor(min(size) / f)), then CenterCrop(size).
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (480, 350, 3), dtype=np.uint8)
    contents = encode(image, "PNG")
    for size, fraction in [((224, 224), 0.95), ((96, 128), 0.75)]:
        resize = int(np.floor(min(size) / fraction))
        expected = torchvision_eval(Image.fromarray(image), resize, size)
        out = rka.decode_center_crop(contents, size, crop_fraction=fraction)
        diff = np.abs(out.numpy().astype(int) - expected)
        assert diff.max() <= 1, (size, fraction, diff.max())


def test_stripes_downscale_to_flat_grey():
    contents = encode(stripes())
    reference = torchvision_eval(decode_pil(contents))
    assert reference.std() < 2.0  # PIL: a flat grey.
    out = rka.decode_center_crop(contents, 224).numpy()
    assert out.std() < 2.0, out.std()
    assert abs(out.mean() - reference.mean()) < MEAN_TOLERANCE
    # Without antialiasing: the bilinear taps alias the stripes.
    aliased = rka.decode_center_crop(contents, 224, antialias=False).numpy()
    assert aliased.std() > 20.0, aliased.std()


# ------------------------------------------------- random resized crop


def test_resized_crop_pixels_and_fallback_window_equal_torchvision():
    # scale (1, 1) with a ratio range the image's aspect is outside of:
    # all ten draws miss, and torchvision's fallback is the centre crop
    # with the ratio clamped into range: (300, 900) -> 300 x 400 at x=250.
    rng = np.random.default_rng(3)
    for shape, window in [
        ((300, 900), (0, 250, 300, 400)),
        ((900, 300), (250, 0, 400, 300)),
    ]:
        image = rng.integers(0, 256, shape + (3,), dtype=np.uint8)
        contents = encode(image, "PNG")
        expected = torchvision_resized_crop(
            Image.fromarray(image), window, (64, 96)
        ).astype(int)
        for seed in range(3):
            out = rka.decode_random_resized_crop(
                contents, (64, 96), seed=seed, scale=(1.0, 1.0)
            )
            diff = np.abs(out.numpy().astype(int) - expected)
            assert diff.max() <= 1, (shape, seed, diff.max())


def test_random_resized_crop_of_stripes_is_antialiased():
    # scale (1, 1) and the image's own ratio: the window is the whole
    # image, so PIL's resize of it is the reference.
    contents = encode(stripes(750, 1000))
    expected = torchvision_resized_crop(
        decode_pil(contents), (0, 0, 750, 1000), (224, 224)
    ).astype(int)
    crop = {"scale": (1.0, 1.0), "ratio": (4 / 3, 4 / 3)}
    out = rka.decode_random_resized_crop(contents, 224, seed=0, **crop)
    out = out.numpy().astype(int)
    assert np.abs(out - expected).mean() <= MEAN_TOLERANCE
    assert out.std() < expected.std() + 1.0, (out.std(), expected.std())
    aliased = rka.decode_random_resized_crop(
        contents, 224, seed=0, antialias=False, **crop
    ).numpy()
    assert aliased.std() > 20.0, aliased.std()


def test_pipeline_over_images_of_any_size_is_antialiased():
    # pipeline(ds, batch_size=n): the per-example crop is resized as
    # torchvision's RandomResizedCrop resizes it (antialias on by default).
    images = [stripes(600, 800), stripes(700, 500)]
    for antialias, low, high in [(True, 0.0, 3.0), (False, 20.0, 255.0)]:
        crop = rka.RandomResizedCrop(
            64, 64, scale=(0.5, 1.0), antialias=antialias
        )
        pipeline = rka.Pipeline([crop], seed=0)
        for inputs in (images, [encode(x) for x in images]):
            ds = tf.data.Dataset.from_generator(
                lambda inputs=inputs: iter(inputs),
                output_signature=(
                    tf.TensorSpec([], tf.string)
                    if isinstance(inputs[0], bytes)
                    else tf.TensorSpec([None, None, 3], tf.uint8)
                ),
            )
            (batch,) = list(pipeline(ds, batch_size=2))
            std = (batch.numpy() * 255.0).std(axis=(1, 2, 3))
            assert ((low < std) & (std < high)).all(), (antialias, std)

"""Pure functions that crop and decode single images of any size.

* `center_crop_geometry` is the evaluation crop's window and resampling
  (a `RandomResizedCrop`'s window for one image is its ``window``);
* `resized_crop` reads one window of a decoded image and resizes it;
  `decode_window` decodes only a window of encoded bytes (JPEG; other
  formats decode whole, then slice); `crop_image` is either, for one
  example and a `RandomResizedCrop`;
* `decode_random_resized_crop` and `decode_center_crop`: the training
  and evaluation crops of encoded images, as functions to map.

The pixels are torchvision's on PIL images (its v2 transforms'
defaults): resizing is PIL's bilinear filter, antialiased when shrinking
(the filter's support scaled by the factor, ``antialias``); the
evaluation crop is ``Resize(256)`` + ``CenterCrop(224)`` with
torchvision's arithmetic (the longer side truncated, the offset rounded
half to even) and JPEG decoded as PIL decodes it (libjpeg's accurate
integer DCT).

Reference:
    Szegedy et al., "Going deeper with convolutions", 2015 (random
    resized crop); the centre crop of 87.5% is the standard ImageNet
    evaluation transform (resize the shorter side to 256, crop 224).
"""

from __future__ import annotations

import math

import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import checks
from keras_regkit.augment._core import sampling
from keras_regkit.augment.ops.resized_crop import RandomResizedCrop

# libjpeg's accurate integer DCT, as PIL decodes: TensorFlow's default
# (the fast one) differs from it by about 1.3 grey levels on average.
ACCURATE_DCT = "INTEGER_ACCURATE"


def _size_pair(name, size, owner):
    """``size`` as a ``(height, width)`` pair of ints >= 1."""
    if isinstance(size, (list, tuple)) and len(size) == 2:
        return tuple(
            _validation.check_int(name, s, low=1, owner=owner) for s in size
        )
    if isinstance(size, (list, tuple)):
        expected = "an integer >= 1 or a pair (height, width)"
        raise _validation.invalid(name, expected, size, owner=owner)
    side = _validation.check_int(name, size, low=1, owner=owner)
    return side, side


def _check_channels(channels, owner):
    channels = _validation.check_int("channels", channels, low=1, owner=owner)
    if channels not in (1, 3):
        raise _validation.invalid("channels", "1 or 3", channels, owner=owner)
    return channels


def _check_contents(contents, owner):
    """Encoded image bytes as a scalar ``tf.string`` tensor."""
    expected = "encoded image bytes (a scalar string)"
    if isinstance(contents, (str, bytes)):
        return tf.constant(contents, tf.string)
    if not isinstance(contents, tf.Tensor) or contents.dtype != tf.string:
        raise _validation.invalid(
            "contents", expected, contents, owner=owner, error=TypeError
        )
    if contents.shape.rank not in (None, 0):
        raise _validation.invalid(
            "contents", expected, contents.shape, owner=owner
        )
    return contents


def _decoded(contents, decode, owner):
    """``decode()``; eagerly, undecodable ``contents`` raise ValueError."""
    if not tf.executing_eagerly():
        return decode()
    try:
        return decode()
    except tf.errors.InvalidArgumentError as error:
        head = contents.numpy()[:16]
        expected = "encoded image bytes (JPEG, PNG, GIF or BMP)"
        raise _validation.invalid(
            "contents", expected, head, owner=owner
        ) from error


def resize_size(size, crop_fraction):
    """The shorter side before the evaluation crop: ``min(size) / f``.

    Rounded down, as timm's ``crop_pct`` (256 for 224 and 0.875).

    Example:
    >>> resize_size((224, 224), 0.875)
    256
    """
    return int(math.floor(min(size) / crop_fraction + 1e-6))


def _center_axis(length, resized, crop, antialias):
    """One axis of `center_crop_geometry`: window and resampling."""
    # torchvision's CenterCrop: the offset rounded half to even; a crop
    # larger than the image is padded with zeros, half before it.
    inside = tf.round(tf.cast(resized - crop, tf.float64) / 2.0)
    offset = tf.where(
        crop > resized, -((crop - resized) // 2), tf.cast(inside, tf.int64)
    )
    length_f = tf.cast(length, tf.float64)
    offset_f = tf.cast(offset, tf.float64)
    step = length_f / tf.cast(resized, tf.float64)  # Input pixels per pixel.
    support = tf.maximum(step, 1.0) if antialias else tf.ones_like(step)
    first = (offset_f + 0.5) * step - support
    last = (offset_f + crop - 0.5) * step + support
    # One pixel of margin beyond the filter's support, inside the image.
    low = tf.clip_by_value(tf.floor(first) - 1.0, 0.0, length_f - 1.0)
    high = tf.clip_by_value(tf.math.ceil(last) + 1.0, low + 1.0, length_f)
    # Output pixel j samples the input at (offset + j + 0.5) * step, that
    # is (j + 0.5 - translation) / scale in the window.
    scale = 1.0 / step
    translation = low * scale - offset_f
    window = tf.cast(tf.stack([low, high - low]), tf.int32)
    return window, tf.cast(tf.stack([scale, translation]), tf.float32)


def center_crop_geometry(
    height, width, size, crop_fraction=0.875, antialias=True
):
    """torchvision's ``Resize`` + ``CenterCrop`` as one window to read.

    ``Resize(r)`` with ``r = resize_size(size, crop_fraction)`` makes the
    shorter side ``r`` and the longer ``int(r * long / short)``;
    ``CenterCrop(size)`` takes ``size`` at offset ``round((resized -
    size) / 2)`` (half to even), zeros around a crop larger than the
    image. Output pixel ``(i, j)`` is the resized image's pixel ``(top +
    i, left + j)``, whose centre lies at ``(top + i + 0.5) * height /
    resized_height`` in the input: this returns the input window that
    those pixels' filters read (the bilinear filter, its support scaled
    by the factor when ``antialias`` and shrinking) and the
    ``tf.raw_ops.ScaleAndTranslate`` arguments that resample it.

    Args:
        height: The image's height (an int or a scalar tensor).
        width: The image's width.
        size: The output ``(height, width)``.
        crop_fraction: ``min(size)`` over the resized shorter side.
        antialias: Whether the filter widens when shrinking.

    Returns:
        ``(window, scale, translation)``: int32 ``[y, x, crop_height,
        crop_width]``, float32 ``[scale_y, scale_x]`` and
        ``[translation_y, translation_x]``.

    Example:
    >>> window, scale, _ = center_crop_geometry(300, 400, (224, 224))
    >>> window.numpy().tolist()  # Resized to 256 x 341, crop at (16, 58).
    [17, 66, 266, 267]
    >>> round(float(scale[0]), 4)  # 256 / 300
    0.8533
    """
    resize = tf.constant(resize_size(size, crop_fraction), tf.int64)
    h = tf.cast(height, tf.int64)
    w = tf.cast(width, tf.int64)
    short, long = tf.minimum(h, w), tf.maximum(h, w)
    new_long = resize * long // short  # int(r * long / short), exactly.
    portrait = w <= h
    resized_h = tf.where(portrait, new_long, resize)
    resized_w = tf.where(portrait, resize, new_long)
    rows, y_resample = _center_axis(h, resized_h, size[0], antialias)
    cols, x_resample = _center_axis(w, resized_w, size[1], antialias)
    window = tf.stack([rows[0], cols[0], rows[1], cols[1]])
    scale = tf.stack([y_resample[0], x_resample[0]])
    translation = tf.stack([y_resample[1], x_resample[1]])
    return window, scale, translation


def _slice_window(image, window):
    """``image``'s window ``[y, x, height, width]`` (channels kept static)."""
    y, x, height, width = tf.unstack(tf.convert_to_tensor(window, tf.int32))
    return image[y : y + height, x : x + width]


def _as_input_dtype(out, dtype):
    """float32 ``out`` as uint8 (rounded, clipped) for uint8 input."""
    if dtype == tf.uint8:
        return tf.cast(tf.clip_by_value(tf.round(out), 0.0, 255.0), tf.uint8)
    return out


def _scale_and_translate(crop, size, scale, translation, antialias):
    """``tf.raw_ops.ScaleAndTranslate`` of one image (the bilinear filter).

    The kernel reads uint8 as it is: ``tf.image.resize`` converted the
    whole crop to float32 first (0.5 ms more per 300-pixel crop).
    """
    return tf.raw_ops.ScaleAndTranslate(
        images=crop[None],
        size=tf.constant(size, tf.int32),
        scale=scale,
        translation=translation,
        kernel_type="triangle",
        antialias=antialias,
    )[0]


def _resize(crop, size, antialias=True):
    """Bilinear resize, antialiased; uint8 kept uint8 (rounded).

    ``tf.image.resize``'s values: antialiased, its ``ScaleAndTranslate``
    with scale ``size / crop size``; else its ``ResizeBilinear``.
    """
    if antialias:
        scale = tf.constant(size, tf.float32) / tf.cast(
            tf.shape(crop)[:2], tf.float32
        )
        out = _scale_and_translate(crop, size, scale, tf.zeros([2]), True)
    else:
        out = tf.image.resize(crop, size, method="bilinear")
    return _as_input_dtype(out, crop.dtype)


def resized_crop(image, window, size, antialias=True):
    """Reads one window of an image and resizes it to ``size``.

    Only the window is read; the resize is torchvision's crop-then-resize
    (PIL's bilinear filter, half-pixel centres, the window's edge
    repeated outside it), antialiased when shrinking: the filter's
    support grows with the factor (``tf.image.resize(antialias=True)``).

    Args:
        image: ``(height, width, channels)``, uint8 or float.
        window: int32 ``[y, x, crop_height, crop_width]``
            (`RandomResizedCrop.window`).
        size: The output ``(height, width)``.
        antialias: Whether to low-pass filter when shrinking (else plain
            bilinear taps: faster, aliased).

    Returns:
        ``(size[0], size[1], channels)``: uint8 (rounded) for uint8
        input, else float32.

    Example:
    >>> import numpy as np
    >>> image = np.arange(16, dtype="uint8").reshape(4, 4, 1)
    >>> out = resized_crop(image, [1, 1, 2, 2], (2, 2))
    >>> out[..., 0].numpy().tolist()
    [[5, 6], [9, 10]]
    """
    image = tf.convert_to_tensor(image)
    if image.dtype != tf.uint8:
        image = tf.cast(image, tf.float32)
    return _resize(_slice_window(image, window), size, antialias)


def _decode_planned(contents, plan_fn, channels, dct_method=""):
    """Decodes ``plan_fn(height, width)[0]``, a window; ``(crop, plan)``.

    The size is read first (a JPEG's header; other formats decode whole),
    then the plan is made once, outside the two branches: made inside
    each, its graph was there twice, and every new iterator over the
    dataset (every epoch) instantiates all of it again.
    """
    is_jpeg = tf.io.is_jpeg(contents)

    def jpeg_size():
        size = tf.image.extract_jpeg_shape(contents)[:2]
        return tf.zeros([0, 0, channels], tf.uint8), size

    def decode_whole():
        image = tf.io.decode_image(
            contents, channels=channels, dtype=tf.uint8, expand_animations=False
        )
        return image, tf.shape(image)[:2]

    whole, size = tf.cond(is_jpeg, jpeg_size, decode_whole)
    plan = plan_fn(size[0], size[1])

    def jpeg():
        return tf.image.decode_and_crop_jpeg(
            contents, plan[0], channels=channels, dct_method=dct_method
        )

    crop = tf.cond(is_jpeg, jpeg, lambda: _slice_window(whole, plan[0]))
    crop.set_shape([None, None, channels])
    return crop, plan


def decode_window(contents, window_fn, channels, dct_method=""):
    """Decodes the window ``window_fn(height, width)`` of encoded bytes.

    JPEG decodes only the window (``dct_method`` as in
    ``tf.io.decode_jpeg``); other formats (PNG, BMP, GIF's first frame)
    decode whole, then slice.
    """
    crop, _ = _decode_planned(
        contents, lambda h, w: (window_fn(h, w),), channels, dct_method
    )
    return crop


def crop_image(op, images, seed, channels=3):
    """One example's crop: decoded (encoded input) or sliced, resized.

    Resized as ``op.antialias`` says (see `resized_crop`).
    """
    size = (op.height, op.width)
    if images.dtype == tf.string:
        crop = decode_window(
            images, lambda h, w: op.window(seed, h, w), channels
        )
        return _resize(crop, size, op.antialias)
    shape = tf.shape(images)
    window = op.window(seed, shape[0], shape[1])
    return resized_crop(images, window, size, op.antialias)


def decode_random_resized_crop(
    contents,
    size,
    seed,
    scale=(0.08, 1.0),
    ratio=(3.0 / 4.0, 4.0 / 3.0),
    channels=3,
    antialias=True,
):
    """Decodes a random resized crop of encoded bytes (JPEG: the window only).

    The window is drawn as `RandomResizedCrop` draws it (torchvision's
    algorithm), from the size ``tf.image.extract_jpeg_shape`` reads in
    the header; only that window is decoded
    (``tf.image.decode_and_crop_jpeg``), then resized as torchvision's
    ``RandomResizedCrop`` resizes (PIL's bilinear filter, antialiased
    when shrinking). Other formats are decoded whole, then cropped.

    Args:
        contents: A scalar ``tf.string``: the encoded image.
        size: The output size: an int or a pair ``(height, width)``.
        seed: A stateless seed (an int, a pair or a shape-(2,) tensor);
            the same seed gives the same crop.
        scale: ``(low, high)`` fraction of the image area, in (0, 1].
        ratio: ``(low, high)`` aspect ratios (width / height), > 0.
        channels: Channels to decode to (3: RGB, 1: grayscale).
        antialias: Whether to low-pass filter when shrinking (as
            torchvision's v2 transforms by default); False resizes with
            plain bilinear taps (faster, aliased).

    Returns:
        uint8 ``(height, width, channels)``.

    Example:
    >>> import numpy as np
    >>> import tensorflow as tf
    >>> from keras_regkit import augment as rka
    >>> jpeg = tf.io.encode_jpeg(np.zeros((60, 80, 3), "uint8"))
    >>> rka.decode_random_resized_crop(jpeg, 32, seed=0).shape
    TensorShape([32, 32, 3])
    >>> files = tf.data.Dataset.from_tensors(jpeg).repeat(4).enumerate()
    >>> crops = files.map(lambda i, j: rka.decode_random_resized_crop(
    ...     j, 32, seed=tf.stack([0, i])))
    >>> crops.batch(2).element_spec
    TensorSpec(shape=(None, 32, 32, 3), dtype=tf.uint8, name=None)
    """
    owner = "decode_random_resized_crop"
    size = _size_pair("size", size, owner)
    scale = checks.check_positive_pair("scale", scale, high=1.0, owner=owner)
    ratio = checks.check_positive_pair("ratio", ratio, owner=owner)
    channels = _check_channels(channels, owner)
    seed = sampling.as_seed(seed, owner)
    contents = _check_contents(contents, owner)
    antialias = _validation.check_bool("antialias", antialias, owner=owner)
    op = RandomResizedCrop(*size, scale=scale, ratio=ratio, antialias=antialias)
    return _decoded(
        contents, lambda: crop_image(op, contents, seed, channels), owner
    )


def decode_center_crop(
    contents, size, crop_fraction=0.875, channels=3, antialias=True
):
    """Decodes the evaluation crop of encoded bytes (JPEG: the window only).

    torchvision's evaluation transform on PIL images, ``Resize(r)`` +
    ``CenterCrop(size)`` with ``r = floor(min(size) / crop_fraction)``
    (256 and 224 for ImageNet), pixel for pixel: the same arithmetic
    (the longer side truncated, the offset rounded half to even), PIL's
    bilinear filter antialiased when shrinking, and JPEG decoded as PIL
    decodes it (libjpeg's accurate integer DCT). It reads only the window
    the crop's filters reach (`center_crop_geometry`) and resamples it
    once, never the whole resized image.

    Args:
        contents: A scalar ``tf.string``: the encoded image.
        size: The output size: an int or a pair ``(height, width)``.
        crop_fraction: ``min(size)`` over the resized shorter side, in
            (0, 1].
        channels: Channels to decode to (3: RGB, 1: grayscale).
        antialias: Whether to low-pass filter when shrinking (as
            torchvision's v2 ``Resize`` by default); False samples with
            plain bilinear taps (aliased: fine stripes stay stripes).

    Returns:
        uint8 ``(height, width, channels)``.

    Example:
    >>> import numpy as np
    >>> import tensorflow as tf
    >>> from keras_regkit import augment as rka
    >>> jpeg = tf.io.encode_jpeg(np.zeros((60, 80, 3), "uint8"))
    >>> rka.decode_center_crop(jpeg, (24, 32)).shape
    TensorShape([24, 32, 3])
    >>> crops = np.stack([rka.decode_center_crop(jpeg, (24, 32))] * 2)
    >>> rka.Pipeline([rka.RandomFlip()], seed=0).augment(crops, seed=1).shape
    TensorShape([2, 24, 32, 3])
    """
    owner = "decode_center_crop"
    size = _size_pair("size", size, owner)
    crop_fraction = _validation.check_float(
        "crop_fraction",
        crop_fraction,
        low=0.0,
        high=1.0,
        low_inclusive=False,
        owner=owner,
    )
    channels = _check_channels(channels, owner)
    antialias = _validation.check_bool("antialias", antialias, owner=owner)
    contents = _check_contents(contents, owner)

    def plan(height, width):
        return center_crop_geometry(
            height, width, size, crop_fraction, antialias
        )

    def decode():
        crop, (_, scale, translation) = _decode_planned(
            contents, plan, channels, ACCURATE_DCT
        )
        out = _scale_and_translate(crop, size, scale, translation, antialias)
        return _as_input_dtype(out, tf.uint8)

    return _decoded(contents, decode, owner)

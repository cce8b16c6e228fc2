"""Pure functions that crop and decode single images of any size.

* `crop_window` reads back the window a `RandomResizedCrop` draws for one
  image (its own ``sample``: the same draw as in a batch);
  `center_window` is the evaluation crop's window;
* `resized_crop` reads one window of a decoded image and resizes it;
  `decode_window` decodes only a window of encoded bytes (JPEG; other
  formats decode whole, then slice); `crop_image` is either, for one
  example and a `RandomResizedCrop`;
* `decode_random_resized_crop` and `decode_center_crop`: the training
  and evaluation crops of encoded images, as functions to map.

Reference:
    Szegedy et al., "Going deeper with convolutions", 2015 (random
    resized crop); the centre crop of 87.5% is the standard ImageNet
    evaluation transform (resize the shorter side to 256, crop 224).
"""

from __future__ import annotations

import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import checks
from keras_regkit.augment._core import sampling
from keras_regkit.augment.ops.geometry import RandomResizedCrop


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


def crop_window(op, seed, height, width):
    """The crop window a `RandomResizedCrop` draws for one image.

    The op's own ``sample`` (its area, aspect ratio and probability
    draws) read back as a window of whole pixels.

    Args:
        op: A `RandomResizedCrop`.
        seed: A stateless seed (an int, a pair or a shape-(2,) tensor).
        height: The image's height (an int or a scalar tensor).
        width: The image's width.

    Returns:
        int32 ``[y, x, crop_height, crop_width]``, inside the image.

    Example:
    >>> from keras_regkit import augment as rka
    >>> op = rka.RandomResizedCrop(8, 8, scale=(0.25, 0.25), ratio=(1, 1))
    >>> [int(v) for v in crop_window(op, 3, 40, 40)[2:]]
    [20, 20]
    """
    height = tf.cast(height, tf.float32)
    width = tf.cast(width, tf.float32)
    seed = sampling.as_seed(seed)
    matrix = op.sample(seed, 1, (height, width, 1))["matrix"][0]
    # The centred matrix is [[w / W, 0, cx], [0, h / H, cy]], cx the
    # crop's centre relative to the image's (see RandomResizedCrop).
    crop_w = tf.clip_by_value(tf.round(matrix[0, 0] * width), 1.0, width)
    crop_h = tf.clip_by_value(tf.round(matrix[1, 1] * height), 1.0, height)
    x = tf.round(matrix[0, 2] + (width - crop_w) / 2.0)
    y = tf.round(matrix[1, 2] + (height - crop_h) / 2.0)
    x = tf.clip_by_value(x, 0.0, width - crop_w)
    y = tf.clip_by_value(y, 0.0, height - crop_h)
    return tf.cast(tf.stack([y, x, crop_h, crop_w]), tf.int32)


def center_window(height, width, size, crop_fraction=0.875):
    """The evaluation crop: the centre, ``crop_fraction`` of the short side.

    The window that resizing the shorter side to ``min(size) /
    crop_fraction`` and cropping ``size`` at the centre reads (224 of 256
    for ImageNet).

    Args:
        height: The image's height (an int or a scalar tensor).
        width: The image's width.
        size: The output ``(height, width)``.
        crop_fraction: The fraction of the shorter side kept, in (0, 1].

    Returns:
        int32 ``[y, x, crop_height, crop_width]``.

    Example:
    >>> center_window(300, 400, (224, 224)).numpy().tolist()
    [19, 69, 262, 262]
    """
    h = tf.cast(height, tf.float32)
    w = tf.cast(width, tf.float32)
    scale = crop_fraction * tf.minimum(h, w) / float(min(size))
    crop_h = tf.clip_by_value(tf.round(size[0] * scale), 1.0, h)
    crop_w = tf.clip_by_value(tf.round(size[1] * scale), 1.0, w)
    y = tf.floor((h - crop_h) / 2.0)
    x = tf.floor((w - crop_w) / 2.0)
    return tf.cast(tf.stack([y, x, crop_h, crop_w]), tf.int32)


def _slice_window(image, window):
    """``image``'s window ``[y, x, height, width]`` (channels kept static)."""
    y, x, height, width = tf.unstack(tf.convert_to_tensor(window, tf.int32))
    return image[y : y + height, x : x + width]


def _resize(crop, size):
    """Bilinear resize (half-pixel centres), uint8 kept uint8 (rounded)."""
    out = tf.image.resize(crop, size, method="bilinear")
    if crop.dtype == tf.uint8:
        return tf.cast(tf.round(out), tf.uint8)
    return out


def resized_crop(image, window, size):
    """Reads one window of an image and resizes it to ``size``.

    Only the window is read; the resize is TensorFlow's bilinear one
    (half-pixel centres, the window's edge repeated outside it), as
    torchvision's crop-then-resize.

    Args:
        image: ``(height, width, channels)``, uint8 or float.
        window: int32 ``[y, x, crop_height, crop_width]`` (`crop_window`).
        size: The output ``(height, width)``.

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
    return _resize(_slice_window(image, window), size)


def decode_window(contents, window_fn, channels):
    """Decodes the window ``window_fn(height, width)`` of encoded bytes.

    JPEG decodes only the window; other formats (PNG, BMP, GIF's first
    frame) decode whole, then slice.
    """

    def jpeg():
        shape = tf.image.extract_jpeg_shape(contents)
        window = window_fn(shape[0], shape[1])
        return tf.image.decode_and_crop_jpeg(
            contents, window, channels=channels
        )

    def other():
        image = tf.io.decode_image(
            contents, channels=channels, dtype=tf.uint8, expand_animations=False
        )
        shape = tf.shape(image)
        return _slice_window(image, window_fn(shape[0], shape[1]))

    crop = tf.cond(tf.io.is_jpeg(contents), jpeg, other)
    crop.set_shape([None, None, channels])
    return crop


def crop_image(op, images, seed, channels=3):
    """One example's crop: decoded (encoded input) or sliced, resized."""
    size = (op.height, op.width)
    if images.dtype == tf.string:
        crop = decode_window(
            images, lambda h, w: crop_window(op, seed, h, w), channels
        )
        return _resize(crop, size)
    shape = tf.shape(images)
    window = crop_window(op, seed, shape[0], shape[1])
    return resized_crop(images, window, size)


def decode_random_resized_crop(
    contents,
    size,
    seed,
    scale=(0.08, 1.0),
    ratio=(3.0 / 4.0, 4.0 / 3.0),
    channels=3,
):
    """Decodes a random resized crop of encoded bytes (JPEG: the window only).

    The window is drawn as `RandomResizedCrop` draws it, from the size
    ``tf.image.extract_jpeg_shape`` reads in the header; only that window
    is decoded (``tf.image.decode_and_crop_jpeg``), then resized. Other
    formats are decoded whole, then cropped.

    Args:
        contents: A scalar ``tf.string``: the encoded image.
        size: The output size: an int or a pair ``(height, width)``.
        seed: A stateless seed (an int, a pair or a shape-(2,) tensor);
            the same seed gives the same crop.
        scale: ``(low, high)`` fraction of the image area, in (0, 1].
        ratio: ``(low, high)`` aspect ratios (width / height), > 0.
        channels: Channels to decode to (3: RGB, 1: grayscale).

    Returns:
        uint8 ``(height, width, channels)``.

    Example:
    >>> import numpy as np, tensorflow as tf
    >>> jpeg = tf.io.encode_jpeg(np.zeros((60, 80, 3), "uint8"))
    >>> decode_random_resized_crop(jpeg, 32, seed=0).shape
    TensorShape([32, 32, 3])
    """
    owner = "decode_random_resized_crop"
    size = _size_pair("size", size, owner)
    scale = checks.check_positive_pair("scale", scale, high=1.0, owner=owner)
    ratio = checks.check_positive_pair("ratio", ratio, owner=owner)
    channels = _check_channels(channels, owner)
    seed = sampling.as_seed(seed, owner)
    contents = _check_contents(contents, owner)
    op = RandomResizedCrop(*size, scale=scale, ratio=ratio)
    return _decoded(
        contents, lambda: crop_image(op, contents, seed, channels), owner
    )


def decode_center_crop(contents, size, crop_fraction=0.875, channels=3):
    """Decodes the evaluation crop of encoded bytes (JPEG: the window only).

    The standard ImageNet evaluation transform (resize the shorter side
    to ``min(size) / crop_fraction``, crop ``size`` at the centre) as one
    decode of the centre window (`center_window`) and one resize.

    Args:
        contents: A scalar ``tf.string``: the encoded image.
        size: The output size: an int or a pair ``(height, width)``.
        crop_fraction: The fraction of the shorter side kept, in (0, 1].
        channels: Channels to decode to (3: RGB, 1: grayscale).

    Returns:
        uint8 ``(height, width, channels)``.

    Example:
    >>> import numpy as np, tensorflow as tf
    >>> jpeg = tf.io.encode_jpeg(np.zeros((60, 80, 3), "uint8"))
    >>> decode_center_crop(jpeg, (24, 32)).shape
    TensorShape([24, 32, 3])
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
    contents = _check_contents(contents, owner)

    def window(height, width):
        return center_window(height, width, size, crop_fraction)

    def decode():
        return _resize(decode_window(contents, window, channels), size)

    return _decoded(contents, decode, owner)

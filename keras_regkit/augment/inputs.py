"""Images of any size and encoded images (JPEG): crop first, then batch.

A `Pipeline` augments batches, and a batch needs images of one size;
decoded datasets (ImageNet's JPEGs) come in every size. A pipeline whose
first op is `RandomResizedCrop` gives every image its output size, so it
can take them one by one:

* `augment_unbatched(pipeline, dataset, batch_size)`: an unbatched
  dataset of images of any size ``(height, width, channels)``, or of
  encoded images (scalar ``tf.string``: JPEG, PNG, ...). Each example gets
  its own crop window, sampled by the pipeline's `RandomResizedCrop`
  (its ``sample``: the same draw as in a batch), then only that window is
  read and resized to the output size (`resized_crop`); for JPEG only
  the window is decoded (``tf.image.decode_and_crop_jpeg``). The
  `RandomFlip` ops right after the crop flip each example too (a reversed
  copy of a small image); the other ops run batched after
  ``.batch(batch_size)``, as in any pipeline (`example_ops`,
  `rest_pipeline`);
* `augment_ragged(pipeline, data, seed)`: the same for one ragged batch
  (a ``tf.RaggedTensor`` of images);
* `decode_random_resized_crop` and `decode_center_crop`: the training
  and evaluation crops of encoded images, as functions to map.

Geometric ops after the crop (other than those flips) act on the crop at
its output size, resampled once more; in a pipeline of same-sized
batches they fuse with the crop into one resampling.

Nothing is padded: a pipeline that does not start with a
`RandomResizedCrop` raises a ValueError saying so
(``RandomResizedCrop(height, width, probability=0.0)`` only resizes).

Reproducibility is the pipeline's: per-example seeds come from
``tf.data.Dataset.random(pipeline.seed, rerandomize_each_iteration=
True)``, so the same seed gives identical batches in two runs and every
epoch gets fresh crops.

Reference:
    Szegedy et al., "Going deeper with convolutions", 2015 (random
    resized crop); the centre crop of 87.5% is the standard ImageNet
    evaluation transform (resize the shorter side to 256, crop 224).
"""

from __future__ import annotations

import weakref

import numpy as np
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment import _base
from keras_regkit.augment import structure
from keras_regkit.augment.geometry import RandomFlip
from keras_regkit.augment.geometry import RandomResizedCrop

# Examples per internal batch when `augment_unbatched` returns examples.
CHUNK = 32
# Dict keys the per-example crop carries (anything else would need a crop
# of its own: masks, boxes).
_KEYS = (structure.IMAGES_KEY, structure.LABELS_KEY, "sample_weights")
# The pipeline of the ops after the crop, one per pipeline.
_REST = weakref.WeakKeyDictionary()


def _pair(name, size, owner):
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


def _check_seed(seed, owner):
    """A stateless seed: an int, a pair of ints or an integer tensor of 2.

    Returns the shape-(2,) int64 seed.
    """
    expected = "an integer, a pair of integers or a shape-(2,) integer tensor"
    if isinstance(seed, (tf.Tensor, tf.Variable, np.ndarray)):
        size = tf.TensorShape(seed.shape).num_elements()
        if not tf.as_dtype(seed.dtype).is_integer or size not in (None, 2):
            raise _validation.invalid(
                "seed", expected, seed, owner=owner, error=TypeError
            )
        return _base.as_seed(seed)
    if isinstance(seed, (list, tuple)):
        if len(seed) != 2:
            raise _validation.invalid("seed", expected, seed, owner=owner)
        pair = [_validation.check_int("seed", s, owner=owner) for s in seed]
        return _base.as_seed(pair)
    return _base.as_seed(_validation.check_int("seed", seed, owner=owner))


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
    seed = _base.as_seed(seed)
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


def _slice(image, window):
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
    return _resize(_slice(image, window), size)


def _decode_window(contents, window_fn, channels):
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
        return _slice(image, window_fn(shape[0], shape[1]))

    crop = tf.cond(tf.io.is_jpeg(contents), jpeg, other)
    crop.set_shape([None, None, channels])
    return crop


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
    size = _pair("size", size, owner)
    scale = _base.check_positive_pair("scale", scale, high=1.0, owner=owner)
    ratio = _base.check_positive_pair("ratio", ratio, owner=owner)
    channels = _check_channels(channels, owner)
    seed = _check_seed(seed, owner)
    contents = _check_contents(contents, owner)
    op = RandomResizedCrop(*size, scale=scale, ratio=ratio)
    return _decoded(
        contents, lambda: _crop_images(op, contents, seed, channels), owner
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
    size = _pair("size", size, owner)
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
        return _resize(_decode_window(contents, window, channels), size)

    return _decoded(contents, decode, owner)


def _images_spec(element_spec):
    """The images' spec of an element (any structure `Pipeline` takes)."""
    images, _, _ = structure.unpack(element_spec)
    return images


def _shape(element_spec):
    """The images' shape of an element, for messages."""
    return tuple(_images_spec(element_spec).shape)


def is_unbatched(pipeline, element_spec):
    """Whether a dataset's elements are single images for this pipeline.

    True for an image pipeline (ops on ``(batch, height, width,
    channels)``) and elements whose images are ``(height, width,
    channels)`` or scalar strings (encoded images): the case
    `augment_unbatched` handles.

    Args:
        pipeline: A `Pipeline`.
        element_spec: A dataset's ``element_spec``.

    Example:
    >>> import tensorflow as tf
    >>> from keras_regkit import augment as rka
    >>> pipeline = rka.Pipeline([rka.RandomResizedCrop(8, 8)])
    >>> is_unbatched(pipeline, tf.TensorSpec([None, None, 3], tf.uint8))
    True
    >>> is_unbatched(pipeline, tf.TensorSpec([None, 8, 8, 3], tf.uint8))
    False
    """
    spec = _images_spec(element_spec)
    if not isinstance(spec, tf.TensorSpec):
        return False
    if spec.dtype == tf.string:
        return spec.shape.rank == 0
    ops = pipeline.ops
    images_only = all(4 in op.shapes for op in ops)
    rank3_batches = bool(ops) and all(3 in op.shapes for op in ops)
    return spec.shape.rank == 3 and images_only and not rank3_batches


def _check_crop_first(pipeline, name, value, expected="{}"):
    """The pipeline's leading `RandomResizedCrop`, or a ValueError.

    The error is for argument ``name`` with ``value``; ``expected`` words
    what is allowed around ``{}``, where the missing crop is named.
    """
    if pipeline.ops and isinstance(pipeline.ops[0], RandomResizedCrop):
        return pipeline.ops[0]
    found = (
        f"here it is {type(pipeline.ops[0]).__name__}"
        if pipeline.ops
        else "here there is none"
    )
    crop = (
        f"a pipeline whose first op is RandomResizedCrop ({found}; the "
        "crop gives every image the same size, nothing is padded; "
        "RandomResizedCrop(height, width, probability=0.0) only resizes)"
    )
    raise _validation.invalid(
        name, expected.format(crop), value, owner=pipeline
    )


def _check_pipeline(pipeline, owner):
    # Imported here: `pipeline.py` dispatches to this module.
    from keras_regkit.augment.pipeline import Pipeline

    expected = "a keras_regkit.augment.Pipeline"
    _validation.check_type(
        "pipeline", pipeline, Pipeline, expected, owner=owner
    )


def _check_keys(data, pipeline):
    if isinstance(data, dict):
        structure.check_keys(data, owner=pipeline)
        unknown = [key for key in data if key not in _KEYS]
        if unknown:
            expected = (
                "a dict with keys "
                + ", ".join(repr(k) for k in _KEYS)
                + f" (images of any size cannot carry {unknown[0]!r} yet)"
            )
            raise _validation.invalid(
                "data", expected, sorted(data), owner=pipeline
            )


def example_ops(pipeline):
    """The ops run per example: the leading crop and the flips after it.

    A flip of a crop is a reversed copy, cheaper on one small image than
    in the batch's resampling.

    Example:
    >>> from keras_regkit import augment as rka
    >>> p = rka.Pipeline([rka.RandomResizedCrop(8, 8), rka.RandomFlip(),
    ...                   rka.RandomContrast(0.2), rka.RandomFlip()])
    >>> [type(op).__name__ for op in example_ops(p)]
    ['RandomResizedCrop', 'RandomFlip']
    """
    count = 1
    while count < len(pipeline.ops) and isinstance(
        pipeline.ops[count], RandomFlip
    ):
        count += 1
    return pipeline.ops[:count]


def rest_pipeline(pipeline):
    """The pipeline of the ops after `example_ops` (same settings).

    Example:
    >>> from keras_regkit import augment as rka
    >>> p = rka.Pipeline([rka.RandomResizedCrop(8, 8), rka.RandomFlip(),
    ...                   rka.RandomContrast(0.2)])
    >>> rest_pipeline(p)
    Pipeline([RandomContrast(probability=1.0, factor=0.2)], seed=None)
    """
    rest = _REST.get(pipeline)
    if rest is None:
        config = pipeline.get_config()
        config["ops"] = list(pipeline.ops[len(example_ops(pipeline)) :])
        rest = _REST[pipeline] = type(pipeline).from_config(config)
    return rest


def _flip(image, op, seed):
    """One example's flips, as ``op`` draws them (its matrix read back)."""
    matrix = op.sample(seed, 1, (1, 1, 1))["matrix"][0]
    for axis, flipped in ((1, matrix[0, 0] < 0), (0, matrix[1, 1] < 0)):
        image = tf.cond(
            flipped,
            lambda image=image, axis=axis: tf.reverse(image, [axis]),
            lambda image=image: image,
        )
    return image


def _example(pipeline, images, seed):
    """One example through `example_ops`: cropped, resized, flipped."""
    crop, *flips = example_ops(pipeline)
    seeds = _base.split_seed(seed, 1 + len(flips))
    images = _crop_images(crop, images, seeds[0])
    for op, flip_seed in zip(flips, seeds[1:], strict=True):
        images = _flip(images, op, flip_seed)
    return images


def _crop_images(op, images, seed, channels=3):
    """One example's crop: decoded (encoded input) or sliced, resized."""
    size = (op.height, op.width)
    if images.dtype == tf.string:
        crop = _decode_window(
            images, lambda h, w: crop_window(op, seed, h, w), channels
        )
        return _resize(crop, size)
    shape = tf.shape(images)
    window = crop_window(op, seed, shape[0], shape[1])
    return resized_crop(images, window, size)


def augment_unbatched(pipeline, dataset, batch_size=None, drop_remainder=False):
    """Applies a pipeline to a dataset of single images of any size.

    Each example gets its own crop window from the pipeline's first op, a
    `RandomResizedCrop`; only that window is read (for JPEG bytes, only
    that window is decoded) and resized to the op's output size, and the
    `RandomFlip` ops right after it flip it. The other ops then run
    batched, as in `Pipeline`.

    Args:
        pipeline: A `Pipeline` whose first op is a `RandomResizedCrop`.
        dataset: An unbatched `tf.data.Dataset` in a structure the
            pipeline takes, whose images are ``(height, width, channels)``
            (uint8, or float in the pipeline's ``value_range``, any size)
            or scalar strings (encoded images, decoded as RGB).
        batch_size: The batch size of the returned dataset (the fast way:
            the ops after the crop run on whole batches); None returns
            single examples (augmented in internal batches of `CHUNK`),
            which a pipeline with mixing ops does not allow.
        drop_remainder: Whether to drop the last, smaller batch (with
            ``batch_size``).

    Returns:
        The augmented dataset: batched by ``batch_size``, or of single
        examples. Images float32 in [0, 1].

    Example:
    >>> import numpy as np, tensorflow as tf
    >>> from keras_regkit import augment as rka
    >>> pipeline = rka.Pipeline(
    ...     [rka.RandomResizedCrop(16, 16), rka.RandomFlip()], seed=0
    ... )
    >>> sizes = [(20, 30), (40, 24), (16, 16)]
    >>> ds = tf.data.Dataset.from_generator(
    ...     lambda: (np.zeros(s + (3,), "uint8") for s in sizes),
    ...     output_signature=tf.TensorSpec([None, None, 3], tf.uint8),
    ... )
    >>> augment_unbatched(pipeline, ds, batch_size=2).element_spec
    TensorSpec(shape=(None, 16, 16, 3), dtype=tf.float32, name=None)
    """
    _check_pipeline(pipeline, "augment_unbatched")
    _validation.check_type(
        "dataset", dataset, tf.data.Dataset, "a tf.data.Dataset", owner=pipeline
    )
    if batch_size is not None:
        batch_size = _validation.check_int(
            "batch_size", batch_size, low=1, owner=pipeline
        )
    _validation.check_bool("drop_remainder", drop_remainder, owner=pipeline)
    if drop_remainder and batch_size is None:
        expected = "False without batch_size (single examples are returned)"
        raise _validation.invalid(
            "drop_remainder", expected, drop_remainder, owner=pipeline
        )
    spec = dataset.element_spec
    _check_keys(spec, pipeline)
    if not is_unbatched(pipeline, spec):
        expected = (
            "unbatched images shaped (height, width, channels) or scalar "
            "strings (encoded images)"
        )
        raise _validation.invalid(
            "images", expected, _shape(spec), owner=pipeline
        )
    expected = (
        "a batch shaped (batch, height, width, channels) (batch the "
        "dataset first: dataset.batch(n)) or, for images of any size, {}"
    )
    _check_crop_first(pipeline, "images", _shape(spec), expected)
    if batch_size is None and pipeline.has_mixing:
        raise _validation.invalid(
            "batch_size",
            "a batch size for a pipeline with mixing ops (they mix a batch)",
            batch_size,
            owner=pipeline,
        )
    rest = rest_pipeline(pipeline)

    def crop(seed, data):
        images, labels, pack = structure.unpack(data, owner=pipeline)
        crop_seed, batch_seed = _base.split_seed(_base.as_seed(seed), 2)
        images = _example(pipeline, images, crop_seed)
        return batch_seed, pack(images, labels)

    def augment(seeds, data):
        # A batch's seed: its first example's (one stream, reproducible).
        return rest.augment(data, seeds[0])

    def convert(seed, data):
        images, labels, pack = structure.unpack(data, owner=pipeline)
        scaled = _base.to_float(images, pipeline.value_range, pipeline)
        return pack(scaled, labels)

    seeds = pipeline.seeds()  # One per example here.
    options = {"num_parallel_calls": tf.data.AUTOTUNE, "deterministic": True}
    out = tf.data.Dataset.zip((seeds, dataset)).map(crop, **options)
    if batch_size is None and not rest.ops:  # Nothing left to batch for.
        return out.map(convert, **options)
    out = out.batch(batch_size or CHUNK, drop_remainder=drop_remainder)
    out = out.map(augment, **options)
    return out if batch_size else out.unbatch()


def augment_ragged(pipeline, data, seed):
    """Augments one ragged batch: images of different sizes, cropped first.

    Each image gets its own window from the pipeline's first op, a
    `RandomResizedCrop` (`resized_crop`); the crops, now of one size, go
    through the other ops as a batch.

    Args:
        pipeline: A `Pipeline` whose first op is a `RandomResizedCrop`.
        data: A batch in a structure the pipeline takes, whose images are
            a ``tf.RaggedTensor`` ``(batch, None, None, channels)``.
        seed: An int, a pair of ints or a shape-(2,) integer tensor.

    Returns:
        The augmented batch, same structure; images float32 ``(batch,
        height, width, channels)`` in [0, 1].

    Example:
    >>> import numpy as np, tensorflow as tf
    >>> from keras_regkit import augment as rka
    >>> images = tf.ragged.stack(
    ...     [np.zeros((20, 30, 3), "uint8"), np.zeros((12, 9, 3), "uint8")]
    ... )
    >>> pipeline = rka.Pipeline([rka.RandomResizedCrop(8, 8)])
    >>> augment_ragged(pipeline, images, seed=1).shape
    TensorShape([2, 8, 8, 3])
    """
    _check_pipeline(pipeline, "augment_ragged")
    _check_keys(data, pipeline)
    names = [type(op).__name__ for op in pipeline.ops]
    op = _check_crop_first(pipeline, "ops", names, "{} for a ragged batch")
    images, labels, pack = structure.unpack(data, owner=pipeline)
    expected = (
        "a batch whose images are a tf.RaggedTensor shaped (batch, None, "
        "None, channels)"
    )
    if not isinstance(images, tf.RaggedTensor):
        raise _validation.invalid(
            "data",
            expected,
            type(images).__name__,
            owner=pipeline,
            error=TypeError,
        )
    if images.shape.rank != 4 or images.shape[-1] is None:
        raise _validation.invalid(
            "data", expected, tuple(images.shape), owner=pipeline
        )
    seed = _check_seed(seed, pipeline)
    crop_seed, batch_seed = _base.split_seed(seed, 2)
    batch = images.nrows(out_type=tf.int32)
    seeds = tf.random.experimental.stateless_split(crop_seed, num=batch)
    dtype = tf.uint8 if images.dtype == tf.uint8 else tf.float32

    def crop(args):
        image, example_seed = args
        if isinstance(image, tf.RaggedTensor):
            image = image.to_tensor()
        return _example(pipeline, image, example_seed)

    signature = tf.TensorSpec((op.height, op.width, images.shape[-1]), dtype)
    crops = tf.map_fn(crop, (images, seeds), fn_output_signature=signature)
    return rest_pipeline(pipeline).augment(pack(crops, labels), batch_seed)

"""Images of any size and encoded images (JPEG): crop first, then batch.

A batch needs images of one size; decoded datasets (ImageNet's JPEGs)
come in every size. A pipeline whose first op is `RandomResizedCrop`
gives every image its output size, so it can take them one by one. Its
ops split in two (`split_example_ops`, once, when the `Pipeline` is
built):

* the **per-example stage**: the leading `RandomResizedCrop`. Each
  example gets its own crop window, sampled by the op (its ``sample``:
  the same draw as in a batch); only that window is read and resized to
  the output size (`keras_regkit.augment.inputs.decode`; for JPEG only
  the window is decoded);
* the **batched stage**: the other ops, run on batches after
  ``.batch(batch_size)``, as in any pipeline; this module receives it as
  a function ``augment_batch(data, seed)``. Flips there are reversed
  copies (`keras_regkit.augment._core.resample.mirror`).

`augment_dataset` does this for an unbatched dataset (images
``(height, width, channels)`` of any size, or scalar ``tf.string``
encoded images), `augment_ragged_batch` for one ragged batch (a
``tf.RaggedTensor`` of images). Geometric ops after the crop act on the
crop at its output size, resampled once more (flips: reversed).

Nothing is padded: ops that do not start with a `RandomResizedCrop`
raise a ValueError saying so (``RandomResizedCrop(height, width,
probability=0.0)`` only resizes).

Reproducibility is the pipeline's: per-example seeds come from its seed
stream (``tf.data.Dataset.random(seed, rerandomize_each_iteration=
True)``), so the same seed gives identical batches in two runs and every
epoch gets fresh crops.

Files and bad files: scalar strings are encoded images or paths of
files read inside the pipeline, and a dict may name paths with a
``"paths"`` key (`keras_regkit.augment.inputs.files`); an example that
cannot be read or decoded stops the dataset with an error naming it, or
is dropped alone with a warning (``on_error``,
`keras_regkit.augment.inputs.guard`).
"""

from __future__ import annotations

import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import checks
from keras_regkit.augment._core import sampling
from keras_regkit.augment._core import structure
from keras_regkit.augment.inputs import decode
from keras_regkit.augment.inputs import files
from keras_regkit.augment.inputs import guard
from keras_regkit.augment.ops.resized_crop import RandomResizedCrop

# Examples per internal batch when single examples are returned.
CHUNK = 32


def split_example_ops(ops):
    """``(per_example, batched)``: the ops of the two stages.

    The per-example stage is the leading `RandomResizedCrop`; without a
    leading crop it is empty and every op is batched. Flips after the
    crop are batched: a batch's flips are reversed copies fused with what
    follows, where one example's cost some 70 graph operations (the
    draw, two conditionals).

    Example:
    >>> from keras_regkit import augment as rka
    >>> ops = [rka.RandomResizedCrop(8, 8), rka.RandomFlip(),
    ...        rka.RandomContrast(0.2)]
    >>> [[type(op).__name__ for op in part] for part in split_example_ops(ops)]
    [['RandomResizedCrop'], ['RandomFlip', 'RandomContrast']]
    """
    ops = list(ops)
    if not ops or not isinstance(ops[0], RandomResizedCrop):
        return [], ops
    return ops[:1], ops[1:]


def _images_spec(element_spec):
    """The images' spec of an element (any structure a pipeline takes).

    A dict's file paths (``"paths"``) stand for its images.
    """
    if isinstance(element_spec, dict) and structure.IMAGES_KEY not in (
        element_spec
    ):
        return element_spec.get(files.PATHS_KEY)
    images, _, _ = structure.unpack(element_spec)
    return images


def _shape(element_spec):
    """The images' shape of an element, for messages."""
    return tuple(_images_spec(element_spec).shape)


def is_unbatched(ops, element_spec):
    """Whether a dataset's elements are single images for these ops.

    True for image ops (on ``(batch, height, width, channels)``) and
    elements whose images are ``(height, width, channels)`` or scalar
    strings (encoded images, file paths): the case `augment_dataset`
    handles.

    Example:
    >>> import tensorflow as tf
    >>> from keras_regkit import augment as rka
    >>> ops = [rka.RandomResizedCrop(8, 8)]
    >>> is_unbatched(ops, tf.TensorSpec([None, None, 3], tf.uint8))
    True
    >>> is_unbatched(ops, tf.TensorSpec([None, 8, 8, 3], tf.uint8))
    False
    """
    spec = _images_spec(element_spec)
    if not isinstance(spec, tf.TensorSpec):
        return False
    if spec.dtype == tf.string:
        return spec.shape.rank == 0
    images_only = all(4 in op.shapes for op in ops)
    rank3_batches = bool(ops) and all(3 in op.shapes for op in ops)
    return spec.shape.rank == 3 and images_only and not rank3_batches


def check_crop_first(ops, name, value, owner, expected="{}"):
    """The leading `RandomResizedCrop` of ``ops``, or a ValueError.

    The error is for argument ``name`` with ``value``; ``expected`` words
    what is allowed around ``{}``, where the missing crop is named.
    """
    if ops and isinstance(ops[0], RandomResizedCrop):
        return ops[0]
    found = (
        f"here it is {type(ops[0]).__name__}" if ops else "here there is none"
    )
    crop = (
        f"a pipeline whose first op is RandomResizedCrop ({found}; the "
        "crop gives every image the same size, nothing is padded; "
        "RandomResizedCrop(height, width, probability=0.0) only resizes)"
    )
    raise _validation.invalid(name, expected.format(crop), value, owner=owner)


def augment_example(example_ops, image, seed, paths=False):
    """One example through the per-example stage: cropped and resized.

    Args:
        example_ops: `split_example_ops`'s first part (the crop).
        image: ``(height, width, channels)``, or a scalar string: encoded
            image bytes or a file's path (`files.read_contents`).
        seed: A shape-(2,) stateless seed.
        paths: Whether a string ``image`` is always a path (else told
            apart from bytes by its first bytes).

    Returns:
        The crop at the op's output size: uint8 for uint8 or encoded
        input, else float32.
    """
    (crop,) = example_ops
    if image.dtype == tf.string:
        image = files.read_contents(image, True if paths else None)
    return decode.crop_image(crop, image, seed)


def _check_dataset(ops, dataset, batch_size, drop_remainder, mixing, owner):
    """The checked ``batch_size``; raises for what cannot be cropped."""
    _validation.check_type(
        "dataset", dataset, tf.data.Dataset, "a tf.data.Dataset", owner=owner
    )
    if batch_size is not None:
        batch_size = _validation.check_int(
            "batch_size", batch_size, low=1, owner=owner
        )
    _validation.check_bool("drop_remainder", drop_remainder, owner=owner)
    if drop_remainder and batch_size is None:
        expected = "False without batch_size (single examples are returned)"
        raise _validation.invalid(
            "drop_remainder", expected, drop_remainder, owner=owner
        )
    spec = dataset.element_spec
    structure.check_keys(spec, owner, targets=False)
    if not is_unbatched(ops, spec):
        expected = (
            "unbatched images shaped (height, width, channels) or scalar "
            "strings (encoded images)"
        )
        raise _validation.invalid("images", expected, _shape(spec), owner=owner)
    expected = (
        "a batch shaped (batch, height, width, channels) (batch the "
        "dataset first: dataset.batch(n)) or, for images of any size, {}"
    )
    check_crop_first(ops, "images", _shape(spec), owner, expected)
    if batch_size is None and mixing:
        raise _validation.invalid(
            "batch_size",
            "a batch size for a pipeline with mixing ops (they mix a batch)",
            batch_size,
            owner=owner,
        )
    return batch_size


def augment_dataset(
    dataset,
    *,
    ops,
    example_ops,
    augment_batch,
    has_batched_ops,
    seeds,
    value_range,
    mixing,
    batch_size=None,
    drop_remainder=False,
    on_error="raise",
    owner=None,
):
    """Crops each example of a dataset, then batches the other ops.

    Args:
        dataset: An unbatched `tf.data.Dataset` whose images are
            ``(height, width, channels)`` (uint8, or float in
            ``value_range``, any size) or scalar strings (encoded images,
            decoded as RGB, or file paths), or dicts with a ``"paths"``
            key in place of ``"images"``.
        ops: All the ops (checked: a leading `RandomResizedCrop`).
        example_ops: The per-example stage (`split_example_ops`).
        augment_batch: ``augment_batch(data, seed)``, the batched stage
            (the other ops; with none it only converts the images).
        has_batched_ops: Whether the batched stage has ops (else single
            examples are only converted, not batched).
        seeds: A dataset of shape-(2,) seeds, one per example.
        value_range: The range of float input images.
        mixing: Whether the batched stage mixes examples (then a
            ``batch_size`` is needed).
        batch_size: The batch size of the returned dataset; None returns
            single examples (augmented in internal batches of `CHUNK`).
        drop_remainder: Whether to drop the last, smaller batch.
        on_error: ``"raise"`` or ``"skip"``: what an example whose string
            (encoded image or path) cannot be read or decoded does (see
            the module's docstring).
        owner: Named in error messages.

    Returns:
        The augmented dataset: batched by ``batch_size``, or of single
        examples. Images float32 in [0, 1].
    """
    dataset, paths = files.paths_as_images(dataset, owner)
    batch_size = _check_dataset(
        ops, dataset, batch_size, drop_remainder, mixing, owner
    )
    on_error = _validation.check_choice(
        "on_error", on_error, guard.ON_ERROR, owner=owner
    )

    def crop(seed, data):
        images, labels, pack = structure.unpack(data, owner=owner)
        crop_seed, batch_seed = sampling.split_seed(sampling.as_seed(seed), 2)
        images = augment_example(example_ops, images, crop_seed, paths)
        return batch_seed, pack(images, labels)

    def augment(seeds, data):
        # A batch's seed: its first example's (one stream, reproducible).
        return augment_batch(data, seeds[0])

    def convert(seed, data):
        images, labels, pack = structure.unpack(data, owner=owner)
        return pack(checks.to_float(images, value_range, owner), labels)

    options = {"num_parallel_calls": tf.data.AUTOTUNE, "deterministic": True}
    examples = tf.data.Dataset.zip((seeds, dataset))
    size = batch_size or CHUNK
    if _images_spec(dataset.element_spec).dtype == tf.string:
        chunks = guard.guarded(examples, crop, on_error, paths, owner)
        out = chunks.rebatch(size, drop_remainder=drop_remainder)
        if on_error == "raise":  # One output per example: a known length.
            out = _assert_batches(out, examples, size, drop_remainder)
    else:  # Decoded images: nothing to read, nothing to guard.
        out = examples.map(crop, **options)
        out = out.batch(size, drop_remainder=drop_remainder)
    out = out.map(augment if has_batched_ops else convert, **options)
    return out if batch_size else out.unbatch()


def _assert_batches(batches, examples, size, drop_remainder):
    """``batches`` with the length of ``examples`` batched by ``size``.

    ``rebatch`` does not know it; Keras's ``fit`` warns at every epoch's
    end for a dataset of unknown length.
    """
    length = int(examples.cardinality())
    if length < 0:
        return batches
    count = length // size if drop_remainder else -(-length // size)
    return batches.apply(tf.data.experimental.assert_cardinality(count))


def augment_ragged_batch(data, seed, *, ops, example_ops, augment_batch, owner):
    """Augments one ragged batch: each image cropped, then the batch.

    Args:
        data: A batch whose images are a ``tf.RaggedTensor`` ``(batch,
            None, None, channels)``.
        seed: A stateless seed (an int, a pair or a shape-(2,) tensor).
        ops: All the ops (checked: a leading `RandomResizedCrop`).
        example_ops: The per-example stage (`split_example_ops`).
        augment_batch: ``augment_batch(data, seed)``, the batched stage.
        owner: Named in error messages.

    Returns:
        The augmented batch, same structure; images float32 ``(batch,
        height, width, channels)`` in [0, 1].
    """
    structure.check_keys(data, owner, targets=False)
    names = [type(op).__name__ for op in ops]
    op = check_crop_first(ops, "ops", names, owner, "{} for a ragged batch")
    images, labels, pack = structure.unpack(data, owner=owner)
    expected = (
        "a batch whose images are a tf.RaggedTensor shaped (batch, None, "
        "None, channels)"
    )
    if not isinstance(images, tf.RaggedTensor):
        raise _validation.invalid(
            "data",
            expected,
            type(images).__name__,
            owner=owner,
            error=TypeError,
        )
    if images.shape.rank != 4 or images.shape[-1] is None:
        raise _validation.invalid(
            "data", expected, tuple(images.shape), owner=owner
        )
    seed = sampling.as_seed(seed, owner)
    crop_seed, batch_seed = sampling.split_seed(seed, 2)
    batch = images.nrows(out_type=tf.int32)
    seeds = tf.random.experimental.stateless_split(crop_seed, num=batch)
    dtype = tf.uint8 if images.dtype == tf.uint8 else tf.float32

    def crop(args):
        image, example_seed = args
        if isinstance(image, tf.RaggedTensor):
            image = image.to_tensor()
        return augment_example(example_ops, image, example_seed)

    signature = tf.TensorSpec((op.height, op.width, images.shape[-1]), dtype)
    crops = tf.map_fn(crop, (images, seeds), fn_output_signature=signature)
    return augment_batch(pack(crops, labels), batch_seed)

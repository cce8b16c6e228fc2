"""Batches through a chain of ops: checked, converted, sampled, compiled.

`BatchedRun` is what a `Pipeline` runs on a batch of one size, for all
its ops (a batched dataset) or for the ops after its per-example crop
(images of any size, `keras_regkit.augment.inputs.unbatched`): the
batch's structure (`keras_regkit.augment._core.structure`), checks of
shapes and targets, the conversion to float32 in [0, 1], the draw of
every op's parameters (outside XLA: Beta and Gamma samplers have no XLA
kernel) and the transforms as XLA-compiled functions where every op
allows it.
"""

from __future__ import annotations

import functools

import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import boxes as box_ops
from keras_regkit.augment._core import chain
from keras_regkit.augment._core import checks
from keras_regkit.augment._core import resample
from keras_regkit.augment._core import roles
from keras_regkit.augment._core import sampling
from keras_regkit.augment._core import structure
from keras_regkit.augment._core import targets as _targets


def data_shapes(ops, owner=None):
    """The input ranks every op accepts, with their shapes in words.

    Raises ValueError for ops of different kinds of data (an image op
    and a tabular one), naming both.
    """
    shapes = None
    for op in ops:
        if shapes is None:
            shapes, first = dict(op.shapes), op
            continue
        common = {r: d for r, d in shapes.items() if r in op.shapes}
        if not common:
            expected = (
                "ops for one kind of data (a batch shaped "
                + " or ".join(shapes.values())
                + f" for {type(first).__name__}, "
                + " or ".join(op.shapes.values())
                + f" for {type(op).__name__})"
            )
            names = [type(op).__name__ for op in ops]
            raise _validation.invalid("ops", expected, names, owner=owner)
        shapes = common
    return shapes or dict(roles.IMAGE_SHAPES)


class BatchedRun:
    """A list of ops applied to batches of one size.

    Args:
        ops: The ops, in order (validated by the owner).
        settings: Resampling settings (`resample.settings`).
        target_settings: `targets.settings`.
        value_range: ``[low, high]``, the range of float input images.
        use_xla: Whether to compile the transforms with XLA.
        owner: Named in error messages (the `Pipeline`).
    """

    def __init__(
        self, ops, settings, target_settings, value_range, use_xla, owner
    ):
        self.ops = list(ops)
        self.settings = settings
        self.target_settings = target_settings
        self.value_range = value_range
        self.use_xla = use_xla
        self.owner = owner
        self.shapes = data_shapes(self.ops, owner)
        self.views = self.ops[-1].views if self.ops else 1
        self.chain = chain.Chain(self.ops)
        # With XLA, each of the chain's segments is compiled on its own
        # when there are several (see `Chain.segments`).
        segments = self.chain.segments() if use_xla else []
        self._segment_fns = []
        if len(segments) > 1:
            self._segment_fns = [
                tf.function(
                    functools.partial(self._run_segment, start, stop),
                    jit_compile=True,
                )
                for start, stop in segments
            ]
        self._apply_fn = tf.function(
            self._apply, jit_compile=use_xla and not self._segment_fns
        )

    @property
    def has_mixing(self):
        """Whether an op mixes examples or multiplies the batch."""
        return any(
            isinstance(op, roles.BatchOp) or op.views > 1 for op in self.ops
        )

    def check_targets(self, targets, has_labels=False):
        """Raises ValueError for targets the ops cannot carry."""
        targets = tuple(targets)
        if (
            _targets.BOXES in targets
            and self.target_settings["box_format"] is None
        ):
            raise _validation.invalid(
                "bounding_box_format",
                f"one of {box_ops.FORMATS} for data with 'bounding_boxes'",
                None,
                owner=self.owner,
            )
        if targets and 4 not in self.shapes:
            raise _validation.invalid(
                "data",
                "images shaped (batch, height, width, channels) with "
                + ", ".join(repr(t) for t in targets),
                "ops for other data",
                owner=self.owner,
            )
        self.chain.check_targets(targets, has_labels)

    def validate(self, images_spec, labels_spec=None, targets=()):
        """Raises ValueError for inputs the ops cannot handle."""
        shape = self.check_images(images_spec)
        self.check_targets(targets, labels_spec is not None)
        self.chain.validate(shape, labels_spec is not None, labels_spec)

    def check_images(self, images_spec):
        """The images' static shape; raises for images no op takes."""
        owner = self.owner
        shape = tuple(images_spec.shape)
        if len(shape) not in self.shapes:
            hint = (
                "; batch the dataset first (dataset.batch(n))"
                if len(shape) + 1 in self.shapes
                else ""
            )
            expected = " or ".join(
                self.shapes[rank] for rank in sorted(self.shapes)
            )
            raise _validation.invalid(
                "images", f"a batch shaped {expected}{hint}", shape, owner=owner
            )
        dtype = tf.as_dtype(images_spec.dtype)
        if dtype != tf.uint8 and not dtype.is_floating:
            raise _validation.invalid(
                "images", "uint8 or floating images", dtype.name, owner=owner
            )
        if shape[-1] is None:
            raise _validation.invalid(
                "images", "a known number of channels", shape, owner=owner
            )
        return shape

    def to_float(self, images):
        """Images as the ops take them: float32 in [0, 1] (`Pipeline`)."""
        images = tf.convert_to_tensor(images)
        rank = images.shape.rank
        # Only images: spectrograms, series and tables have other ranges.
        is_images = rank == 4 and self.shapes.get(4) == roles.IMAGE_SHAPES[4]
        value_range = self.value_range if is_images else None
        return checks.to_float(images, value_range, owner=self.owner)

    def sample(self, seed, batch_size, image_shape):
        """Draws every op's parameters for a batch (outside XLA)."""
        seed = sampling.as_seed(seed, self.owner)
        return self.chain.sample(seed, batch_size, image_shape)

    def _run(self, images, labels, targets, params, start=0, stop=None):
        return self.chain.run_targets(
            images,
            labels,
            targets,
            params,
            self.settings,
            self.target_settings,
            start=start,
            stop=stop,
        )

    def _run_segment(self, start, stop, images, labels, params, targets=None):
        return self._run(images, labels, targets, params, start, stop)

    def _apply(self, images, labels, params, targets=None):
        # uint8 stays uint8 until a geometric first stage has resampled it
        # (or the first other stage needs floats): less memory to move.
        if images.dtype != tf.uint8:
            images = checks.to_float(images)
        if not self._segment_fns:
            return self._run(images, labels, targets, params)
        for segment_fn in self._segment_fns:
            images, labels, targets = segment_fn(
                images, labels, params, targets
            )
        return images, labels, targets

    def augment(self, data, seed):
        """Augments one batch of dense images with a given seed.

        Args:
            data: A batch, in any structure `structure.unpack` takes.
            seed: An int, a pair of ints or a shape-(2,) integer tensor.

        Returns:
            The augmented batch, in the same structure.
        """
        images, labels, pack = structure.unpack(data, self.views, self.owner)
        raw_targets = structure.targets_of(data)
        images = tf.convert_to_tensor(images)
        if labels is not None:
            labels = tf.convert_to_tensor(labels)
        self.validate(images, labels, tuple(raw_targets))
        # Values are checked here, outside XLA (which drops assertions).
        if images.dtype != tf.uint8:
            images = self.to_float(images)
        for op in self.ops:
            if labels is not None and isinstance(op, roles.BatchOp):
                labels = op.checked_labels(labels)
        dynamic = tf.shape(images)
        dims = [
            size if size is not None else dynamic[i]
            for i, size in enumerate(images.shape)
        ]
        targets, decode = None, None
        if raw_targets:
            targets, decode = _targets.encode(
                raw_targets, dims[1], dims[2], self.target_settings, self.owner
            )
        params = self.sample(seed, dims[0], tuple(dims[1:]))
        images, labels, targets = self._apply_fn(
            images, labels, params, targets
        )
        if decode is None:
            return pack(images, labels)
        height, width = self.chain.output_size(dims[1], dims[2])
        return pack(images, labels, decode(targets, height, width))

    def convert(self, images):
        """Images converted and resized to the output size, not augmented."""
        images = tf.convert_to_tensor(images)
        shape = self.check_images(images)
        self.chain.validate(shape)
        images = self.to_float(images)
        if images.shape.rank != 4:
            return images
        height, width = images.shape[1], images.shape[2]
        size = self.chain.output_size(height, width)
        if size != (height, width):
            batch = tf.shape(images)[0]
            eye = tf.eye(3, batch_shape=[batch])
            matrix = resample.to_pixels(eye, (height, width), size)
            images = resample.resample(images, matrix, size, **self.settings)
        return images

"""Pipeline: batched, fused, reproducible augmentation of a tf.data dataset.

A `Pipeline` lists ops (`keras_regkit.augment.ops`, ``.compose``) and
applies them to batches: each example gets its own parameters, drawn for
the whole batch from a per-batch seed (``tf.data.Dataset.random(seed,
rerandomize_each_iteration=True)``: the same ``seed`` gives identical
batches in two runs, every epoch fresh ones); consecutive geometric ops
are resampled once; the transforms run XLA-compiled where every op allows
it.

Input and output structures: images; ``(images, labels[,
sample_weights])``; or a dict with ``"images"`` and any of ``"labels"``,
``"segmentation_masks"``, ``"bounding_boxes"`` and ``"keypoints"``
(Keras 3's convention, plus keypoints). Spectrograms, time series and
tabular rows go through the same pipeline with their own ops.

A pipeline splits its ops once, when built: all of them run on batches
of one size; for images of any
size, a leading `RandomResizedCrop` runs per example and the other ops
on batches after it
(`keras_regkit.augment.inputs.unbatched`).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import batched
from keras_regkit.augment._core import boxes as box_ops
from keras_regkit.augment._core import chain
from keras_regkit.augment._core import checks
from keras_regkit.augment._core import resample
from keras_regkit.augment._core import structure
from keras_regkit.augment._core import targets as _targets
from keras_regkit.augment.inputs import unbatched


@keras.saving.register_keras_serializable(package="keras_regkit")
class Pipeline:
    """Augments batches: per-example random ops, fused geometry, seeded.

    The ops run as one chain (``.chain``), as every composite's children
    do; the pipeline adds the batch's structure, per-batch seeds, the
    conversion to float32, the resampling settings and XLA.

    Args:
        ops: The ops, applied in order (`keras_regkit.augment` ops, or
            their serialized configs). Consecutive geometric ops are fused
            into one resampling.
        seed: An integer for reproducible augmentation, or None.
        fill_mode: How geometric ops fill points outside the image:
            ``"constant"``, ``"reflect"`` or ``"nearest"``.
        fill_value: The value for ``"constant"``, in [0, 1].
        interpolation: ``"bilinear"`` or ``"nearest"``.
        jit_compile: ``"auto"`` (XLA when every op supports it), True or
            False (a Python bool: ``1`` or ``0.0`` raise TypeError).
        bounding_box_format: The format of ``"bounding_boxes"`` in the
            data, in and out (Keras's names: ``"xyxy"``, ``"yxyx"``,
            ``"xywh"``, ``"center_xywh"``, ``"center_yxhw"`` and the
            relative ``"rel_xyxy"``, ``"rel_yxyx"``, ``"rel_xywh"``,
            ``"rel_center_xywh"``), or None for data without boxes.
        mask_fill_value: The value of segmentation masks where a
            geometric op reads outside the image (``fill_mode=
            "constant"``): 0 (background, as Keras's layers) by default;
            255 is a common "ignore" class.
        bounding_box_min_visibility: A box of which less than this
            fraction of its (transformed) area stays inside the image is
            removed (label -1), in [0, 1]; at 0 only boxes entirely
            outside are.
        value_range: ``(low, high)``, the range of float input images,
            mapped to [0, 1] as ``(x - low) / (high - low)``: ``(0, 1)``
            (the default) takes them as they are, ``(0, 255)`` for
            unnormalized float images, ``(-1, 1)`` for images scaled to
            it. A float batch with a value more than ``RANGE_TOLERANCE``
            of the range outside it raises ValueError (a forgotten
            ``/ 255``): photometric ops clip to [0, 1], so such images
            would come back saturated. uint8 images are always read as
            [0, 255]. Only batches of images are checked (not
            spectrograms, series or tables).

    Call arguments:
        dataset: A batched `tf.data.Dataset`; returns the augmented
            dataset (mapped with ``num_parallel_calls=AUTOTUNE``, in
            order). An unbatched one (images of any size, or encoded
            image bytes) needs a leading `RandomResizedCrop` and goes
            through `augment_unbatched`.
        batch_size: For an unbatched dataset, the batch size after the
            crop (None returns single examples); must be None for a
            batched one.
        on_error: For an unbatched dataset of strings (encoded images,
            file paths), what an example that cannot be read or decoded
            does: ``"raise"`` stops with an error naming it (position,
            path) and what is wrong; ``"skip"`` drops it alone, with a
            warning counting the skipped examples of this pass.
        prefetch: Whether the result ends with
            ``prefetch(tf.data.AUTOTUNE)`` (False: add it yourself).

    Example:
    >>> import numpy as np, tensorflow as tf
    >>> from keras_regkit import augment as rka
    >>> pipeline = rka.Pipeline(
    ...     [rka.RandomFlip(), rka.RandomRotation(0.05)], seed=42
    ... )
    >>> x = np.zeros((8, 32, 24, 3), "uint8")
    >>> y = np.arange(8)
    >>> ds = pipeline(tf.data.Dataset.from_tensor_slices((x, y)).batch(4))
    >>> ds.element_spec[0]
    TensorSpec(shape=(None, 32, 24, 3), dtype=tf.float32, name=None)

    Masks and boxes move with the images:

    >>> flip = rka.Pipeline([rka.RandomFlip(probability=1.0)],
    ...                     bounding_box_format="xyxy")
    >>> data = {"images": np.zeros((1, 4, 8, 3), "uint8"),
    ...         "segmentation_masks": np.eye(4, 8, dtype="int32")[None],
    ...         "bounding_boxes": {"boxes": np.array([[[0.0, 0, 2, 1]]]),
    ...                            "labels": np.array([[7]])}}
    >>> out = flip.augment(data, seed=0)
    >>> out["segmentation_masks"][0, 0].numpy().tolist()
    [0, 0, 0, 0, 0, 0, 0, 1]
    >>> out["bounding_boxes"]["boxes"].numpy().tolist()
    [[[6.0, 0.0, 8.0, 1.0]]]
    """

    def __init__(
        self,
        ops,
        seed=None,
        fill_mode="constant",
        fill_value=0.0,
        interpolation="bilinear",
        jit_compile="auto",
        bounding_box_format=None,
        mask_fill_value=0,
        bounding_box_min_visibility=0.0,
        value_range=(0.0, 1.0),
    ):
        self.ops = chain.deserialize_ops(ops, self)
        self.value_range = checks.check_value_range(value_range, self)
        if bounding_box_format is not None:
            bounding_box_format = _validation.check_choice(
                "bounding_box_format",
                bounding_box_format,
                box_ops.FORMATS,
                owner=self,
            )
        self.bounding_box_format = bounding_box_format
        fill = _validation.check_float(
            "mask_fill_value", mask_fill_value, owner=self
        )
        self.mask_fill_value = int(fill) if fill.is_integer() else fill
        self.bounding_box_min_visibility = _validation.check_float(
            "bounding_box_min_visibility",
            bounding_box_min_visibility,
            low=0.0,
            high=1.0,
            owner=self,
        )
        self.target_settings = _targets.settings(
            mask_fill_value=self.mask_fill_value,
            min_visibility=self.bounding_box_min_visibility,
            box_format=self.bounding_box_format,
        )
        if seed is not None:
            seed = _validation.check_int("seed", seed, owner=self)
        self.seed = seed
        self.fill_mode = _validation.check_choice(
            "fill_mode", fill_mode, resample.FILL_MODES, owner=self
        )
        self.fill_value = _validation.check_float(
            "fill_value", fill_value, low=0.0, high=1.0, owner=self
        )
        self.interpolation = _validation.check_choice(
            "interpolation", interpolation, resample.INTERPOLATIONS, owner=self
        )
        if isinstance(jit_compile, str):
            choices = ("auto", True, False)
            _validation.check_choice(
                "jit_compile", jit_compile, choices, owner=self
            )
        else:
            _validation.check_bool("jit_compile", jit_compile, owner=self)
        self.jit_compile = jit_compile
        unsupported = [op for op in self.ops if not op.supports_xla]
        if jit_compile is True and unsupported:
            expected = (
                "'auto' or False with ops XLA cannot compile "
                f"({type(unsupported[0]).__name__})"
            )
            raise _validation.invalid(
                "jit_compile", expected, jit_compile, owner=self
            )
        self.use_xla = jit_compile is True or (
            jit_compile == "auto" and not unsupported
        )
        self.settings = resample.settings(
            interpolation=self.interpolation,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            gather=self.use_xla,
        )
        # Split once: every op for batches of one size; for images of any
        # size, the per-example crop, then the other ops batched.
        self._whole = self._batched_run(self.ops)
        last = [op for op in self.ops[:-1] if op.views > 1]
        if last:
            expected = (
                f"{type(last[0]).__name__} (which returns {last[0].views} "
                "views of each batch) as the last op"
            )
            names = [type(op).__name__ for op in self.ops]
            raise _validation.invalid("ops", expected, names, owner=self)
        self._example_ops, after_crop = unbatched.split_example_ops(self.ops)
        self._after_crop = (
            self._batched_run(after_crop) if self._example_ops else self._whole
        )
        self.views = self._whole.views
        self.chain = self._whole.chain

    def _batched_run(self, ops):
        return batched.BatchedRun(
            ops,
            self.settings,
            self.target_settings,
            self.value_range,
            self.use_xla,
            owner=self,
        )

    @property
    def has_mixing(self):
        """Whether an op mixes examples or multiplies the batch.

        Such a pipeline changes labels or the batch size, so it cannot
        run inside a model (`AugmentationLayer`) or for test-time
        augmentation.
        """
        return self._whole.has_mixing

    def output_size(self, height, width):
        """The images' ``(height, width)`` after the pipeline."""
        return self.chain.output_size(height, width)

    def check_targets(self, targets, has_labels=False):
        """Raises ValueError for targets the pipeline cannot carry.

        Called when a dataset is mapped (from its element spec) and for
        every batch: an op that cannot keep a target consistent with its
        images raises, naming itself and the target; boxes need
        ``bounding_box_format``.

        Args:
            targets: The names of the targets the data carries.
            has_labels: Whether the data carries image labels.
        """
        self._whole.check_targets(targets, has_labels)

    def validate(self, images_spec, labels_spec=None, targets=()):
        """Raises ValueError for inputs the pipeline cannot handle.

        Args:
            images_spec: The images' tensor or `tf.TensorSpec`.
            labels_spec: The labels' tensor or spec, or None.
            targets: The names of the targets the data carries (see
                `check_targets`).
        """
        self._whole.validate(images_spec, labels_spec, targets)

    def to_float(self, images):
        """Images as the ops take them: float32 in [0, 1].

        uint8 images are scaled by 1 / 255, float images mapped from
        ``value_range``; a batch of float images beyond it raises
        ValueError (in a graph: a failed `tf.debugging` assertion with
        the same message).

        Example:
        >>> import numpy as np
        >>> from keras_regkit import augment as rka
        >>> x = np.array([0.0, 255.0], "float32").reshape(1, 1, 2, 1)
        >>> pipeline = rka.Pipeline([], value_range=(0, 255))
        >>> pipeline.to_float(x).numpy().ravel().tolist()
        [0.0, 1.0]
        """
        return self._whole.to_float(images)

    def sample(self, seed, batch_size, image_shape):
        """Draws every op's parameters for a batch (outside XLA).

        Args:
            seed: A shape-(2,) seed, an int or a pair.
            batch_size: The number of examples.
            image_shape: The shape of one example: ``(height, width,
                channels)`` for images.

        Returns:
            A list of parameter dicts, one per stage of the chain.
        """
        return self._whole.sample(seed, batch_size, image_shape)

    def augment(self, data, seed):
        """Augments one batch with a given seed (a pure function of both).

        Ragged images (of several sizes): see `augment_ragged`.

        Args:
            data: A batch, in any structure the pipeline accepts.
            seed: An int, a pair of ints or a shape-(2,) integer tensor.

        Returns:
            The augmented batch, in the same structure.

        Example:
        >>> import numpy as np
        >>> from keras_regkit import augment as rka
        >>> x = np.full((2, 4, 6, 1), 255, "uint8")
        >>> out = rka.Pipeline([rka.RandomFlip()]).augment(x, seed=3)
        >>> out.dtype.name, float(out.numpy().min())
        ('float32', 1.0)
        """
        images, _, _ = structure.unpack(data, self.views, self)
        if isinstance(images, tf.RaggedTensor):
            return self._augment_ragged(data, seed)
        return self._whole.augment(data, seed)

    def _augment_ragged(self, data, seed):
        return unbatched.augment_ragged_batch(
            data,
            seed,
            ops=self.ops,
            example_ops=self._example_ops,
            augment_batch=self._after_crop.augment,
            owner=self,
        )

    def _augment_unbatched(
        self, dataset, batch_size, drop_remainder, on_error="raise"
    ):
        return unbatched.augment_dataset(
            dataset,
            ops=self.ops,
            example_ops=self._example_ops,
            augment_batch=self._after_crop.augment,
            has_batched_ops=bool(self._after_crop.ops),
            seeds=self.seeds(),
            value_range=self.value_range,
            mixing=self.has_mixing,
            batch_size=batch_size,
            drop_remainder=drop_remainder,
            on_error=on_error,
            owner=self,
        )

    def map_fn(self, seed, data):
        """The function to map over ``zip(pipeline.seeds(), dataset)``."""
        return self.augment(data, seed)

    def seeds(self):
        """Per-batch seeds: fresh each epoch, reproducible given ``seed``."""
        return tf.data.Dataset.random(
            seed=self.seed, rerandomize_each_iteration=True
        ).batch(2)

    def __call__(
        self, dataset, batch_size=None, on_error="raise", prefetch=True
    ):
        _validation.check_type(
            "dataset",
            dataset,
            tf.data.Dataset,
            "a batched tf.data.Dataset",
            owner=self,
        )
        prefetch = _validation.check_bool("prefetch", prefetch, owner=self)
        out = self._map(dataset, batch_size, on_error)
        return out.prefetch(tf.data.AUTOTUNE) if prefetch else out

    def _map(self, dataset, batch_size, on_error):
        """`__call__` without its final prefetch."""
        if unbatched.is_unbatched(self.ops, dataset.element_spec):
            return self._augment_unbatched(dataset, batch_size, False, on_error)
        if batch_size is not None:
            expected = "None for a batched dataset (it is batched already)"
            raise _validation.invalid(
                "batch_size", expected, batch_size, owner=self
            )
        if on_error != "raise":
            expected = (
                "'raise' for a batched dataset (on_error is for single "
                "images, read and decoded one by one)"
            )
            raise _validation.invalid(
                "on_error", expected, on_error, owner=self
            )
        spec = dataset.element_spec
        structure.check_keys(spec, owner=self)
        _, labels_spec, _ = structure.unpack(spec, owner=self)
        self.check_targets(structure.targets_of(spec), labels_spec is not None)
        zipped = tf.data.Dataset.zip((self.seeds(), dataset))
        return zipped.map(
            self.map_fn,
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )

    def convert(self, images):
        """Images as the pipeline outputs them, without augmentation.

        Images are converted as `to_float` does (uint8 scaled to [0, 1],
        float images mapped from ``value_range``, the same as `augment`)
        and, where a geometric op sets an output size
        (`RandomResizedCrop`), resized to it. Labels are not needed, even
        with mixing ops (nothing runs).

        Args:
            images: A batch ``(batch, height, width, channels)``.

        Returns:
            float32 images in [0, 1].
        """
        return self._whole.convert(images)

    def get_config(self):
        """Returns the pipeline's arguments, the ops serialized."""
        return {
            "ops": chain.serialize_ops(self.ops),
            "seed": self.seed,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "interpolation": self.interpolation,
            "jit_compile": self.jit_compile,
            "bounding_box_format": self.bounding_box_format,
            "mask_fill_value": self.mask_fill_value,
            "bounding_box_min_visibility": self.bounding_box_min_visibility,
            "value_range": list(self.value_range),
        }

    @classmethod
    def from_config(cls, config):
        """Rebuilds the pipeline from ``get_config``'s output."""
        return cls(**config)

    def __repr__(self):
        ops = ", ".join(repr(op) for op in self.ops)
        return f"Pipeline([{ops}], seed={self.seed})"

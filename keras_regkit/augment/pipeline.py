"""Pipeline: batched, fused, reproducible augmentation of a tf.data dataset.

A `Pipeline` lists ops (`keras_regkit.augment.geometry`, ``.color``,
``.occlusion``, ``.mixing``) and applies them to batches:

* each example gets its own random parameters, drawn for the whole batch
  at once with stateless random ops keyed by a per-batch seed; the seeds
  come from ``tf.data.Dataset.random(seed, rerandomize_each_iteration=
  True)`` zipped with the data, so the same ``seed`` gives bit-identical
  batches in two runs (with a parallel ``map``), and every epoch (every
  new iterator) gets fresh augmentation;
* consecutive geometric ops are multiplied into one 3x3 matrix per image
  and resampled once (`keras_regkit.augment._chain`, which composites
  share);
* the transforms run as one XLA-compiled function where every op allows
  it (the random draws stay outside: Beta and Gamma samplers have no XLA
  kernel).

Input: a batch of images, ``(images, labels)``, ``(images, labels,
sample_weights)`` or a dict with an ``"images"`` key (and ``"labels"``,
``"sample_weights"``, and the targets ``"segmentation_masks"``,
``"bounding_boxes"``, ``"keypoints"``, moved with the images: see
`keras_regkit.augment.targets`). Images are
``(batch, height, width, channels)``, uint8 in [0, 255] or float in [0,
1] (float images in another range, [0, 255] for one, need the
pipeline's ``value_range``: a float batch beyond it raises, eagerly or
as a failed `tf.debugging` assertion inside a dataset's ``map``).
Output images are float32 in [0, 1]; labels are passed through,
except that mixing ops return float32 soft labels. Spectrograms, time
series and tabular rows go through the same pipeline with their own ops
(`keras_regkit.augment.sequence`, ``.tabular``), shaped as those ops
state; the ops of one pipeline must accept the same shapes. Like every
TensorFlow op seed, the seed stream also depends on the global seed if
one is set (``keras.utils.set_random_seed``).
"""

from __future__ import annotations

import functools

import keras
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment import _base
from keras_regkit.augment import _chain
from keras_regkit.augment import _resample
from keras_regkit.augment import boxes as box_ops
from keras_regkit.augment import inputs
from keras_regkit.augment import structure
from keras_regkit.augment import targets as _targets

# Kept importable from here (the composites used to import them).
deserialize_ops = _chain.deserialize_ops
serialize_ops = _chain.serialize_ops
unpack = structure.unpack


@keras.saving.register_keras_serializable(package="keras_regkit")
class Pipeline:
    """Augments batches: per-example random ops, fused geometry, seeded.

    The ops run as one `keras_regkit.augment._chain.Chain` (``.chain``),
    the same one every composite op runs; the pipeline adds what a
    dataset needs around it: the batch's structure
    (`keras_regkit.augment.structure`), per-batch seeds, the conversion
    of uint8 to float32, the resampling settings and XLA.

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
            through `keras_regkit.augment.inputs.augment_unbatched`.
        batch_size: For an unbatched dataset, the batch size after the
            crop (None returns single examples); must be None for a
            batched one.

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
        self.ops = _chain.deserialize_ops(ops, self)
        self.value_range = _base.check_value_range(value_range, self)
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
            "fill_mode", fill_mode, _resample.FILL_MODES, owner=self
        )
        self.fill_value = _validation.check_float(
            "fill_value", fill_value, low=0.0, high=1.0, owner=self
        )
        self.interpolation = _validation.check_choice(
            "interpolation", interpolation, _resample.INTERPOLATIONS, owner=self
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
        self._shapes = self._data_shapes()
        last = [op for op in self.ops[:-1] if op.views > 1]
        if last:
            expected = (
                f"{type(last[0]).__name__} (which returns {last[0].views} "
                "views of each batch) as the last op"
            )
            names = [type(op).__name__ for op in self.ops]
            raise _validation.invalid("ops", expected, names, owner=self)
        self.views = self.ops[-1].views if self.ops else 1
        self.settings = _resample.settings(
            interpolation=self.interpolation,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            gather=self.use_xla,
        )
        self.chain = _chain.Chain(self.ops)
        # With XLA, each of the chain's segments is compiled on its own
        # when there are several (see `Chain.segments`).
        segments = self.chain.segments() if self.use_xla else []
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
            self._apply, jit_compile=self.use_xla and not self._segment_fns
        )

    def _data_shapes(self):
        """The input ranks every op accepts, with their shapes in words."""
        shapes = None
        for op in self.ops:
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
                names = [type(op).__name__ for op in self.ops]
                raise _validation.invalid("ops", expected, names, owner=self)
            shapes = common
        return shapes or dict(_base.IMAGE_SHAPES)

    @property
    def has_mixing(self):
        """Whether an op mixes examples or multiplies the batch.

        Such a pipeline changes labels or the batch size, so it cannot
        run inside a model (`AugmentationLayer`) or for test-time
        augmentation.
        """
        return any(
            isinstance(op, _base.BatchOp) or op.views > 1 for op in self.ops
        )

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
        targets = tuple(targets)
        if _targets.BOXES in targets and self.bounding_box_format is None:
            raise _validation.invalid(
                "bounding_box_format",
                f"one of {box_ops.FORMATS} for data with 'bounding_boxes'",
                None,
                owner=self,
            )
        if targets and 4 not in self._shapes:
            raise _validation.invalid(
                "data",
                "images shaped (batch, height, width, channels) with "
                + ", ".join(repr(t) for t in targets),
                "ops for other data",
                owner=self,
            )
        self.chain.check_targets(targets, has_labels)

    def validate(self, images_spec, labels_spec=None, targets=()):
        """Raises ValueError for inputs the pipeline cannot handle.

        Args:
            images_spec: The images' tensor or `tf.TensorSpec`.
            labels_spec: The labels' tensor or spec, or None.
            targets: The names of the targets the data carries (see
                `check_targets`).
        """
        shape = self._check_images(images_spec)
        self.check_targets(targets, labels_spec is not None)
        self.chain.validate(shape, labels_spec is not None, labels_spec)

    def _check_images(self, images_spec):
        """The images' static shape; raises for images no op takes."""
        shape = tuple(images_spec.shape)
        if len(shape) not in self._shapes:
            hint = (
                "; batch the dataset first (dataset.batch(n))"
                if len(shape) + 1 in self._shapes
                else ""
            )
            expected = " or ".join(
                self._shapes[rank] for rank in sorted(self._shapes)
            )
            raise _validation.invalid(
                "images", f"a batch shaped {expected}{hint}", shape, owner=self
            )
        dtype = tf.as_dtype(images_spec.dtype)
        if dtype != tf.uint8 and not dtype.is_floating:
            raise _validation.invalid(
                "images", "uint8 or floating images", dtype.name, owner=self
            )
        if shape[-1] is None:
            raise _validation.invalid(
                "images", "a known number of channels", shape, owner=self
            )
        return shape

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
        images = tf.convert_to_tensor(images)
        rank = images.shape.rank
        # Only images: spectrograms, series and tables have other ranges.
        is_images = rank == 4 and self._shapes.get(4) == _base.IMAGE_SHAPES[4]
        value_range = self.value_range if is_images else None
        return _base.to_float(images, value_range, owner=self)

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
        return self.chain.sample(_base.as_seed(seed), batch_size, image_shape)

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
            images = _base.to_float(images)
        if not self._segment_fns:
            return self._run(images, labels, targets, params)
        for segment_fn in self._segment_fns:
            images, labels, targets = segment_fn(
                images, labels, params, targets
            )
        return images, labels, targets

    def augment(self, data, seed):
        """Augments one batch with a given seed (a pure function of both).

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
        images, labels, pack = structure.unpack(data, self.views, self)
        if isinstance(images, tf.RaggedTensor):
            return inputs.augment_ragged(self, data, seed)
        raw_targets = structure.targets_of(data)
        images = tf.convert_to_tensor(images)
        if labels is not None:
            labels = tf.convert_to_tensor(labels)
        self.validate(images, labels, tuple(raw_targets))
        # Values are checked here, outside XLA (which drops assertions).
        if images.dtype != tf.uint8:
            images = self.to_float(images)
        for op in self.ops:
            if labels is not None and isinstance(op, _base.BatchOp):
                labels = op.checked_labels(labels)
        dynamic = tf.shape(images)
        dims = [
            size if size is not None else dynamic[i]
            for i, size in enumerate(images.shape)
        ]
        targets, decode = None, None
        if raw_targets:
            targets, decode = _targets.encode(
                raw_targets, dims[1], dims[2], self.target_settings, self
            )
        params = self.sample(seed, dims[0], tuple(dims[1:]))
        images, labels, targets = self._apply_fn(
            images, labels, params, targets
        )
        if decode is None:
            return pack(images, labels)
        height, width = self.output_size(dims[1], dims[2])
        return pack(images, labels, decode(targets, height, width))

    def map_fn(self, seed, data):
        """The function to map over ``zip(pipeline.seeds(), dataset)``."""
        return self.augment(data, seed)

    def seeds(self):
        """Per-batch seeds: fresh each epoch, reproducible given ``seed``."""
        return tf.data.Dataset.random(
            seed=self.seed, rerandomize_each_iteration=True
        ).batch(2)

    def __call__(self, dataset, batch_size=None):
        _validation.check_type(
            "dataset",
            dataset,
            tf.data.Dataset,
            "a batched tf.data.Dataset",
            owner=self,
        )
        if inputs.is_unbatched(self, dataset.element_spec):
            return inputs.augment_unbatched(self, dataset, batch_size)
        if batch_size is not None:
            expected = "None for a batched dataset (it is batched already)"
            raise _validation.invalid(
                "batch_size", expected, batch_size, owner=self
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
        images = tf.convert_to_tensor(images)
        shape = self._check_images(images)
        self.chain.validate(shape)
        images = self.to_float(images)
        if images.shape.rank != 4:
            return images
        height, width = images.shape[1], images.shape[2]
        size = self.output_size(height, width)
        if size != (height, width):
            batch = tf.shape(images)[0]
            eye = tf.eye(3, batch_shape=[batch])
            matrix = _resample.to_pixels(eye, (height, width), size)
            images = _resample.resample(images, matrix, size, **self.settings)
        return images

    def get_config(self):
        """Returns the pipeline's arguments, the ops serialized."""
        return {
            "ops": _chain.serialize_ops(self.ops),
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

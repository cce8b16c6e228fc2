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
  and resampled once;
* the transforms run as one XLA-compiled function where every op allows
  it (the random draws stay outside: Beta and Gamma samplers have no XLA
  kernel).

Input: a batch of images, ``(images, labels)``, ``(images, labels,
sample_weights)`` or a dict with an ``"images"`` key (and ``"labels"`` for
label-mixing ops). Images are ``(batch, height, width, channels)``, uint8
in [0, 255] or float in [0, 1]. Output images are float32 in [0, 1];
labels are passed through, except that mixing ops return float32 soft
labels. Spectrograms, time series and tabular rows go through the same
pipeline with their own ops (`keras_regkit.augment.sequence`,
``.tabular``), shaped as those ops state; the ops of one pipeline must
accept the same shapes. Like every TensorFlow op seed, the seed stream
also depends on the global seed if one is set
(``keras.utils.set_random_seed``).
"""

from __future__ import annotations

import copy

import keras
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment import _base
from keras_regkit.augment import _resample


def _deserialize_op(op, owner, name):
    if isinstance(op, dict):
        op = keras.saving.deserialize_keras_object(copy.deepcopy(op))
    if not isinstance(op, _base.Augmentation):
        raise _base.prefixed(
            owner,
            TypeError(
                _validation.error_message(
                    name, "a list of keras_regkit.augment ops", op
                )
            ),
        )
    return op


def deserialize_ops(ops, owner, name="ops"):
    """Turns a list of ops or of their serialized configs into ops."""
    if not isinstance(ops, (list, tuple)):
        raise _base.prefixed(
            owner,
            TypeError(
                _validation.error_message(
                    name, "a list of keras_regkit.augment ops", ops
                )
            ),
        )
    return [_deserialize_op(op, owner, name) for op in ops]


def serialize_ops(ops):
    """The ops' serialized configs (plain Python values)."""
    return [keras.saving.serialize_keras_object(op) for op in ops]


class _GeometryStage:
    """Consecutive geometric ops: one matrix product, one resampling."""

    kind = _base.GEOMETRY

    def __init__(self, ops, settings):
        self.ops = ops
        self.settings = settings

    def output_size(self, height, width):
        for op in self.ops:
            height, width = op.output_size(height, width)
        return height, width

    def sample(self, seeds, batch_size, image_shape):
        matrix = None
        for op, seed in zip(self.ops, seeds, strict=True):
            m = op.sample(seed, batch_size, image_shape)["matrix"]
            matrix = m if matrix is None else tf.linalg.matmul(matrix, m)
        size = self.output_size(image_shape[0], image_shape[1])
        matrix = _resample.to_pixels(matrix, image_shape[:2], size)
        return {"matrix": matrix}

    def apply(self, images, labels, params):
        height, width = images.shape[1], images.shape[2]
        size = self.output_size(height, width)
        if None in size:
            shape = tf.shape(images)
            size = self.output_size(shape[1], shape[2])
        images = _resample.resample(
            images, params["matrix"], size, **self.settings
        )
        return images, labels


class _OpStage:
    """One pixel or mixing op."""

    def __init__(self, op, settings):
        self.op = op
        self.kind = op.kind
        self.settings = settings

    def output_size(self, height, width):
        return height, width

    def sample(self, seeds, batch_size, image_shape):
        return self.op.sample(seeds[0], batch_size, image_shape)

    def apply(self, images, labels, params):
        if self.kind == _base.MIX:
            return self.op.mix(images, labels, params, self.settings)
        return self.op.transform(images, params, self.settings), labels


def _repeat(value, views):
    if views == 1:
        return value
    value = tf.convert_to_tensor(value)
    return tf.concat([value] * views, axis=0)


def unpack(data, views=1):
    """Splits a dataset element into images, labels and a repacking function.

    Args:
        data: Images; a tuple ``(images,)``, ``(images, labels)`` or
            ``(images, labels, sample_weights)``; or a dict with an
            ``"images"`` key and optionally ``"labels"``.
        views: How many times the pipeline multiplies the batch: the other
            entries (sample weights, extra dict keys) are repeated as
            many times along the batch axis.

    Returns:
        ``(images, labels, pack)`` where labels may be None and
        ``pack(images, labels)`` rebuilds the structure.
    """
    if isinstance(data, dict):
        if "images" not in data:
            raise ValueError(
                "Pipeline: "
                + _validation.error_message(
                    "data", "a dict with an 'images' key", sorted(data)
                )
            )
        rest = {
            key: _repeat(value, views)
            for key, value in data.items()
            if key not in ("images", "labels")
        }

        def pack_dict(images, labels):
            out = dict(rest)
            out["images"] = images
            if labels is not None:
                out["labels"] = labels
            return out

        return data["images"], data.get("labels"), pack_dict
    if isinstance(data, (tuple, list)):
        if not 1 <= len(data) <= 3:
            raise ValueError(
                "Pipeline: "
                + _validation.error_message(
                    "data",
                    "images, (images, labels) or (images, labels, "
                    "sample_weights)",
                    f"a tuple of {len(data)} elements",
                )
            )
        tail = tuple(_repeat(value, views) for value in data[2:])

        def pack_tuple(images, labels):
            if len(data) == 1:
                return (images,)
            return (images, labels) + tail

        labels = data[1] if len(data) > 1 else None
        return data[0], labels, pack_tuple
    return data, None, lambda images, labels: images


@keras.saving.register_keras_serializable(package="keras_regkit")
class Pipeline:
    """Augments batches: per-example random ops, fused geometry, seeded.

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
            False.

    Call arguments:
        dataset: A batched `tf.data.Dataset`; returns the augmented
            dataset (mapped with ``num_parallel_calls=AUTOTUNE``, in
            order).

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
    """

    def __init__(
        self,
        ops,
        seed=None,
        fill_mode="constant",
        fill_value=0.0,
        interpolation="bilinear",
        jit_compile="auto",
    ):
        self.ops = deserialize_ops(ops, self)
        if seed is not None:
            seed = _base.check(self, _validation.check_int, "seed", seed)
        self.seed = seed
        self.fill_mode = _base.check(
            self,
            _validation.check_choice,
            "fill_mode",
            fill_mode,
            choices=_resample.FILL_MODES,
        )
        self.fill_value = _base.check(
            self,
            _validation.check_float,
            "fill_value",
            fill_value,
            low=0.0,
            high=1.0,
        )
        self.interpolation = _base.check(
            self,
            _validation.check_choice,
            "interpolation",
            interpolation,
            choices=_resample.INTERPOLATIONS,
        )
        self.jit_compile = _base.check(
            self,
            _validation.check_choice,
            "jit_compile",
            jit_compile,
            choices=("auto", True, False),
        )
        unsupported = [op for op in self.ops if not op.supports_xla]
        if jit_compile is True and unsupported:
            raise ValueError(
                "Pipeline: "
                + _validation.error_message(
                    "jit_compile",
                    "'auto' or False with ops XLA cannot compile "
                    f"({type(unsupported[0]).__name__})",
                    jit_compile,
                )
            )
        self.use_xla = jit_compile is True or (
            jit_compile == "auto" and not unsupported
        )
        self._shapes = self._data_shapes()
        last = [op for op in self.ops[:-1] if op.views > 1]
        if last:
            raise ValueError(
                "Pipeline: "
                + _validation.error_message(
                    "ops",
                    f"{type(last[0]).__name__} (which returns "
                    f"{last[0].views} views of each batch) as the last op",
                    [type(op).__name__ for op in self.ops],
                )
            )
        self.views = self.ops[-1].views if self.ops else 1
        self._stages = self._plan()
        self._apply_fn = tf.function(self._apply, jit_compile=self.use_xla)

    def _data_shapes(self):
        """The input ranks every op accepts, with their shapes in words."""
        shapes = None
        for op in self.ops:
            if shapes is None:
                shapes, first = dict(op.shapes), op
                continue
            common = {r: d for r, d in shapes.items() if r in op.shapes}
            if not common:
                raise ValueError(
                    "Pipeline: "
                    + _validation.error_message(
                        "ops",
                        "ops for one kind of data (a batch shaped "
                        + " or ".join(shapes.values())
                        + f" for {type(first).__name__}, "
                        + " or ".join(op.shapes.values())
                        + f" for {type(op).__name__})",
                        [type(op).__name__ for op in self.ops],
                    )
                )
            shapes = common
        return shapes or dict(_base.IMAGE_SHAPES)

    def _plan(self):
        settings = {
            "interpolation": self.interpolation,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "gather": self.use_xla,
        }
        stages, group, counts = [], [], []
        for op in self.ops:
            if op.kind == _base.GEOMETRY:
                group.append(op)
                continue
            if group:
                stages.append(_GeometryStage(group, settings))
                counts.append(len(group))
                group = []
            stages.append(_OpStage(op, settings))
            counts.append(1)
        if group:
            stages.append(_GeometryStage(group, settings))
            counts.append(len(group))
        self._counts = counts
        return stages

    @property
    def has_mixing(self):
        """Whether an op mixes labels (and so needs them)."""
        return any(op.kind == _base.MIX for op in self.ops)

    def output_size(self, height, width):
        """The images' ``(height, width)`` after the pipeline."""
        for stage in self._stages:
            height, width = stage.output_size(height, width)
        return height, width

    def validate(self, images_spec, labels_spec=None):
        """Raises ValueError for inputs the pipeline cannot handle.

        Args:
            images_spec: The images' tensor or `tf.TensorSpec`.
            labels_spec: The labels' tensor or spec, or None.
        """
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
            raise ValueError(
                "Pipeline: "
                + _validation.error_message(
                    "images", f"a batch shaped {expected}{hint}", shape
                )
            )
        dtype = tf.as_dtype(images_spec.dtype)
        if dtype != tf.uint8 and not dtype.is_floating:
            raise ValueError(
                "Pipeline: "
                + _validation.error_message(
                    "images", "uint8 or floating images", dtype.name
                )
            )
        if shape[-1] is None:
            raise ValueError(
                "Pipeline: "
                + _validation.error_message(
                    "images", "a known number of channels", shape
                )
            )
        dims = list(shape)
        for stage in self._stages:
            ops = stage.ops if stage.kind == _base.GEOMETRY else [stage.op]
            for op in ops:
                op.validate(tuple(dims), labels_spec is not None, labels_spec)
            if stage.kind == _base.GEOMETRY:
                dims[1:3] = stage.output_size(dims[1], dims[2])

    def sample(self, seed, batch_size, image_shape):
        """Draws every op's parameters for a batch (outside XLA).

        Args:
            seed: A shape-(2,) seed, an int or a pair.
            batch_size: The number of examples.
            image_shape: The shape of one example: ``(height, width,
                channels)`` for images.

        Returns:
            A list of parameter dicts, one per stage.
        """
        seeds = _base.split_seed(_base.as_seed(seed), max(len(self.ops), 1))
        params, start = [], 0
        dims = list(image_shape)
        for stage, count in zip(self._stages, self._counts, strict=True):
            stage_seeds = seeds[start : start + count]
            start += count
            params.append(stage.sample(stage_seeds, batch_size, tuple(dims)))
            if stage.kind == _base.GEOMETRY:
                dims[0:2] = stage.output_size(dims[0], dims[1])
        return params

    def _apply(self, images, labels, params):
        if images.dtype == tf.uint8:
            images = tf.cast(images, tf.float32) * (1.0 / 255.0)
        else:
            images = tf.cast(images, tf.float32)
        for stage, stage_params in zip(self._stages, params, strict=True):
            images, labels = stage.apply(images, labels, stage_params)
        return images, labels

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
        images, labels, pack = unpack(data, self.views)
        images = tf.convert_to_tensor(images)
        if labels is not None:
            labels = tf.convert_to_tensor(labels)
        self.validate(images, labels)
        dynamic = tf.shape(images)
        dims = [
            size if size is not None else dynamic[i]
            for i, size in enumerate(images.shape)
        ]
        params = self.sample(seed, dims[0], tuple(dims[1:]))
        images, labels = self._apply_fn(images, labels, params)
        return pack(images, labels)

    def map_fn(self, seed, data):
        """The function to map over ``zip(pipeline.seeds(), dataset)``."""
        return self.augment(data, seed)

    def seeds(self):
        """Per-batch seeds: fresh each epoch, reproducible given ``seed``."""
        return tf.data.Dataset.random(
            seed=self.seed, rerandomize_each_iteration=True
        ).batch(2)

    def __call__(self, dataset):
        if not isinstance(dataset, tf.data.Dataset):
            raise TypeError(
                "Pipeline: "
                + _validation.error_message(
                    "dataset", "a batched tf.data.Dataset", dataset
                )
            )
        zipped = tf.data.Dataset.zip((self.seeds(), dataset))
        return zipped.map(
            self.map_fn,
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )

    def convert(self, images):
        """Images as the pipeline outputs them, without augmentation.

        uint8 images are scaled to [0, 1] and, where a geometric op sets
        an output size (`RandomResizedCrop`), resized to it.

        Args:
            images: A batch ``(batch, height, width, channels)``.

        Returns:
            float32 images in [0, 1].
        """
        images = tf.convert_to_tensor(images)
        self.validate(images)
        if images.dtype == tf.uint8:
            images = tf.cast(images, tf.float32) * (1.0 / 255.0)
        images = tf.cast(images, tf.float32)
        if images.shape.rank != 4:
            return images
        height, width = images.shape[1], images.shape[2]
        size = self.output_size(height, width)
        if size != (height, width):
            batch = tf.shape(images)[0]
            eye = tf.eye(3, batch_shape=[batch])
            matrix = _resample.to_pixels(eye, (height, width), size)
            images = _resample.resample(
                images,
                matrix,
                size,
                interpolation=self.interpolation,
                fill_mode=self.fill_mode,
                fill_value=self.fill_value,
                gather=self.use_xla,
            )
        return images

    def get_config(self):
        """Returns the pipeline's arguments, the ops serialized."""
        return {
            "ops": serialize_ops(self.ops),
            "seed": self.seed,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "interpolation": self.interpolation,
            "jit_compile": self.jit_compile,
        }

    @classmethod
    def from_config(cls, config):
        """Rebuilds the pipeline from ``get_config``'s output."""
        return cls(**config)

    def __repr__(self):
        ops = ", ".join(repr(op) for op in self.ops)
        return f"Pipeline([{ops}], seed={self.seed})"


@keras.saving.register_keras_serializable(package="keras_regkit")
class AugmentationLayer(keras.layers.Layer):
    """A `Pipeline` as a Keras layer, active only in training.

    For augmenting on the accelerator, inside the model. In training each
    call draws a fresh seed from a `keras.random.SeedGenerator` seeded with
    the pipeline's seed; outside training images are only converted to
    float32 in [0, 1] (and resized where the pipeline sets an output
    size). Label-mixing ops need labels and so cannot be used here.
    Requires the TensorFlow backend.

    Args:
        pipeline: A `Pipeline`, its config or its serialized config.
        **kwargs: Base layer arguments (``name``, ...).

    Call arguments:
        inputs: Images ``(batch, height, width, channels)``.
        training: Whether to augment.

    Example:
    >>> import numpy as np
    >>> from keras_regkit import augment as rka
    >>> layer = AugmentationLayer(rka.Pipeline([rka.RandomFlip()], seed=1))
    >>> x = np.ones((2, 8, 6, 3), "float32")
    >>> layer(x, training=True).shape
    TensorShape([2, 8, 6, 3])
    """

    def __init__(self, pipeline, **kwargs):
        super().__init__(**kwargs)
        if isinstance(pipeline, dict) and "class_name" in pipeline:
            pipeline = keras.saving.deserialize_keras_object(
                copy.deepcopy(pipeline)
            )
        elif isinstance(pipeline, dict):
            pipeline = Pipeline.from_config(copy.deepcopy(pipeline))
        self.pipeline = _base.check(
            self,
            _validation.check_type,
            "pipeline",
            pipeline,
            types=Pipeline,
            expected="a keras_regkit.augment.Pipeline",
        )
        if pipeline.has_mixing:
            raise ValueError(
                "AugmentationLayer: "
                + _validation.error_message(
                    "pipeline",
                    "a pipeline without label-mixing ops (a layer sees no "
                    "labels)",
                    pipeline,
                )
            )
        self.seed_generator = keras.random.SeedGenerator(pipeline.seed)
        self.supports_masking = False

    def call(self, inputs, training=None):
        if training:
            return self.pipeline.augment(inputs, self.seed_generator.next())
        return self.pipeline.convert(inputs)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 4:
            return input_shape
        height, width = self.pipeline.output_size(
            input_shape[1], input_shape[2]
        )
        return (input_shape[0], height, width, input_shape[3])

    def compute_output_spec(self, inputs, training=None):
        return keras.KerasTensor(
            self.compute_output_shape(inputs.shape), dtype="float32"
        )

    def get_config(self):
        return {
            **super().get_config(),
            "pipeline": keras.saving.serialize_keras_object(self.pipeline),
        }

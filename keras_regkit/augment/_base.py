"""The roles of augmentation ops, as base classes, and their shared helpers.

An op is split in two, as Keras's preprocessing layers are:

* ``sample(seed, batch_size, shape)`` draws the random parameters for a
  whole batch at once (small tensors, one row per example) from a
  stateless seed;
* the transform is a pure function of the inputs and those parameters.

What the transform is depends on the op's role, which its base class
states:

* `ValueOp` changes values where they are (pixels, spectrogram bins,
  time steps, table cells): it implements ``apply(inputs, params)``;
* `GeometricOp` moves pixels: it implements ``matrix(seed, batch_size,
  shape)``, a centred 3x3 matrix per image, which a chain of ops
  multiplies with its neighbours' and resamples once
  (`keras_regkit.augment._chain`);
* `BatchOp` mixes examples of the batch and their labels: it implements
  ``mix(images, labels, params)``.

Targets that move with the images (segmentation masks, boxes, keypoints:
`keras_regkit.augment.targets`) follow the roles: a geometric op moves
them through its matrix (the chain does it, nothing to implement), a
value op leaves them unchanged unless it implements ``transform_targets``
(erasing fills masks), and a batch op refuses them unless it implements
``mix_targets``. ``check_targets`` raises, naming the op and the target,
for a target the op cannot keep consistent with its images.

Images inside a pipeline are float32 in [0, 1], shaped
``(batch, height, width, channels)``.
"""

from __future__ import annotations

import tensorflow as tf

from keras_regkit import _validation

# The input shapes an op accepts, by rank (batch included), in words.
IMAGE_SHAPES = {4: "(batch, height, width, channels)"}


def split_seed(seed, num):
    """Splits a stateless seed (a shape-(2,) tensor) into ``num`` seeds."""
    seeds = tf.random.experimental.stateless_split(seed, num=num)
    return [seeds[i] for i in range(num)]


def uniform(seed, shape, low=0.0, high=1.0):
    """Stateless float32 uniform draws in [low, high)."""
    return tf.random.stateless_uniform(
        shape, seed=seed, minval=low, maxval=high, dtype=tf.float32
    )


def bernoulli(seed, shape, probability):
    """Stateless 0/1 float32 draws that are 1 with ``probability``."""
    return tf.cast(uniform(seed, shape) < probability, tf.float32)


def one_hot_choice(seed, batch_size, weights):
    """``(batch, len(weights))`` one-hot rows drawn with relative ``weights``.

    Example:
    >>> import tensorflow as tf
    >>> rows = one_hot_choice(tf.constant([1, 2], tf.int64), 5, [1.0, 0.0])
    >>> rows.numpy()[:, 0].tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    logits = tf.math.log(tf.constant([weights], tf.float32))
    index = tf.random.stateless_categorical(
        logits, batch_size, seed=seed, dtype=tf.int32
    )[0]
    return tf.one_hot(index, len(weights), dtype=tf.float32)


def as_seed(seed):
    """Turns a Python int, a pair or a tensor into a shape-(2,) int64 seed."""
    if isinstance(seed, int):
        seed = (0, seed)
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    return tf.reshape(seed, [2])


def expand_per_example(values, rank=4):
    """Reshapes ``(batch,)`` values to broadcast over examples of ``rank``.

    Example:
    >>> expand_per_example([1, 2], rank=3).shape
    TensorShape([2, 1, 1])
    """
    shape = [-1] + [1] * (rank - 1)
    return tf.reshape(tf.cast(values, tf.float32), shape)


def blend_images(images, out, gate):
    """``out`` where the ``(batch,)`` 0/1 ``gate`` is 1, else ``images``."""
    return images + expand_per_example(gate, images.shape.rank) * (out - images)


def blend_matrix(matrix, gate):
    """Centred matrices where the ``(batch,)`` gate is 1, else identities."""
    eye = tf.eye(3, dtype=tf.float32)
    return eye + gate[:, None, None] * (matrix - eye)


# How far outside its `value_range` a float image may go, as a fraction of
# the range: resizing with bicubic or Lanczos kernels overshoots a little;
# a forgotten ``/ 255`` overshoots by 25400%.
RANGE_TOLERANCE = 0.1


def check_value_range(value_range, owner=None):
    """A pipeline's ``value_range``: a pair ``[low, high]``, low < high."""
    pair = _validation.check_float_range(
        "value_range", value_range, symmetric=False, owner=owner
    )
    if pair[0] >= pair[1]:
        expected = "a pair (low, high) of floats with low < high"
        raise _validation.invalid(
            "value_range", expected, value_range, owner=owner
        )
    return list(pair)


def to_float(inputs, value_range=None, owner=None):
    """The pipeline's working dtype: uint8 scaled to [0, 1], else float32.

    With a ``value_range`` ``(low, high)``, float images are mapped from
    it to [0, 1]; a value more than `RANGE_TOLERANCE` of the range outside
    it (a forgotten ``/ 255``) raises (`check_at_run_time`, naming
    ``owner``). Without, float inputs are only cast.
    """
    if inputs.dtype == tf.uint8:
        return tf.cast(inputs, tf.float32) * (1.0 / 255.0)
    inputs = tf.cast(inputs, tf.float32)
    if value_range is None:
        return inputs
    low, high = value_range
    margin = RANGE_TOLERANCE * (high - low)
    smallest, largest = tf.reduce_min(inputs), tf.reduce_max(inputs)
    expected = (
        f"float images within value_range=({low:g}, {high:g}) (images in "
        "[0, 255]: divide them by 255, pass them as uint8 or give the "
        "Pipeline value_range=(0, 255))"
    )
    # No values in the message: it compiles in an XLA model (dropped).
    inputs = check_at_run_time(
        inputs,
        (smallest >= low - margin) & (largest <= high + margin),
        "images",
        expected,
        f"a batch with values outside [{low - margin:g}, {high + margin:g}]"
        " (or NaN)",
        owner=owner,
    )
    if (low, high) != (0.0, 1.0):
        inputs = (inputs - low) * (1.0 / (high - low))
    return inputs


def check_at_run_time(
    value, condition, name, expected, received, inputs=(), owner=None
):
    """``value``, once ``condition`` holds: the check of data, not shapes.

    How the engine refuses bad values (a NaN box, a label out of range):
    eagerly a ValueError, in a graph (`tf.data`'s map, a `tf.function`) a
    `tf.debugging.Assert` with the same message, on which ``value`` then
    depends. XLA drops assertions, and compiles one only without
    ``inputs`` (`tf.strings.format` has no XLA kernel).

    Args:
        value: A tensor or a nest of tensors, returned.
        condition: A scalar boolean tensor, or a Python bool (known when
            tracing: False raises at once, ``inputs`` Python values).
        name: The argument's name (`_validation.error_message`).
        expected: What is allowed, in words (no braces).
        received: What came, in words, with ``{}`` where each of
            ``inputs`` is written (`tf.strings.format`).
        inputs: Tensors to write into ``received``.
        owner: Named in the message.

    Returns:
        ``value`` (in a graph, its identity after the assertion).

    Example:
    >>> x = tf.constant([1.0, -2.0])
    >>> check_at_run_time(x, tf.reduce_all(x >= 0), "x", "values >= 0",
    ...                   "min {}", [tf.reduce_min(x)])
    Traceback (most recent call last):
    ...
    ValueError: Invalid value received for argument `x`. Expected values \
>= 0. Received: x=min -2
    """
    eager = isinstance(condition, bool) or tf.executing_eagerly()
    if eager and bool(condition):
        return value
    # The one template, ``received`` in place of the value (a final "0").
    template = _validation.error_message(name, expected, 0, owner)[:-1]
    if isinstance(condition, bool):
        raise ValueError(template + received.format(*inputs))
    message = template + received
    if inputs:
        message = tf.strings.format(message, list(inputs), summarize=6)
    if eager:
        raise ValueError(message if not inputs else message.numpy().decode())
    assertion = tf.debugging.Assert(condition, [message])
    with tf.control_dependencies([assertion]):
        return tf.nest.map_structure(tf.identity, value)


def repeat_batch(value, views):
    """``value`` concatenated ``views`` times along the batch axis.

    None and ``views == 1`` return ``value`` unchanged.
    """
    if views == 1 or value is None:
        return value
    return tf.concat([tf.convert_to_tensor(value)] * views, axis=0)


def check_positive_pair(name, value, *, high=None, owner=None):
    """Checks a ``(low, high)`` pair of floats with ``0 < low <= high``.

    For the area and aspect-ratio ranges of crops and erased boxes; a
    single number is refused (it has no obvious meaning as a range).

    Example:
    >>> check_positive_pair("scale", 0.5, owner="RandomResizedCrop")
    Traceback (most recent call last):
    ...
    TypeError: RandomResizedCrop: Invalid value received for argument \
`scale`. Expected a pair (low, high) of values > 0. Received: scale=0.5
    """
    expected = "a pair (low, high) of values > 0"
    if high is not None:
        expected += f" and <= {high:g}"
    if not isinstance(value, (list, tuple)):
        raise _validation.invalid(
            name, expected, value, owner=owner, error=TypeError
        )
    low, top = _validation.check_float_range(
        name, value, high=high, owner=owner
    )
    if low <= 0:
        raise _validation.invalid(name, expected, value, owner=owner)
    return low, top


def refuse_target(op, target, reason):
    """The ValueError for a target ``op`` cannot keep with its images.

    Example:
    >>> print(refuse_target("MixUp", "keypoints", "it blends images"))
    ... # doctest: +NORMALIZE_WHITESPACE
    MixUp: Invalid value received for argument `keypoints`. Expected data
    without 'keypoints' for MixUp (it blends images). Received:
    keypoints='present'
    """
    name = _validation.owner_name(op)
    expected = f"data without {target!r} for {name} ({reason})"
    return _validation.invalid(target, expected, "present", owner=op)


def plain(value):
    """A config value as plain Python: tuples become lists."""
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    return value


class Augmentation:
    """What every op shares: probability, validation, config.

    Ops derive from one of the roles below (`ValueOp`, `GeometricOp`,
    `BatchOp`), implement ``_sample`` and the role's method, and extend
    ``get_config``.

    Args:
        probability: Chance, per example, that the op is applied.
    """

    supports_xla = True
    # Whether the op fuses with the geometric ops around it.
    geometric = False
    # Whether `probability` gates the op in the base class (False where the
    # op uses the probability itself, as a flip does).
    _gated = True
    # Channel counts the op accepts (None: any).
    _channels = None
    # Input ranks the op accepts (batch included), each described in words.
    shapes = IMAGE_SHAPES
    # How many times the op multiplies the batch (AugMix's consistency
    # views: the clean batch, then ``views - 1`` augmented copies); such
    # an op must come last in a pipeline.
    views = 1

    def __init__(self, probability=1.0):
        self.probability = _validation.check_float(
            "probability", probability, low=0.0, high=1.0, owner=self
        )

    def validate(self, shape, has_labels=False, labels_spec=None):
        """Raises ValueError if the op cannot handle these inputs.

        Args:
            shape: The batch's shape, static entries as ints and unknown
                ones as None.
            has_labels: Whether the data carries labels.
            labels_spec: The labels' `tf.TensorSpec`, or None.
        """
        channels = shape[-1]
        if self._channels is not None and channels not in self._channels:
            allowed = " or ".join(str(c) for c in self._channels)
            expected = (
                f"images with {allowed} channels, shaped (batch, height, "
                "width, channels)"
            )
            raise _validation.invalid(
                "images", expected, tuple(shape), owner=self
            )

    def check_targets(self, targets, has_labels=False):
        """Raises ValueError for a target the op cannot keep consistent.

        Args:
            targets: The names of the targets the data carries (some of
                `keras_regkit.augment.targets.KINDS`).
            has_labels: Whether the data carries image labels.
        """
        return None

    def output_size(self, height, width):
        """The image size after this op (geometric ops may change it)."""
        return height, width

    def _own_gate(self, seed, batch_size, gate):
        """Folds the op's own probability into ``gate``; returns both."""
        if not self._gated or self.probability == 1.0:
            return seed, gate
        gate_seed, seed = split_seed(seed, 2)
        own = bernoulli(gate_seed, [batch_size], self.probability)
        return seed, own if gate is None else own * gate

    def sample(self, seed, batch_size, shape, gate=None):
        """Draws the random parameters of a batch.

        Args:
            seed: A shape-(2,) stateless seed.
            batch_size: The number of examples (an int or scalar tensor).
            shape: The shape of one example: ``(height, width, channels)``
                for images.
            gate: None, or float32 ``(batch,)`` 0/1: where the op applies
                (a composite's choice), on top of its own probability.

        Returns:
            A dict of tensors, one row per example.
        """
        seed, gate = self._own_gate(seed, batch_size, gate)
        params = self._sample(seed, batch_size, shape)
        if gate is None:
            return params
        return self._gate(params, gate)

    def _sample(self, seed, batch_size, shape):
        return {}

    def _gate(self, params, gate):
        raise _validation.invalid(
            "ops", "ops that can be gated per example", self, owner=self
        )

    def get_config(self):
        """Returns the constructor arguments as plain Python values."""
        return {"probability": self.probability}

    @classmethod
    def from_config(cls, config):
        """Rebuilds the op from ``get_config``'s output."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class ValueOp(Augmentation):
    """An op that changes values in place; implements ``apply``.

    ``apply(inputs, params)`` is a pure function of a float32 batch and
    ``sample``'s parameters, returning a batch of the same shape; where
    the op is gated off for an example (its probability, a composite's
    choice) the input is kept.
    """

    def apply(self, inputs, params):
        """Applies the op with the given parameters (to the whole batch)."""
        raise NotImplementedError(f"{type(self).__name__}.apply")

    def _apply(self, inputs, params, settings):
        # Ops that resample inside (composites) use the pipeline's
        # resampling settings; others ignore them.
        return self.apply(inputs, params)

    def transform(self, inputs, params, settings=None):
        """``apply``, kept only where the op's gate is 1.

        Args:
            inputs: The float32 batch.
            params: The output of ``sample``.
            settings: The pipeline's resampling settings (a dict of
                `keras_regkit.augment._resample.resample` arguments), for
                ops that resample inside; None for the defaults.

        Returns:
            The transformed batch, same shape.
        """
        out = self._apply(inputs, params, settings)
        if "gate" in params:
            out = blend_images(inputs, out, params["gate"])
        return out

    def transform_targets(self, targets, params):
        """The targets after the op: unchanged (a photometric op)."""
        return targets

    def transform_with_targets(
        self, images, targets, params, settings=None, target_settings=None
    ):
        """`transform` of the images and `transform_targets` together.

        Composites override it to run their children on both.

        Returns:
            ``(images, targets)``.
        """
        images = self.transform(images, params, settings)
        if targets:
            targets = self.transform_targets(targets, params)
        return images, targets

    def _gate(self, params, gate):
        return {**params, "gate": gate}


class GeometricOp(Augmentation):
    """An op that moves pixels; implements ``matrix``.

    ``matrix(seed, batch_size, shape)`` draws one centred 3x3
    output-to-input matrix per image (`keras_regkit.augment._resample`);
    where the op is gated off the matrix is the identity. A chain of ops
    multiplies consecutive matrices and resamples once.
    """

    geometric = True

    def matrix(self, seed, batch_size, shape):
        """Draws the batch's centred matrices, float32 ``(batch, 3, 3)``."""
        raise NotImplementedError(f"{type(self).__name__}.matrix")

    def _sample(self, seed, batch_size, shape):
        return {"matrix": self.matrix(seed, batch_size, shape)}

    def _gate(self, params, gate):
        return {**params, "matrix": blend_matrix(params["matrix"], gate)}


class BatchOp(Augmentation):
    """An op that mixes examples and their labels; implements ``mix``.

    ``mix(images, labels, params)`` returns ``(images, labels)``; such an
    op needs labels and cannot be gated per example by a composite.
    """

    _gated = False
    # The targets `mix_targets` mixes consistently with the images.
    supported_targets = ()

    def check_targets(self, targets, has_labels=False):
        for target in targets:
            if target not in self.supported_targets:
                raise refuse_target(
                    self, target, "it mixes images and cannot mix them"
                )

    def mix(self, images, labels, params):
        """Mixes a batch with drawn parameters; returns images and labels."""
        raise NotImplementedError(f"{type(self).__name__}.mix")

    def checked_labels(self, labels):
        """The labels, values the op cannot mix refused (outside XLA)."""
        return labels

    def mix_targets(self, targets, params, target_settings):
        """Mixes the targets as ``mix`` mixes the images."""
        raise NotImplementedError(f"{type(self).__name__}.mix_targets")

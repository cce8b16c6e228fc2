"""The base classes of every augmentation, and their shared helpers.

An augmentation is split in two, as Keras's preprocessing layers are:

* ``sample(seed, batch_size, image_shape)`` draws the random parameters for
  a whole batch at once (small tensors, one row per example) from a
  stateless seed;
* the transform is a pure function of the images and those parameters
  (``apply`` for pixel ops, ``matrix`` for geometric ops, whose matrices
  the pipeline multiplies together and resamples once).

Images inside a pipeline are float32 in [0, 1], shaped
``(batch, height, width, channels)``.
"""

from __future__ import annotations

import tensorflow as tf

from keras_regkit import _validation

GEOMETRY = "geometry"
PIXEL = "pixel"
MIX = "mix"

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


def as_seed(seed):
    """Turns a Python int, a pair or a tensor into a shape-(2,) int64 seed."""
    if isinstance(seed, int):
        seed = (0, seed)
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    return tf.reshape(seed, [2])


def prefixed(owner, error):
    """Returns ``error`` again, its message prefixed with the op's name."""
    return type(error)(f"{type(owner).__name__}: {error}")


def check(owner, checker, name, value, **kwargs):
    """Runs a `keras_regkit._validation` checker, naming the op on error."""
    try:
        return checker(name, value, **kwargs)
    except (TypeError, ValueError) as error:
        raise prefixed(owner, error) from None


def check_range(owner, name, value, *, low=None, high=None, symmetric=True):
    """Checks a factor given as a float or a ``(low, high)`` pair.

    Args:
        owner: The op, named in error messages.
        name: The argument's name.
        value: A float ``f`` or a pair ``(a, b)`` with ``a <= b``.
        low: Smallest allowed bound, or None.
        high: Largest allowed bound, or None.
        symmetric: Whether a float ``f`` means ``(-f, f)`` (else
            ``(f, f)``, a fixed value).

    Returns:
        The ``(low, high)`` pair of plain floats.
    """
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise prefixed(
                owner,
                ValueError(
                    _validation.error_message(
                        name, "a float or a pair (low, high)", value
                    )
                ),
            )
        a = check(owner, _validation.check_float, name, value[0], low=low)
        b = check(owner, _validation.check_float, name, value[1], high=high)
        a = check(owner, _validation.check_float, name, a, high=high)
        b = check(owner, _validation.check_float, name, b, low=low)
        if a > b:
            raise prefixed(
                owner,
                ValueError(
                    _validation.error_message(
                        name, "a pair (low, high) with low <= high", value
                    )
                ),
            )
        return a, b
    if symmetric:
        f = check(owner, _validation.check_float, name, value, low=0.0)
        if (low is not None and -f < low) or (high is not None and f > high):
            bound = min(abs(x) for x in (low, high) if x is not None)
            raise prefixed(
                owner,
                ValueError(
                    _validation.error_message(
                        name, f"a float in [0, {bound:g}] or a pair", value
                    )
                ),
            )
        return -f, f
    f = check(owner, _validation.check_float, name, value, low=low, high=high)
    return f, f


def plain(value):
    """A config value as plain Python: tuples become lists."""
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class Augmentation:
    """Base class of every augmentation op.

    Subclasses set ``kind`` (``"geometry"``, ``"pixel"`` or ``"mix"``),
    implement ``_sample`` and ``apply`` (pixel ops) or ``_sample``
    returning ``{"matrix": ...}`` (geometric ops), and extend
    ``get_config``.

    Args:
        probability: Chance, per example, that the op is applied.
    """

    kind = PIXEL
    supports_xla = True
    # Whether `probability` gates the op in the base class (False where the
    # op uses the probability itself, as a flip does).
    _gated = True
    # Channel counts the op accepts (None: any).
    _channels = None
    # Input ranks the op accepts (batch included), each described in words.
    shapes = IMAGE_SHAPES
    # How many times the op multiplies the batch (AugMix's consistency
    # views); such an op must come last in a pipeline.
    views = 1

    def __init__(self, probability=1.0):
        self.probability = check(
            self,
            _validation.check_float,
            "probability",
            probability,
            low=0.0,
            high=1.0,
        )

    def validate(self, image_shape, has_labels=False, labels_spec=None):
        """Raises ValueError if the op cannot handle these inputs.

        Args:
            image_shape: ``(batch, height, width, channels)``, static
                entries as ints and unknown ones as None.
            has_labels: Whether the data carries labels.
            labels_spec: The labels' `tf.TensorSpec`, or None.
        """
        channels = image_shape[-1]
        if self._channels is not None and channels not in self._channels:
            allowed = " or ".join(str(c) for c in self._channels)
            raise prefixed(
                self,
                ValueError(
                    _validation.error_message(
                        "images",
                        f"images with {allowed} channels, shaped (batch, "
                        "height, width, channels)",
                        tuple(image_shape),
                    )
                ),
            )

    def output_size(self, height, width):
        """The image size after this op (geometric ops may change it)."""
        return height, width

    def sample(self, seed, batch_size, image_shape):
        """Draws the random parameters of a batch.

        Args:
            seed: A shape-(2,) stateless seed.
            batch_size: The number of examples (an int or scalar tensor).
            image_shape: ``(height, width, channels)`` of the input.

        Returns:
            A dict of tensors, one row per example.
        """
        if not self._gated or self.probability == 1.0:
            return self._sample(seed, batch_size, image_shape)
        gate_seed, seed = split_seed(seed, 2)
        params = self._sample(seed, batch_size, image_shape)
        gate = bernoulli(gate_seed, [batch_size], self.probability)
        if self.kind == GEOMETRY:
            eye = tf.eye(3, dtype=tf.float32)
            gate = gate[:, None, None]
            params["matrix"] = eye + gate * (params["matrix"] - eye)
        else:
            params["gate"] = gate
        return params

    def _sample(self, seed, batch_size, image_shape):
        return {}

    def transform(self, images, params, settings=None):
        """Applies the op with the given parameters (pixel ops).

        Args:
            images: float32 images in [0, 1], ``(batch, h, w, c)``.
            params: The output of ``sample``.
            settings: The pipeline's resampling settings (a dict of
                `keras_regkit.augment._resample.resample` arguments), for
                ops that resample inside (composite ops); None for the
                defaults.

        Returns:
            The transformed images, same shape.
        """
        out = self._run(images, params, settings)
        if "gate" in params:
            gate = tf.reshape(
                params["gate"], [-1] + [1] * (images.shape.rank - 1)
            )
            out = images + gate * (out - images)
        return out

    def _run(self, images, params, settings):
        return self.apply(images, params)  # defined by every pixel op

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

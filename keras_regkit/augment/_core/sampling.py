"""Stateless random draws of a batch's parameters, and per-example gates.

Every op draws its parameters from a shape-(2,) stateless seed
(`as_seed`, the one checked conversion of a user's seed); a composite
splits it between its children (`split_seed`) and gates each example
(`blend_images`, `blend_matrix`).
"""

from __future__ import annotations

import functools

import tensorflow as tf

from keras_regkit import _validation


def split_seed(seed, num):
    """Splits a stateless seed (a shape-(2,) tensor) into ``num`` seeds."""
    seeds = tf.random.experimental.stateless_split(seed, num=num)
    return [seeds[i] for i in range(num)]


def uniform(seed, shape, low=0.0, high=1.0):
    """Stateless float32 uniform draws in [low, high)."""
    return tf.random.stateless_uniform(
        shape, seed=seed, minval=low, maxval=high, dtype=tf.float32
    )


# Normal draws read 16 random bits each (`normal_bits`, `normal_from_bits`).
NORMAL_LEVELS = 1 << 16


@functools.cache
def _normal_quantiles():
    """The standard normal's quantiles at the `NORMAL_LEVELS` midpoints.

    Rescaled to unit variance (the tails beyond 4.17 sigma they cut
    took 0.06 % of it); computed once, eagerly, in float64.
    """
    with tf.init_scope():
        levels = tf.range(NORMAL_LEVELS, dtype=tf.float64)
        quantiles = tf.math.ndtri((levels + 0.5) / NORMAL_LEVELS).numpy()
    return (quantiles / (quantiles**2).mean() ** 0.5).astype("float32")


def normal_bits(seed, batch_size, count):
    """The random bits of ``count`` normal draws per example.

    Args:
        seed: A shape-(2,) stateless seed.
        batch_size: The number of examples (an int or scalar tensor).
        count: Draws per example (an int or scalar tensor).

    Returns:
        uint32 ``(batch_size, ceil(count / 2))``: one row per example, so
        that a batch's parameters can be gated and chosen per example.
    """
    return tf.random.stateless_uniform(
        [batch_size, (count + 1) // 2],
        seed=seed,
        minval=None,
        maxval=None,
        dtype=tf.uint32,
    )


def normal_from_bits(bits, shape):
    """Standard normal draws ``(batch, *shape)`` from `normal_bits`'s rows.

    Each 16 bits pick one of `NORMAL_LEVELS` equally likely quantiles
    (inverse transform sampling at 16-bit resolution, unit variance).
    ``tf.random.stateless_normal`` drew the same number 3 times slower
    (a 64 x 224 x 224 x 3 batch, 2-core AMD EPYC), the bits and the table
    lookup run inside the op's XLA segment.

    Args:
        bits: `normal_bits`'s output, for ``prod(shape)`` draws.
        shape: One example's shape (a sequence or a 1-D tensor).

    Returns:
        float32 ``(batch, *shape)``.

    Example:
    >>> import tensorflow as tf
    >>> bits = normal_bits(tf.constant([0, 1], tf.int64), 2, 5000)
    >>> draws = normal_from_bits(bits, (100, 50))
    >>> draws.shape, round(float(tf.math.reduce_std(draws)), 1)
    (TensorShape([2, 100, 50]), 1.0)
    """
    shape = tf.cast(shape, tf.int32)
    low = tf.bitwise.bitwise_and(bits, 0xFFFF)
    high = tf.bitwise.right_shift(bits, 16)
    index = tf.reshape(tf.stack([low, high], axis=-1), [tf.shape(bits)[0], -1])
    index = tf.cast(index[:, : tf.reduce_prod(shape)], tf.int32)
    draws = tf.gather(tf.constant(_normal_quantiles()), index)
    return tf.reshape(draws, tf.concat([[-1], shape], 0))


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


SEED_EXPECTED = "an integer, a pair of integers or a shape-(2,) integer tensor"


def as_seed(seed, owner=None):
    """A user's stateless seed as a shape-(2,) int64 tensor, checked.

    Args:
        seed: An int, a pair of ints, or an integer tensor (or array) of
            two elements (a dataset's seed, `keras.random.SeedGenerator`'s
            ``next()``).
        owner: Named in error messages.

    Raises:
        TypeError: For a seed of the wrong type (a float, a string, a
            float tensor).
        ValueError: For a sequence or tensor without two elements.

    Example:
    >>> as_seed(7).numpy().tolist()
    [0, 7]
    >>> as_seed(1.5)
    Traceback (most recent call last):
    ...
    TypeError: Invalid value received for argument `seed`. Expected an \
integer. Received: seed=1.5
    """
    if isinstance(seed, (list, tuple)):
        if len(seed) != 2:
            raise _validation.invalid("seed", SEED_EXPECTED, seed, owner=owner)
        pair = [_validation.check_int("seed", s, owner=owner) for s in seed]
        return tf.constant(pair, tf.int64)
    tensor = hasattr(seed, "shape") and hasattr(seed, "dtype")
    if tensor and tf.TensorShape(seed.shape).rank != 0:
        size = tf.TensorShape(seed.shape).num_elements()
        if not tf.as_dtype(seed.dtype).is_integer:
            raise _validation.invalid(
                "seed", SEED_EXPECTED, seed, owner=owner, error=TypeError
            )
        if size not in (None, 2):
            raise _validation.invalid("seed", SEED_EXPECTED, seed, owner=owner)
        seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
        return tf.reshape(seed, [2])
    value = _validation.check_int("seed", seed, owner=owner)
    return tf.constant([0, value], tf.int64)


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


def sample_beta(seed, shape, alpha):
    """Stateless Beta(alpha, alpha) draws, as a ratio of two Gammas.

    Example:
    >>> import tensorflow as tf
    >>> lam = sample_beta(tf.constant([1, 2], tf.int64), [1000], 1.0)
    >>> bool(tf.reduce_all((lam >= 0) & (lam <= 1)))
    True
    """
    first, second = split_seed(seed, 2)
    a = tf.random.stateless_gamma(shape, seed=first, alpha=alpha)
    b = tf.random.stateless_gamma(shape, seed=second, alpha=alpha)
    return a / tf.maximum(a + b, 1e-30)

"""The op table of RandAugment, TrivialAugment and AugMix.

Magnitudes follow timm and torchvision: a level in [0, 1] scales each
op's maximum (below), and signed ops take a random sign per example.

==========  =================  ========================
op          standard maximum   wide (TrivialAugment)
==========  =================  ========================
shear_x/y   0.3                0.99
translate   0.45 of the side   0.45 of the side
rotate      30 degrees         135 degrees
multiply    factor 1 ± 0.9     1 ± 0.99
color       factor 1 ± 0.9     1 ± 0.99 (saturation)
contrast    factor 1 ± 0.9     1 ± 0.99
sharpness   factor 1 ± 0.9     1 ± 0.99
posterize   8 → 4 bits         8 → 2 bits
solarize    threshold 1 → 0    threshold 1 → 0
==========  =================  ========================

``identity``, ``autocontrast`` and ``equalize`` have no magnitude.
``multiply`` multiplies the pixels (PIL's and timm's "Brightness"; the
old name ``"brightness"`` is still accepted in ``ops=``), unlike
`RandomBrightness`, which adds an offset.

Each name maps to a `PolicyOp` record (timm's ``NAME_TO_OP`` and
``LEVEL_TO_ARG`` in one); `steps` turns names into the per-step op lists
of a policy, ordered so that the geometric ops of consecutive steps fuse.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import roles
from keras_regkit.augment._core import sampling
from keras_regkit.augment.ops import color
from keras_regkit.augment.ops import filters
from keras_regkit.augment.ops import geometry
from keras_regkit.augment.ops import tone

# Value functions take (images, value), value float32 (batch,); geometric
# ones take (value, image_shape) and return centred matrices.


def identity(images, value):
    """The images unchanged."""
    return images


def autocontrast(images, value):
    """`keras_regkit.augment.ops.color.autocontrast` (no magnitude)."""
    return color.autocontrast(images)


def equalize(images, value):
    """`keras_regkit.augment.ops.color.equalize` (no magnitude)."""
    return color.equalize(images)


def multiply(images, value):
    """Pixels times ``1 + value``, clipped (PIL's ``Brightness``)."""
    factor = sampling.expand_per_example(1.0 + value, images.shape.rank)
    return tf.clip_by_value(images * factor, 0.0, 1.0)


def saturation(images, value):
    """Saturation times ``1 + value`` (PIL's ``Color``)."""
    return color.adjust_saturation(images, 1.0 + value)


def contrast(images, value):
    """Contrast times ``1 + value``."""
    return color.adjust_contrast(images, 1.0 + value)


def sharpness(images, value):
    """Sharpness times ``1 + value``."""
    return filters.sharpen(images, 1.0 + value)


def posterize(images, value):
    """Keeps ``8 - value`` bits (rounded)."""
    return tone.posterize(images, tf.round(8.0 - value))


def solarize(images, value):
    """Inverts pixels at or above ``1 - value``."""
    return tone.solarize(images, 1.0 - value)


def rotate(value, image_shape):
    """Rotation by ``value`` degrees, counter-clockwise."""
    return geometry.rotation_matrix(value * (math.pi / 180.0))


def shear_x(value, image_shape):
    """Horizontal shear by ``value``."""
    return geometry.shear_matrix(value, tf.zeros_like(value))


def shear_y(value, image_shape):
    """Vertical shear by ``value``."""
    return geometry.shear_matrix(tf.zeros_like(value), value)


def translate_x(value, image_shape):
    """Horizontal shift by ``value`` of the width."""
    width = tf.cast(image_shape[1], tf.float32)
    return geometry.translation_matrix(value * width, tf.zeros_like(value))


def translate_y(value, image_shape):
    """Vertical shift by ``value`` of the height."""
    height = tf.cast(image_shape[0], tf.float32)
    return geometry.translation_matrix(tf.zeros_like(value), value * height)


@dataclasses.dataclass(frozen=True)
class PolicyOp:
    """One op of the policies' table.

    Attributes:
        function: The transform: ``(images, value) -> images`` for a value
            op, ``(value, image_shape) -> matrices`` for a geometric one.
        geometric: Whether ``function`` returns centred matrices.
        signed: Whether the value takes a random sign per example.
        maximum: The value at level 1 (RandAugment, AugMix).
        wide_maximum: The value at level 1 in TrivialAugment's wide table.
        channels: Channel counts the op accepts, or None for any.
    """

    function: Callable
    geometric: bool = False
    signed: bool = False
    maximum: float = 0.0
    wide_maximum: float = 0.0
    channels: tuple | None = None


def _factor_op(function, channels=None):
    return PolicyOp(function, False, True, 0.9, 0.99, channels)


def _geometric_op(function, maximum, wide_maximum):
    return PolicyOp(function, True, True, maximum, wide_maximum)


# Name -> op, in the order the policies choose from (timm's NAME_TO_OP and
# LEVEL_TO_ARG in one record).
POLICY_OPS = {
    "identity": PolicyOp(identity),
    "autocontrast": PolicyOp(autocontrast),
    "equalize": PolicyOp(equalize),
    "rotate": _geometric_op(rotate, 30.0, 135.0),
    "shear_x": _geometric_op(shear_x, 0.3, 0.99),
    "shear_y": _geometric_op(shear_y, 0.3, 0.99),
    "translate_x": _geometric_op(translate_x, 0.45, 0.45),
    "translate_y": _geometric_op(translate_y, 0.45, 0.45),
    "multiply": _factor_op(multiply),
    "color": _factor_op(saturation, channels=(3,)),
    "contrast": _factor_op(contrast),
    "sharpness": _factor_op(sharpness),
    "posterize": PolicyOp(posterize, maximum=4.0, wide_maximum=6.0),
    "solarize": PolicyOp(solarize, maximum=1.0, wide_maximum=1.0),
}
# Older names, still accepted in ``ops=`` (and kept as given in configs):
# "brightness" multiplies (PIL's and timm's name), unlike
# `RandomBrightness`, which adds.
OP_ALIASES = {"brightness": "multiply"}

OP_NAMES = tuple(POLICY_OPS)
AUGMIX_OPS = (
    "autocontrast",
    "equalize",
    "posterize",
    "rotate",
    "solarize",
    "shear_x",
    "shear_y",
    "translate_x",
    "translate_y",
)


class _Level:
    """A policy op's level per example: ``U(low, high) + std N``."""

    def __init__(self, name, wide, low, high, std):
        super().__init__(1.0)
        self.name = name
        spec = POLICY_OPS[name]
        self.function, self.signed = spec.function, spec.signed
        self._channels = spec.channels
        self.maximum = spec.wide_maximum if wide else spec.maximum
        self.low, self.high, self.std = low, high, std

    def level(self, seed, batch_size):
        """Per-example levels in [0, 1] (before the sign)."""
        uniform_seed, normal_seed, sign_seed = sampling.split_seed(seed, 3)
        level = sampling.uniform(
            uniform_seed, [batch_size], self.low, self.high
        )
        if self.std > 0:
            noise = tf.random.stateless_normal([batch_size], seed=normal_seed)
            level = level + self.std * noise
        level = tf.clip_by_value(level, 0.0, 1.0)
        if self.signed:
            sign = 1.0 - 2.0 * sampling.bernoulli(sign_seed, [batch_size], 0.5)
            level = level * sign
        return level

    def value(self, seed, batch_size):
        """Per-example signed values: the level times the maximum."""
        return self.level(seed, batch_size) * self.maximum


class _PolicyValueOp(_Level, roles.ValueOp):
    """A value op of the table at a random level."""

    def _sample(self, seed, batch_size, shape):
        return {"value": self.value(seed, batch_size)}

    def apply(self, inputs, params):
        return self.function(inputs, params["value"])


class _PolicyGeometricOp(_Level, roles.GeometricOp):
    """A geometric op of the table at a random level."""

    def matrix(self, seed, batch_size, shape):
        return self.function(self.value(seed, batch_size), shape)


def policy_op(name, wide, low, high, std):
    cls = _PolicyGeometricOp if POLICY_OPS[name].geometric else _PolicyValueOp
    return cls(name, wide, low, high, std)


def check_op_names(owner, ops, default):
    """The ops as given (for the config) and their canonical names."""
    if ops is None:
        return None, list(default)
    if not isinstance(ops, (list, tuple)) or not ops:
        raise _validation.invalid(
            "ops", f"None or a non-empty list of {OP_NAMES}", ops, owner=owner
        )
    choices = OP_NAMES + tuple(OP_ALIASES)
    names = [
        _validation.check_choice("ops", n, choices, owner=owner) for n in ops
    ]
    return list(names), [OP_ALIASES.get(n, n) for n in names]


def steps(names, num_steps, wide, low, high, std):
    """Per-step op lists, ordered so that steps' geometric ops fuse.

    Steps alternate value-then-geometric and geometric-then-value: since
    one op per step applies, the geometric ops of steps ``2k`` and
    ``2k + 1`` are adjacent and resampled once.
    """
    ops = [policy_op(name, wide, low, high, std) for name in names]
    values = [op for op in ops if not op.geometric]
    geometric = [op for op in ops if op.geometric]
    return [
        values + geometric if step % 2 == 0 else geometric + values
        for step in range(num_steps)
    ]


def step_gates(seed, batch_size, steps):
    """One uniform one-hot choice per step, concatenated."""
    seeds = sampling.split_seed(seed, len(steps))
    return tf.concat(
        [
            sampling.one_hot_choice(s, batch_size, [1.0] * len(step))
            for s, step in zip(seeds, steps, strict=True)
        ],
        axis=1,
    )

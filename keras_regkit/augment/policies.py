"""Policies built from the ops: RandAugment, TrivialAugment and AugMix.

Each policy chooses its ops per example, on every batch, from the batch's
seed (Keras's ``AugMix`` picks its chains once per trace, so every batch
of a ``tf.data`` pipeline gets the same chains; these do not). They are
composite ops (`keras_regkit.augment.control`): every op of a step is
computed on the whole batch and each example keeps its own choice; the
geometric ops of consecutive steps are fused into one resampling.

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

References:
    Cubuk et al., "RandAugment: Practical automated data augmentation
    with a reduced search space", 2020.
    Müller and Hutter, "TrivialAugment: Tuning-free Yet State-of-the-Art
    Data Augmentation", 2021.
    Hendrycks et al., "AugMix: A Simple Data Processing Method to Improve
    Robustness and Uncertainty", 2020.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import keras
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment import _base
from keras_regkit.augment import _chain
from keras_regkit.augment import color
from keras_regkit.augment import control
from keras_regkit.augment import geometry
from keras_regkit.augment.mixing import sample_beta

# Value functions take (images, value), value float32 (batch,); geometric
# ones take (value, image_shape) and return centred matrices.


def identity(images, value):
    """The images unchanged."""
    return images


def autocontrast(images, value):
    """`color.autocontrast` (no magnitude)."""
    return color.autocontrast(images)


def equalize(images, value):
    """`color.equalize` (no magnitude)."""
    return color.equalize(images)


def multiply(images, value):
    """Pixels times ``1 + value``, clipped (PIL's ``Brightness``)."""
    factor = _base.expand_per_example(1.0 + value, images.shape.rank)
    return tf.clip_by_value(images * factor, 0.0, 1.0)


def saturation(images, value):
    """Saturation times ``1 + value`` (PIL's ``Color``)."""
    return color.adjust_saturation(images, 1.0 + value)


def contrast(images, value):
    """Contrast times ``1 + value``."""
    return color.adjust_contrast(images, 1.0 + value)


def sharpness(images, value):
    """Sharpness times ``1 + value``."""
    return color.sharpen(images, 1.0 + value)


def posterize(images, value):
    """Keeps ``8 - value`` bits (rounded)."""
    return color.posterize(images, tf.round(8.0 - value))


def solarize(images, value):
    """Inverts pixels at or above ``1 - value``."""
    return color.solarize(images, 1.0 - value)


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
        uniform_seed, normal_seed, sign_seed = _base.split_seed(seed, 3)
        level = _base.uniform(uniform_seed, [batch_size], self.low, self.high)
        if self.std > 0:
            noise = tf.random.stateless_normal([batch_size], seed=normal_seed)
            level = level + self.std * noise
        level = tf.clip_by_value(level, 0.0, 1.0)
        if self.signed:
            sign = 1.0 - 2.0 * _base.bernoulli(sign_seed, [batch_size], 0.5)
            level = level * sign
        return level

    def value(self, seed, batch_size):
        """Per-example signed values: the level times the maximum."""
        return self.level(seed, batch_size) * self.maximum


class _PolicyValueOp(_Level, _base.ValueOp):
    """A value op of the table at a random level."""

    def _sample(self, seed, batch_size, shape):
        return {"value": self.value(seed, batch_size)}

    def apply(self, inputs, params):
        return self.function(inputs, params["value"])


class _PolicyGeometricOp(_Level, _base.GeometricOp):
    """A geometric op of the table at a random level."""

    def matrix(self, seed, batch_size, shape):
        return self.function(self.value(seed, batch_size), shape)


def _policy_op(name, wide, low, high, std):
    cls = _PolicyGeometricOp if POLICY_OPS[name].geometric else _PolicyValueOp
    return cls(name, wide, low, high, std)


def _check_ops(owner, ops, default):
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


def _steps(names, num_steps, wide, low, high, std):
    """Per-step op lists, ordered so that steps' geometric ops fuse.

    Steps alternate value-then-geometric and geometric-then-value: since
    one op per step applies, the geometric ops of steps ``2k`` and
    ``2k + 1`` are adjacent and resampled once.
    """
    ops = [_policy_op(name, wide, low, high, std) for name in names]
    values = [op for op in ops if not op.geometric]
    geometric = [op for op in ops if op.geometric]
    return [
        values + geometric if step % 2 == 0 else geometric + values
        for step in range(num_steps)
    ]


def _step_gates(seed, batch_size, steps):
    """One uniform one-hot choice per step, concatenated."""
    seeds = _base.split_seed(seed, len(steps))
    return tf.concat(
        [
            _base.one_hot_choice(s, batch_size, [1.0] * len(step))
            for s, step in zip(seeds, steps, strict=True)
        ],
        axis=1,
    )


class _Policy(control.Composite):
    """A composite of ``len(steps)`` uniform per-example choices."""

    def _set_steps(self, steps):
        self._step_lists = steps
        self._set_children([op for step in steps for op in step])

    def _gates(self, seed, batch_size):
        return _step_gates(seed, batch_size, self._step_lists)


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandAugment(_Policy):
    """RandAugment: ``num_ops`` random ops per example at magnitude ``M``.

    Each of ``num_ops`` steps picks one op uniformly per example (the
    ops of the table in this module, identity included, as torchvision);
    each applies at level ``magnitude / 10`` with a random sign, plus
    per-example Gaussian noise of ``magnitude_std / 10`` (timm's
    ``mstd``), clipped to [0, 1].

    Args:
        num_ops: Ops applied per example, an integer >= 1.
        magnitude: ``M`` in [0, 10] (timm's scale; torchvision's 9 of
            30 bins is about 3).
        magnitude_std: Standard deviation of the per-example magnitude
            noise, in the same units, >= 0.
        ops: Names of the ops to choose from (see ``OP_NAMES``), or None
            for all of them.
        probability: Chance, per example, that the policy applies.

    Example:
    >>> import numpy as np
    >>> from keras_regkit import augment as rka
    >>> policy = rka.RandAugment(2, 9, magnitude_std=0.5)
    >>> x = np.zeros((4, 32, 24, 3), "uint8")
    >>> rka.Pipeline([policy], seed=0).augment(x, seed=1).shape
    TensorShape([4, 32, 24, 3])
    """

    def __init__(
        self,
        num_ops=2,
        magnitude=9.0,
        magnitude_std=0.0,
        ops=None,
        probability=1.0,
    ):
        super().__init__(probability)
        self.num_ops = _validation.check_int(
            "num_ops", num_ops, low=1, owner=self
        )
        self.magnitude = _validation.check_float(
            "magnitude", magnitude, low=0.0, high=10.0, owner=self
        )
        self.magnitude_std = _validation.check_float(
            "magnitude_std", magnitude_std, low=0.0, owner=self
        )
        self.ops, names = _check_ops(self, ops, OP_NAMES)
        level = self.magnitude / 10.0
        self._set_steps(
            _steps(
                names,
                self.num_ops,
                False,
                level,
                level,
                self.magnitude_std / 10.0,
            )
        )

    def get_config(self):
        return {
            **super().get_config(),
            "num_ops": self.num_ops,
            "magnitude": self.magnitude,
            "magnitude_std": self.magnitude_std,
            "ops": self.ops,
        }


@keras.saving.register_keras_serializable(package="keras_regkit")
class TrivialAugment(_Policy):
    """TrivialAugment (wide): one random op per example, random magnitude.

    Each example gets one op chosen uniformly (identity included) at a
    level drawn uniformly from [0, 1] of the wide table's maximum, with a
    random sign.

    Args:
        ops: Names of the ops to choose from (see ``OP_NAMES``), or None
            for all of them.
        probability: Chance, per example, that the policy applies.

    Example:
    >>> TrivialAugment(ops=["rotate", "solarize"]).get_config()
    {'probability': 1.0, 'ops': ['rotate', 'solarize']}
    """

    def __init__(self, ops=None, probability=1.0):
        super().__init__(probability)
        self.ops, names = _check_ops(self, ops, OP_NAMES)
        self._set_steps(_steps(names, 1, True, 0.0, 1.0, 0.0))

    def get_config(self):
        return {**super().get_config(), "ops": self.ops}


@keras.saving.register_keras_serializable(package="keras_regkit")
class AugMix(_base.ValueOp):
    """AugMix: a Dirichlet mix of random op chains, blended with the input.

    Each example gets ``width`` chains of ``depth`` ops (1 to 3 per chain
    and example when ``depth`` is -1), each op chosen uniformly at a level
    drawn uniformly from ``[0.1, severity / 10]``; the chains are mixed
    with Dirichlet(α) weights and the mix blended with the input by a
    Beta(α, α) weight: ``m x + (1 - m) Σ w_i chain_i(x)``. Chains, depths,
    levels and weights are drawn per example on every batch.

    With ``jsd=True`` the pipeline returns, for a batch of ``n`` images,
    ``3 n`` images: the clean images followed by two independent AugMix
    views, concatenated along the batch; labels, sample weights and other
    entries are repeated three times. Train with
    `JensenShannonCrossEntropy` (cross-entropy on the clean third plus
    the Jensen-Shannon divergence of the three predictions), predict on
    clean images as usual. The op must then be the pipeline's last.

    Args:
        severity: Magnitude level, an integer in [1, 10].
        width: Number of chains, >= 1.
        depth: Ops per chain in [1, 3], or -1 for a random depth.
        alpha: α of the Dirichlet and Beta draws, > 0.
        jsd: Whether to return the clean images plus two views.
        ops: Names of the ops (see ``OP_NAMES``), or None for AugMix's
            own set (``AUGMIX_OPS``: no colour ops, which overlap the
            corruptions AugMix is evaluated on).
        probability: Chance, per example (and view), that AugMix applies.

    Example:
    >>> import numpy as np
    >>> from keras_regkit import augment as rka
    >>> x = np.zeros((4, 16, 12, 3), "uint8")
    >>> y = np.arange(4)
    >>> augmix = rka.AugMix(jsd=True, ops=["rotate", "solarize"])
    >>> views, labels = rka.Pipeline([augmix]).augment(
    ...     (x, y), seed=0
    ... )
    >>> views.shape, labels.numpy().tolist()
    (TensorShape([12, 16, 12, 3]), [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3])
    """

    MAX_DEPTH = 3
    _gated = False

    def __init__(
        self,
        severity=3,
        width=3,
        depth=-1,
        alpha=1.0,
        jsd=False,
        ops=None,
        probability=1.0,
    ):
        super().__init__(probability)
        self.severity = _validation.check_int(
            "severity", severity, low=1, high=10, owner=self
        )
        self.width = _validation.check_int("width", width, low=1, owner=self)
        self.depth = _validation.check_choice(
            "depth",
            _validation.check_int("depth", depth, owner=self),
            (-1, 1, 2, 3),
            owner=self,
        )
        self.alpha = _validation.check_float(
            "alpha", alpha, low=0.0, low_inclusive=False, owner=self
        )
        self.jsd = _validation.check_bool("jsd", jsd, owner=self)
        self.views = 3 if self.jsd else 1
        self.ops, names = _check_ops(self, ops, AUGMIX_OPS)
        self._steps = _steps(
            names, self.MAX_DEPTH, False, 0.1, self.severity / 10.0, 0.0
        )
        self._chain = _chain.Chain([op for step in self._steps for op in step])

    def validate(self, shape, has_labels=False, labels_spec=None):
        self._chain.validate(shape, owner=self)

    def check_targets(self, targets, has_labels=False):
        # Chains that move pixels differently are blended: no mask, box
        # or keypoint matches the result. Colour-only chains keep them.
        moving = [op.name for op in self._chain.ops if op.geometric]
        if targets and moving:
            reason = (
                f"it blends chains moved by {moving[0]!r}; give it ops "
                "without geometry"
            )
            raise _base.refuse_target(self, targets[0], reason)

    def _sample(self, seed, batch_size, shape):
        """One view's parameters (a chain runs ``views - 1`` of them)."""
        seeds = _base.split_seed(seed, 2 * self.width + 4)
        depth_seed, weight_seed, mix_seed, gate_seed = seeds[2 * self.width :]
        if self.depth == -1:
            depths = tf.random.stateless_uniform(
                [batch_size, self.width],
                seed=depth_seed,
                minval=1,
                maxval=self.MAX_DEPTH + 1,
                dtype=tf.int32,
            )
        else:
            depths = tf.fill([batch_size, self.width], self.depth)
        # The step index of every op of the chain.
        step_of_op = tf.constant(
            [j for j, step in enumerate(self._steps) for _ in step]
        )
        chains = []
        for i in range(self.width):
            choice_seed, chain_seed = seeds[2 * i], seeds[2 * i + 1]
            gates = _step_gates(choice_seed, batch_size, self._steps)
            active = tf.cast(
                step_of_op[None, :] < depths[:, i : i + 1], tf.float32
            )
            chains.append(
                self._chain.sample(
                    chain_seed, batch_size, shape, gates * active
                )
            )
        gammas = tf.random.stateless_gamma(
            [batch_size, self.width], seed=weight_seed, alpha=self.alpha
        )
        weights = gammas / tf.reduce_sum(gammas, axis=1, keepdims=True)
        params = {
            "chains": chains,
            "weights": weights,
            "mix": sample_beta(mix_seed, [batch_size], self.alpha),
        }
        if self.probability < 1.0:
            params["gate"] = _base.bernoulli(
                gate_seed, [batch_size], self.probability
            )
        return params

    def _apply(self, inputs, params, settings):
        rank = inputs.shape.rank
        mixed = 0.0
        for i, chain in enumerate(params["chains"]):
            out, _ = self._chain.run(inputs, None, chain, settings)
            mixed += (
                _base.expand_per_example(params["weights"][:, i], rank) * out
            )
        m = _base.expand_per_example(params["mix"], rank)
        return m * inputs + (1.0 - m) * mixed

    def apply(self, inputs, params):
        return self._apply(inputs, params, None)

    def get_config(self):
        return {
            **super().get_config(),
            "severity": self.severity,
            "width": self.width,
            "depth": self.depth,
            "alpha": self.alpha,
            "jsd": self.jsd,
            "ops": self.ops,
        }


@keras.saving.register_keras_serializable(package="keras_regkit")
class JensenShannonCrossEntropy(keras.losses.Loss):
    """AugMix's loss: cross-entropy plus Jensen-Shannon consistency.

    For predictions on ``num_views * n`` examples (the clean batch, then
    the augmented views, as ``AugMix(jsd=True)`` produces them), the loss
    of example ``b`` is the cross-entropy of its clean prediction ``p_0``
    plus ``weight`` times the Jensen-Shannon divergence of its
    predictions: ``mean_i KL(p_i || M)``, ``M = mean_i p_i``. Labels may
    be sparse or one-hot (only the first ``n`` are used). The loss returns
    one value per row: ``num_views`` times the example's loss on its clean
    row and 0 on the views, so the default mean reduction gives the mean
    over examples, and sample weights (which the pipeline repeats) apply
    to each example once.

    Args:
        num_views: Views per example, clean one included, >= 2.
        weight: Weight of the consistency term (12 in the paper), >= 0.
        from_logits: Whether predictions are logits (else probabilities).
        **kwargs: Base loss arguments (``name``, ``reduction``).

    Example:
    >>> import numpy as np
    >>> loss = JensenShannonCrossEntropy(weight=12.0)
    >>> same = np.tile([[0.7, 0.3]], (9, 1)).astype("float32")
    >>> # Identical views: no divergence, the mean of -log 0.7, -log 0.3,
    >>> # -log 0.7.
    >>> round(float(loss(np.array([0, 1, 0] * 3), same)), 4)
    0.6391
    """

    def __init__(
        self,
        num_views=3,
        weight=12.0,
        from_logits=False,
        **kwargs,
    ):
        kwargs.setdefault("name", "jensen_shannon_cross_entropy")
        super().__init__(**kwargs)
        self.num_views = _validation.check_int(
            "num_views", num_views, low=2, owner=self
        )
        self.weight = _validation.check_float(
            "weight", weight, low=0.0, owner=self
        )
        self.from_logits = _validation.check_bool(
            "from_logits", from_logits, owner=self
        )

    def call(self, y_true, y_pred):
        y_pred = tf.convert_to_tensor(y_pred)
        n = tf.shape(y_pred)[0] // self.num_views
        if self.from_logits:
            log_probs = tf.nn.log_softmax(y_pred, axis=-1)
        else:
            probs = y_pred / tf.reduce_sum(y_pred, axis=-1, keepdims=True)
            log_probs = tf.math.log(tf.clip_by_value(probs, 1e-7, 1.0))
        classes = tf.shape(y_pred)[-1]
        log_probs = tf.reshape(log_probs, [self.num_views, n, classes])
        y_true = tf.convert_to_tensor(y_true)
        if y_true.shape.rank == y_pred.shape.rank and (
            y_true.shape[-1] == y_pred.shape[-1] and y_pred.shape[-1] != 1
        ):
            target = tf.cast(y_true[:n], tf.float32)
        else:
            sparse = tf.cast(tf.reshape(y_true, [-1])[:n], tf.int32)
            target = tf.one_hot(sparse, classes)
        cross_entropy = -tf.reduce_sum(target * log_probs[0], axis=-1)
        probs = tf.exp(log_probs)
        log_mixture = tf.math.log(
            tf.clip_by_value(tf.reduce_mean(probs, axis=0), 1e-7, 1.0)
        )
        divergence = tf.reduce_mean(
            tf.reduce_sum(probs * (log_probs - log_mixture), axis=-1), axis=0
        )
        values = cross_entropy + self.weight * divergence
        # One value per row of the input, so that weights repeated by the
        # pipeline line up: the clean rows carry num_views x the loss,
        # the views 0, and the mean over rows is the mean over examples.
        padding = tf.zeros([(self.num_views - 1) * n])
        return tf.concat([values * float(self.num_views), padding], axis=0)

    def get_config(self):
        return {
            **super().get_config(),
            "num_views": self.num_views,
            "weight": self.weight,
            "from_logits": self.from_logits,
        }

"""Control: apply one of several ops, or a group of ops, per example.

A composite op holds child ops in order and draws, for the whole batch
at once, a 0/1 gate per example and child: the child applies to the
examples whose gate is 1 (its own probability still applies on top).
Every child is computed on the whole batch and selected with
multiplicative masks (no per-example Python, no ``vectorized_map``), so
the choice is made per example, on every batch, from the batch's seed
(never once per trace).

Consecutive geometric children are folded into one matrix per example
(gated matrices are the identity where the gate is 0) and resampled once,
with the pipeline's fill mode and interpolation. A composite whose
children are all geometric is itself a geometric op: the pipeline fuses
it with the geometric ops around it.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment import _base
from keras_regkit.augment import _resample
from keras_regkit.augment.pipeline import deserialize_ops
from keras_regkit.augment.pipeline import serialize_ops

_DEFAULT_SETTINGS = {
    "interpolation": "bilinear",
    "fill_mode": "constant",
    "fill_value": 0.0,
    "gather": False,
}


def check_children(owner, ops, name="ops"):
    """Validates a composite's child ops; returns them as ops.

    Children must be ops that keep the batch and the image size: no
    label-mixing ops, no AugMix consistency views, no resized crop.
    """
    ops = deserialize_ops(ops, owner, name)
    if not ops:
        raise _base.prefixed(
            owner,
            ValueError(
                _validation.error_message(name, "a non-empty list of ops", ops)
            ),
        )
    for op in ops:
        if (
            op.kind == _base.MIX
            or op.views > 1
            or op.output_size(7, 5) != (7, 5)
        ):
            raise _base.prefixed(
                owner,
                ValueError(
                    _validation.error_message(
                        name,
                        "ops that keep the batch and the image size (no "
                        "label mixing, consistency views or resized crop)",
                        type(op).__name__,
                    )
                ),
            )
    return ops


def _gate_params(op, params, gate):
    """Folds a ``(batch,)`` 0/1 gate into an op's drawn parameters."""
    params = dict(params)
    if op.kind == _base.GEOMETRY:
        eye = tf.eye(3, dtype=tf.float32)
        params["matrix"] = eye + gate[:, None, None] * (params["matrix"] - eye)
    elif "gate" in params:
        params["gate"] = params["gate"] * gate
    else:
        params["gate"] = gate
    return params


def plan(ops):
    """Groups a sequence of ops: runs of geometric ops, single pixel ops.

    Returns:
        A list of lists of indices into ``ops``; a list of several
        indices, or of one geometric op, is resampled once.
    """
    groups = []
    for i, op in enumerate(ops):
        geometric = op.kind == _base.GEOMETRY
        if geometric and groups and ops[groups[-1][0]].kind == _base.GEOMETRY:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def sample_sequence(ops, gates, seed, batch_size, image_shape):
    """Draws the parameters of gated ops applied in sequence.

    Args:
        ops: The ops, in order.
        gates: float32 ``(batch, len(ops))`` 0/1: where each op applies.
        seed: A shape-(2,) stateless seed.
        batch_size: The number of examples.
        image_shape: ``(height, width, channels)``.

    Returns:
        A list with one parameter dict per group of `plan` (a fused
        ``"matrix"`` in pixel coordinates for a geometric group).
    """
    seeds = _base.split_seed(seed, len(ops))
    params = [
        _gate_params(op, op.sample(s, batch_size, image_shape), gates[:, i])
        for i, (op, s) in enumerate(zip(ops, seeds, strict=True))
    ]
    out = []
    for group in plan(ops):
        if ops[group[0]].kind != _base.GEOMETRY:
            out.append(params[group[0]])
            continue
        matrix = fuse([params[i]["matrix"] for i in group])
        size = image_shape[:2]
        out.append({"matrix": _resample.to_pixels(matrix, size, size)})
    return out


def fuse(matrices):
    """The product of centred matrices, the first op's on the left."""
    matrix = matrices[0]
    for m in matrices[1:]:
        matrix = tf.linalg.matmul(matrix, m)
    return matrix


def run_sequence(ops, params, images, settings):
    """Applies gated ops in sequence with `sample_sequence`'s parameters."""
    settings = settings or _DEFAULT_SETTINGS
    shape = tf.shape(images)
    size = (
        images.shape[1] if images.shape[1] is not None else shape[1],
        images.shape[2] if images.shape[2] is not None else shape[2],
    )
    for group, group_params in zip(plan(ops), params, strict=True):
        op = ops[group[0]]
        if op.kind == _base.GEOMETRY:
            images = _resample.resample(
                images, group_params["matrix"], size, **settings
            )
        else:
            images = op.transform(images, group_params, settings)
    return images


class Composite(_base.Augmentation):
    """Child ops applied in sequence, each to the examples its gate picks.

    Subclasses set the children with ``_set_children`` and implement
    ``_gates(seed, batch_size)``, returning float32 ``(batch,
    len(children))`` 0/1 gates.
    """

    def _set_children(self, children):
        self._children = list(children)
        if all(op.kind == _base.GEOMETRY for op in self._children):
            self.kind = _base.GEOMETRY
        self.supports_xla = all(op.supports_xla for op in self._children)

    def validate(self, image_shape, has_labels=False, labels_spec=None):
        for op in self._children:
            try:
                op.validate(image_shape, has_labels, labels_spec)
            except ValueError as error:
                raise _base.prefixed(self, error) from None

    def _sample(self, seed, batch_size, image_shape):
        gate_seed, seed = _base.split_seed(seed, 2)
        gates = self._gates(gate_seed, batch_size)
        if self.kind == _base.GEOMETRY:
            seeds = _base.split_seed(seed, len(self._children))
            matrices = [
                _gate_params(op, op.sample(s, batch_size, image_shape), g)[
                    "matrix"
                ]
                for op, s, g in zip(
                    self._children,
                    seeds,
                    tf.unstack(gates, axis=1),
                    strict=True,
                )
            ]
            return {"matrix": fuse(matrices)}
        groups = sample_sequence(
            self._children, gates, seed, batch_size, image_shape
        )
        return {"groups": groups}

    def _run(self, images, params, settings):
        return run_sequence(self._children, params["groups"], images, settings)


def _one_hot_choice(seed, batch_size, weights):
    """``(batch, len(weights))`` one-hot rows drawn with ``weights``."""
    logits = tf.math.log(tf.constant([weights], tf.float32))
    index = tf.random.stateless_categorical(
        logits, batch_size, seed=seed, dtype=tf.int32
    )[0]
    return tf.one_hot(index, len(weights), dtype=tf.float32)


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomChoice(Composite):
    """Applies one of several ops, chosen per example on every batch.

    Every op is computed on the whole batch and each example keeps the
    output of its own choice. Geometric choices are folded into one
    matrix (and, when every op is geometric, fused with the pipeline's
    other geometric ops).

    Args:
        ops: The ops to choose from (or their serialized configs).
        weights: Relative chances of the ops (non-negative, summing to
            more than 0), or None for equal chances.
        probability: Chance, per example, that an op applies at all.

    Example:
    >>> import numpy as np
    >>> from keras_regkit import augment as rka
    >>> choice = rka.RandomChoice(
    ...     [rka.RandomSolarize(0.0), rka.RandomBrightness((-1.0, -1.0))]
    ... )
    >>> x = np.full((64, 4, 6, 3), 0.25, "float32")
    >>> out = rka.Pipeline([choice]).augment(x, seed=0).numpy()
    >>> sorted(np.unique(out).tolist())
    [0.0, 0.75]
    """

    def __init__(self, ops, weights=None, probability=1.0):
        super().__init__(probability)
        self.ops = check_children(self, ops)
        self.weights = None
        if weights is not None:
            if not isinstance(weights, (list, tuple)) or len(weights) != len(
                self.ops
            ):
                raise _base.prefixed(
                    self,
                    ValueError(
                        _validation.error_message(
                            "weights",
                            f"a list of {len(self.ops)} floats",
                            weights,
                        )
                    ),
                )
            self.weights = [
                _base.check(self, _validation.check_float, "weights", w, low=0)
                for w in weights
            ]
            if sum(self.weights) <= 0:
                raise _base.prefixed(
                    self,
                    ValueError(
                        _validation.error_message(
                            "weights", "weights with a positive sum", weights
                        )
                    ),
                )
        self._set_children(self.ops)

    def _gates(self, seed, batch_size):
        weights = self.weights or [1.0] * len(self.ops)
        return _one_hot_choice(seed, batch_size, weights)

    def get_config(self):
        return {
            **super().get_config(),
            "ops": serialize_ops(self.ops),
            "weights": self.weights,
        }


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomApply(Composite):
    """Applies a group of ops, in order, to a random subset of examples.

    One draw per example decides whether the whole group applies; each
    op's own probability still applies on top.

    Args:
        ops: The ops, in order (or their serialized configs).
        probability: Chance, per example, that the group applies.

    Example:
    >>> import numpy as np
    >>> from keras_regkit import augment as rka
    >>> group = rka.RandomApply([rka.RandomGrayscale(1.0)], probability=0.5)
    >>> x = np.tile(np.eye(3, dtype="float32"), (64, 1, 1, 1))
    >>> gray = rka.Pipeline([group]).augment(x, seed=0).numpy()
    >>> 16 < int((gray[:, 0, 0, 1] > 0).sum()) < 48
    True
    """

    _gated = False

    def __init__(self, ops, probability=0.5):
        super().__init__(probability)
        self.ops = check_children(self, ops)
        self._set_children(self.ops)

    def _gates(self, seed, batch_size):
        coin = _base.bernoulli(seed, [batch_size, 1], self.probability)
        return tf.tile(coin, [1, len(self.ops)])

    def get_config(self):
        return {**super().get_config(), "ops": serialize_ops(self.ops)}

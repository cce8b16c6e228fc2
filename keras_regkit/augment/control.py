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
with the pipeline's fill mode and interpolation (one chain of ops,
`keras_regkit.augment._chain`, plans, samples and runs the children). A
composite whose children are all geometric is itself geometric: the
pipeline fuses it with the geometric ops around it.

Targets (masks, boxes, keypoints) go through the children as through a
pipeline: geometric children move them, an erasing child may fill masks,
others leave them; a child that cannot keep a target makes the composite
refuse it, naming both.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment import _base
from keras_regkit.augment import _chain


def check_children(owner, ops, name="ops"):
    """Validates a composite's child ops; returns them as ops.

    Children must be ops that keep the batch and the image size: no
    batch (label-mixing) ops, no AugMix consistency views, no resized
    crop.
    """
    ops = _chain.deserialize_ops(ops, owner, name)
    if not ops:
        raise _validation.invalid(
            name, "a non-empty list of ops", ops, owner=owner
        )
    for op in ops:
        if (
            isinstance(op, _base.BatchOp)
            or op.views > 1
            or op.output_size(7, 5) != (7, 5)
        ):
            expected = (
                "ops that keep the batch and the image size (no label "
                "mixing, consistency views or resized crop)"
            )
            raise _validation.invalid(
                name, expected, type(op).__name__, owner=owner
            )
    return ops


class Composite(_base.ValueOp):
    """Child ops applied in sequence, each to the examples its gate picks.

    The children run as one `keras_regkit.augment._chain.Chain`. A
    composite's own probability and the gate a parent composite gives it
    are folded into its children's gates. A composite whose children are
    all geometric is itself geometric: its parameters are one centred
    matrix, fused with the geometric ops around it.

    Subclasses call ``_set_children`` and implement ``_gates(seed,
    batch_size)``, returning float32 ``(batch, len(children))`` 0/1
    gates.
    """

    def _set_children(self, children):
        self._chain = _chain.Chain(children)
        self.supports_xla = all(op.supports_xla for op in self._chain.ops)

    @property
    def children(self):
        """The child ops, in order."""
        return self._chain.ops

    @property
    def geometric(self):
        """Whether every child is geometric (the composite is a matrix)."""
        return self._chain.geometric

    def validate(self, shape, has_labels=False, labels_spec=None):
        self._chain.validate(shape, has_labels, labels_spec, owner=self)

    def check_targets(self, targets, has_labels=False):
        self._chain.check_targets(targets, has_labels, owner=self)

    def sample(self, seed, batch_size, shape, gate=None):
        seed, gate = self._own_gate(seed, batch_size, gate)
        gate_seed, seed = _base.split_seed(seed, 2)
        gates = self._gates(gate_seed, batch_size)
        if gate is not None:
            gates = gates * gate[:, None]
        if self.geometric:
            matrix = self._chain.sample_matrix(seed, batch_size, shape, gates)
            return {"matrix": matrix}
        return {"stages": self._chain.sample(seed, batch_size, shape, gates)}

    def _apply(self, inputs, params, settings):
        return self._chain.run(inputs, None, params["stages"], settings)[0]

    def transform_with_targets(
        self, images, targets, params, settings=None, target_settings=None
    ):
        if not targets:
            return self.transform(images, params, settings), targets
        images, _, targets = self._chain.run_targets(
            images, None, targets, params["stages"], settings, target_settings
        )
        return images, targets

    def apply(self, inputs, params):
        return self._apply(inputs, params, None)


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
            expected = f"a list of {len(self.ops)} floats"
            if not isinstance(weights, (list, tuple)):
                raise _validation.invalid(
                    "weights", expected, weights, owner=self, error=TypeError
                )
            if len(weights) != len(self.ops):
                raise _validation.invalid(
                    "weights", expected, weights, owner=self
                )
            self.weights = [
                _validation.check_float("weights", w, low=0, owner=self)
                for w in weights
            ]
            if sum(self.weights) <= 0:
                raise _validation.invalid(
                    "weights",
                    "weights with a positive sum",
                    weights,
                    owner=self,
                )
        self._set_children(self.ops)

    def _gates(self, seed, batch_size):
        weights = self.weights or [1.0] * len(self.ops)
        return _base.one_hot_choice(seed, batch_size, weights)

    def get_config(self):
        return {
            **super().get_config(),
            "ops": _chain.serialize_ops(self.ops),
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
        return {**super().get_config(), "ops": _chain.serialize_ops(self.ops)}

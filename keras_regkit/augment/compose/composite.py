"""Composite ops: child ops applied in sequence, each gated per example.

A composite op holds child ops in order and draws, for the whole batch
at once, a 0/1 gate per example and child: the child applies to the
examples whose gate is 1 (its own probability still applies on top).
Every child is computed on the whole batch and selected with
multiplicative masks (no per-example Python, no ``vectorized_map``), so
the choice is made per example, on every batch, from the batch's seed
(never once per trace).

Consecutive geometric children are folded into one matrix per example
(gated matrices are the identity where the gate is 0) and resampled once,
with the pipeline's fill mode and interpolation (the children are
planned, sampled and run as one chain of ops, as in a `Pipeline`). A
composite whose children are all geometric is itself geometric: the
pipeline fuses it with the geometric ops around it.

Targets (masks, boxes, keypoints) go through the children as through a
pipeline: geometric children move them, an erasing child may fill masks,
others leave them; a child that cannot keep a target makes the composite
refuse it, naming both.
"""

from __future__ import annotations

from keras_regkit import _validation
from keras_regkit.augment._core import chain
from keras_regkit.augment._core import roles
from keras_regkit.augment._core import sampling
from keras_regkit.augment._core import targets as _targets


def check_children(owner, ops, name="ops"):
    """Validates a composite's child ops; returns them as ops.

    Children must be ops that keep the batch and the image size: no
    batch (label-mixing) ops, no AugMix consistency views, no resized
    crop.
    """
    ops = chain.deserialize_ops(ops, owner, name)
    if not ops:
        raise _validation.invalid(
            name, "a non-empty list of ops", ops, owner=owner
        )
    for op in ops:
        if (
            isinstance(op, roles.BatchOp)
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


class Composite(roles.ValueOp):
    """Child ops applied in sequence, each to the examples its gate picks.

    The children run as one chain of ops, as in a `Pipeline`. A
    composite's own probability and the gate a parent composite gives it
    are folded into its children's gates. A composite whose children are
    all geometric is itself geometric: its parameters are one centred
    matrix, fused with the geometric ops around it.

    Subclasses call ``_set_children`` and implement ``_gates(seed,
    batch_size)``, returning float32 ``(batch, len(children))`` 0/1
    gates.
    """

    def _set_children(self, children):
        self._chain = chain.Chain(children)
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

    @property
    def supported_targets(self):
        """The targets every child supports (its declaration)."""
        return tuple(
            target
            for target in _targets.KINDS
            if all(target in op.supported_targets for op in self.children)
        )

    def check_targets(self, targets, has_labels=False):
        # The children's declarations, read by the chain: a refusal names
        # the child, prefixed by the composite.
        self._chain.check_targets(targets, has_labels, owner=self)

    def sample(self, seed, batch_size, shape, gate=None):
        seed, gate = self._own_gate(seed, batch_size, gate)
        gate_seed, seed = sampling.split_seed(seed, 2)
        gates = self._gates(gate_seed, batch_size)
        if gate is not None:
            gates = gates * gate[:, None]
        if self.geometric:
            matrix = self._chain.sample_matrix(seed, batch_size, shape, gates)
            return {"matrix": matrix}
        return {"stages": self._chain.sample(seed, batch_size, shape, gates)}

    def transform(
        self, inputs, params, settings=None, targets=None, target_settings=None
    ):
        # The children's gates hold the composite's: nothing to blend.
        stages = params["stages"]
        if not targets:
            images, _ = self._chain.run(inputs, None, stages, settings)
            return images, targets
        images, _, targets = self._chain.run_targets(
            inputs, None, targets, stages, settings, target_settings
        )
        return images, targets

    def apply(self, inputs, params):
        return self.transform(inputs, params)[0]

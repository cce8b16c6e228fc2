"""RandomChoice and RandomApply: one of several ops, or a group, per example.

Composite ops (`keras_regkit.augment.compose.composite`): the choice is
made per example, on every batch, from the batch's seed.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import chain
from keras_regkit.augment._core import sampling
from keras_regkit.augment.compose import composite


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomChoice(composite.Composite):
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
        self.ops = composite.check_children(self, ops)
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
        return sampling.one_hot_choice(seed, batch_size, weights)

    def get_config(self):
        return {
            **super().get_config(),
            "ops": chain.serialize_ops(self.ops),
            "weights": self.weights,
        }


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomApply(composite.Composite):
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
        self.ops = composite.check_children(self, ops)
        self._set_children(self.ops)

    def _gates(self, seed, batch_size):
        coin = sampling.bernoulli(seed, [batch_size, 1], self.probability)
        return tf.tile(coin, [1, len(self.ops)])

    def get_config(self):
        return {**super().get_config(), "ops": chain.serialize_ops(self.ops)}

"""RandAugment and TrivialAugment: ops chosen per example, every batch.

Each policy chooses its ops per example, on every batch, from the batch's
seed. They are composite ops
(`keras_regkit.augment.compose.composite`): every op of a step is
computed on the whole batch and each example keeps its own choice; the
geometric ops of consecutive steps are fused into one resampling. The
ops and their magnitudes: `keras_regkit.augment.compose.policy_ops`.

References:
    Cubuk et al., "RandAugment: Practical automated data augmentation
    with a reduced search space", 2020.
    Müller and Hutter, "TrivialAugment: Tuning-free Yet State-of-the-Art
    Data Augmentation", 2021.
"""

from __future__ import annotations

import keras

from keras_regkit import _validation
from keras_regkit.augment.compose import composite
from keras_regkit.augment.compose import policy_ops


class _Policy(composite.Composite):
    """A composite of ``len(steps)`` uniform per-example choices."""

    def _set_steps(self, steps):
        self._step_lists = steps
        self._set_children([op for step in steps for op in step])

    def _gates(self, seed, batch_size):
        return policy_ops.step_gates(seed, batch_size, self._step_lists)


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
        self.ops, names = policy_ops.check_op_names(
            self, ops, policy_ops.OP_NAMES
        )
        level = self.magnitude / 10.0
        self._set_steps(
            policy_ops.steps(
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
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.TrivialAugment(ops=["rotate", "solarize"])
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    """

    def __init__(self, ops=None, probability=1.0):
        super().__init__(probability)
        self.ops, names = policy_ops.check_op_names(
            self, ops, policy_ops.OP_NAMES
        )
        self._set_steps(policy_ops.steps(names, 1, True, 0.0, 1.0, 0.0))

    def get_config(self):
        return {**super().get_config(), "ops": self.ops}

"""Soft orthogonality: ||WᵀW − I||²_F on a kernel of any rank.

Reference:
    Bansal, Chen & Wang, "Can we gain more from orthogonality
    regularizations in training deep CNNs?", NeurIPS 2018 (the SO penalty).
"""

from __future__ import annotations

import keras
from keras import ops

from keras_regkit import _validation
from keras_regkit.regularizers import _base
from keras_regkit.regularizers import _kernel

MODES = ("auto", "rows", "columns")


@keras.saving.register_keras_serializable(package="keras_regkit")
class Orthogonal(_base.Regularizer):
    """Soft-orthogonality penalty ``factor * ||G − I||²_F``.

    The kernel is flattened to a matrix ``W`` of shape ``(fan_in, units)``
    (all axes but the last, by the last: Dense, Conv1D/2D/3D alike) and
    ``G`` is its Gram matrix: ``WᵀW`` (``mode="columns"``: the output units
    are pushed towards orthonormal vectors) or ``WWᵀ`` (``mode="rows"``).
    ``mode="auto"`` takes the one that can reach zero: columns when
    ``fan_in >= units``, rows otherwise.

    Unlike `keras.regularizers.OrthogonalRegularizer` (rank-2 kernels
    only; normalizes the vectors and sums absolute cosines), this penalty
    also keeps the vectors at unit norm, works on any kernel rank and is
    smooth.

    Args:
        factor: Strength, a float >= 0 or a schedule.
        mode: ``"auto"``, ``"rows"`` or ``"columns"``.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> from keras_regkit.regularizers import Orthogonal
    >>> float(Orthogonal(factor=1.0)(np.eye(3, 2, dtype="float32")))
    0.0
    >>> float(Orthogonal(factor=1.0)(2 * np.eye(3, 2, dtype="float32")))
    18.0
    >>> model = keras.Sequential([keras.Input((3,)),
    ...     keras.layers.Dense(2, kernel_regularizer=Orthogonal(1e-3))])
    >>> model.compile("sgd", "mse")
    >>> _ = model.fit(np.ones((8, 3)), np.ones((8, 2)), epochs=1, verbose=0)
    """

    def __init__(self, factor=0.01, mode="auto"):
        self._factor = self.strength(factor, "factor")
        self.mode = _validation.check_choice("mode", mode, MODES, owner=self)

    @property
    def factor(self):
        return self._factor.current

    def gram(self, x):
        """The Gram matrix the penalty compares with the identity."""
        _kernel.check_rank(type(self).__name__, x)
        matrix = ops.reshape(x, (-1, x.shape[-1]))
        fan_in, units = matrix.shape
        mode = self.mode
        if mode == "auto":
            mode = "columns" if fan_in >= units else "rows"
        if mode == "columns":
            return ops.matmul(ops.transpose(matrix), matrix)
        return ops.matmul(matrix, ops.transpose(matrix))

    def __call__(self, x):
        gram = self.gram(x)
        identity = ops.eye(gram.shape[0], dtype=gram.dtype)
        return self._factor.read(x.dtype) * ops.sum(ops.square(gram - identity))

    def arguments_config(self):
        return {"factor": self._factor.config_value(), "mode": self.mode}

"""Group lasso: the L2,1 norm that zeroes whole neurons or filters.

Reference:
    Yuan & Lin, "Model selection and estimation in regression with grouped
    variables", JRSS B 2006; Scardapane et al., "Group sparse regularization
    for deep neural networks", Neurocomputing 2017.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from keras_regkit import _validation
from keras_regkit.regularizers import _base
from keras_regkit.regularizers import _kernel


def safe_norm(squares):
    """``sqrt(squares)`` with a zero (sub)gradient where ``squares == 0``.

    The L2 norm has no gradient at an all-zero group; the plain square
    root would give NaN there. The value is exact everywhere.
    """
    positive = squares > 0
    safe = ops.where(positive, squares, ops.ones_like(squares))
    return ops.where(positive, ops.sqrt(safe), ops.zeros_like(squares))


@keras.saving.register_keras_serializable(package="keras_regkit")
class GroupLasso(_base.Regularizer):
    """Group-lasso (L2,1) penalty: the sum of the L2 norms of weight groups.

    By default a group is everything feeding one output unit: a column of
    a Dense kernel ``(in, out)``, one filter of a Conv kernel
    ``(..., in, out)``. Driving a group's norm to zero removes the unit or
    filter, which plain L1 (sparse single weights) does not do. The
    penalty is

        factor * sum_g sqrt(p_g) * ||w_g||_2

    with ``p_g`` the group size when ``scale_by_group_size`` (the standard
    weighting, so groups of different layers are comparable), else 1.

    Args:
        factor: Strength, a float >= 0 or a schedule.
        axis: The axis that indexes the groups. ``None`` (the default)
            picks it from the kernel: the last axis, which is the output
            unit of Dense and the filter of Conv1D/2D/3D kernels. Give
            ``axis=0`` for an Embedding matrix to group by token, or any
            other axis for other layouts.
        scale_by_group_size: Multiply each group norm by sqrt(group size).

    Example:
    >>> import keras
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> reg = rk.regularizers.GroupLasso(factor=1.0, scale_by_group_size=False)
    >>> w = np.array([[3.0, 0.0], [4.0, 0.0]], "float32")  # (in=2, out=2)
    >>> float(reg(w))
    5.0
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(
    ...     4, kernel_regularizer=rk.regularizers.GroupLasso(1e-3))])
    >>> model.compile("sgd", "mse")
    >>> _ = model.fit(np.ones((8, 3)), np.ones((8, 4)), epochs=1, verbose=0)
    """

    def __init__(self, factor=0.01, axis=None, scale_by_group_size=True):
        self._factor = self.strength(factor, "factor")
        self.axis = (
            None
            if axis is None
            else _validation.check_int("axis", axis, owner=self)
        )
        self.scale_by_group_size = _validation.check_bool(
            "scale_by_group_size", scale_by_group_size, owner=self
        )

    @property
    def factor(self):
        return self._factor.current

    def group_norms(self, x):
        """The L2 norm of every group of ``x``, shape ``(num_groups,)``."""
        rank = _kernel.check_rank(type(self).__name__, x)
        axis = -1 if self.axis is None else self.axis
        _kernel.check_axis(type(self).__name__, axis, rank)
        columns = _kernel.groups_as_columns(x, axis)
        squares = ops.sum(ops.square(columns), axis=0)
        return safe_norm(squares)

    def __call__(self, x):
        norms = self.group_norms(x)
        penalty = ops.sum(norms)
        if self.scale_by_group_size:
            axis = -1 if self.axis is None else self.axis
            group_size = math.prod(x.shape) // x.shape[axis]
            penalty = penalty * math.sqrt(group_size)
        return self._factor.read(x.dtype) * penalty

    def arguments_config(self):
        return {
            "factor": self._factor.config_value(),
            "axis": self.axis,
            "scale_by_group_size": self.scale_by_group_size,
        }

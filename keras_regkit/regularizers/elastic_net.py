"""Elastic net in scikit-learn's parametrisation."""

from __future__ import annotations

import keras

from keras_regkit import _validation
from keras_regkit.regularizers import _base


@keras.saving.register_keras_serializable(package="keras_regkit")
class ElasticNet(_base.Regularizer):
    """Elastic-net penalty, parametrised as `sklearn.linear_model.ElasticNet`.

    The penalty is

        alpha * l1_ratio * sum(|w|) + 0.5 * alpha * (1 - l1_ratio) * sum(w**2)

    so ``alpha`` is the overall strength and ``l1_ratio`` the mix:
    ``l1_ratio=1`` is pure L1 (``L1(alpha)``), ``l1_ratio=0`` pure L2
    (``L2(alpha / 2)``). Moving ``l1_ratio`` changes the kind of
    regularization without changing its scale, which `L1L2` cannot do.

    Args:
        alpha: Overall strength, a float >= 0 or a schedule.
        l1_ratio: The L1 share, a float in [0, 1].

    Example:
    >>> import keras
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> reg = rk.regularizers.ElasticNet(alpha=0.1, l1_ratio=0.5)
    >>> float(reg(np.array([1.0, -2.0], "float32")))
    0.2750000059604645
    >>> model = keras.Sequential([keras.Input((3,)),
    ...     keras.layers.Dense(1, kernel_regularizer=reg)])
    >>> model.compile("sgd", "mse")
    >>> _ = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=1, verbose=0)
    """

    def __init__(self, alpha=0.01, l1_ratio=0.5):
        self._alpha = self.strength(alpha, "alpha")
        self.l1_ratio = _validation.check_float(
            "l1_ratio", l1_ratio, low=0.0, high=1.0, owner=self
        )

    @property
    def alpha(self):
        return self._alpha.current

    def __call__(self, x):
        alpha = self._alpha.read(x.dtype)
        l1 = keras.ops.sum(keras.ops.absolute(x))
        l2 = keras.ops.sum(keras.ops.square(x))
        return alpha * (self.l1_ratio * l1 + 0.5 * (1.0 - self.l1_ratio) * l2)

    def arguments_config(self):
        return {"alpha": self._alpha.config_value(), "l1_ratio": self.l1_ratio}

"""Tabular data: Gaussian feature noise and feature dropout.

Inputs are ``(batch, features)`` float rows (standardize the features
first: the noise's standard deviation is the same for every feature),
augmented by the same `Pipeline` as inputs, with the same seeds.
"""

from __future__ import annotations

import keras

from keras_regkit import _validation
from keras_regkit.augment._core import roles
from keras_regkit.augment._core import sampling
from keras_regkit.augment._core import value_ops

TABULAR_SHAPES = {2: "(batch, features)"}


@keras.saving.register_keras_serializable(package="keras_regkit")
class FeatureNoise(value_ops.AdditiveNoise):
    """Adds Gaussian noise to every feature of every row.

    Args:
        stddev: The noise's standard deviation, >= 0.
        probability: Chance, per row, that the op applies.

    Input shape:
        ``(batch, features)``.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rows = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    >>> pipeline = rk.augment.Pipeline([rk.augment.FeatureNoise(0.1)], seed=0)
    >>> noisy = pipeline.augment(rows, seed=1).numpy()
    >>> noisy.shape, bool(np.abs(noisy - rows).max() < 1.0)
    ((8, 4), True)
    """

    shapes = TABULAR_SHAPES

    def __init__(self, stddev=0.1, probability=1.0):
        super().__init__(stddev, probability)


@keras.saving.register_keras_serializable(package="keras_regkit")
class FeatureDropout(roles.ValueOp):
    """Replaces each feature of each row by ``value`` with chance ``rate``.

    A corruption, not a dropout layer: kept values are not rescaled.

    Args:
        rate: Chance, per feature and row, of replacement, in [0, 1].
        value: The replacement (0 is the mean of standardized features).
        probability: Chance, per row, that the op applies.

    Input shape:
        ``(batch, features)``.

    Example:
    >>> import numpy as np
    >>> from keras_regkit.augment import FeatureDropout, Pipeline
    >>> x = np.ones((1000, 8), "float32")
    >>> out = Pipeline([FeatureDropout(0.25)]).augment(x, seed=0).numpy()
    >>> abs(float((out == 0).mean()) - 0.25) < 0.02
    True
    """

    shapes = TABULAR_SHAPES

    def __init__(self, rate=0.1, value=0.0, probability=1.0):
        super().__init__(probability)
        self.rate = _validation.check_float(
            "rate", rate, low=0.0, high=1.0, owner=self
        )
        self.value = _validation.check_float("value", value, owner=self)

    def _sample(self, seed, batch_size, shape):
        draws = [batch_size, *shape]
        return {"drop": sampling.bernoulli(seed, draws, self.rate)}

    def apply(self, inputs, params):
        return inputs + params["drop"] * (self.value - inputs)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "value": self.value}

"""Value ops that several families of ops configure.

* `AdditiveNoise`: `RandomGaussianNoise` (images, clipped to [0, 1]),
  `RandomJitter` (time series) and `FeatureNoise` (tabular rows) differ
  only in the shapes they accept, their default standard deviation and
  whether the result is clipped; each is this op with those settings.
* `FactorOp`: the colour and filter ops drawing ``neutral + U(range)``
  per example from a ``factor`` argument.
"""

from __future__ import annotations

import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import checks
from keras_regkit.augment._core import roles
from keras_regkit.augment._core import sampling


class AdditiveNoise(roles.ValueOp):
    """Adds Gaussian noise of standard deviation ``stddev`` to every value.

    Subclasses set ``shapes`` and ``clip`` (whether the result is clipped
    to [0, 1], as pixels are) and give ``stddev`` its default. The normal
    draws are `sampling.normal_from_bits`'s: 16 random bits each pick
    one of 65,536 equally likely quantiles of N(0, 1) (unit variance;
    nothing beyond 4.2 standard deviations).

    Args:
        stddev: The noise's standard deviation, >= 0.
        probability: Chance, per example, that the op applies.
    """

    clip = False

    def __init__(self, stddev, probability=1.0):
        super().__init__(probability)
        self.stddev = _validation.check_float(
            "stddev", stddev, low=0.0, owner=self
        )

    def _sample(self, seed, batch_size, shape):
        count = tf.reduce_prod(tf.cast(shape, tf.int32))
        return {"bits": sampling.normal_bits(seed, batch_size, count)}

    def apply(self, inputs, params):
        shape = tf.shape(inputs)[1:]
        noise = sampling.normal_from_bits(params["bits"], shape)
        out = inputs + noise * self.stddev
        if self.clip:
            out = tf.clip_by_value(out, 0.0, 1.0)
        return out

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


class FactorOp(roles.ValueOp):
    """An op whose parameter is ``neutral + U(range)`` per example.

    The colour and filter ops that take a ``factor`` (a float ``f``:
    ``U(-f, f)``, or a pair ``(low, high)``, within the subclass's
    ``low`` and ``high``) and implement ``apply`` with the drawn
    ``params["value"]``.
    """

    neutral = 0.0
    low = -1.0
    high = 1.0

    def __init__(self, factor, probability=1.0):
        super().__init__(probability)
        self.factor = checks.config_value(factor)
        self.range = _validation.check_float_range(
            "factor", factor, low=self.low, high=self.high, owner=self
        )

    def _sample(self, seed, batch_size, image_shape):
        draw = sampling.uniform(seed, [batch_size], *self.range)
        return {"value": self.neutral + draw}

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}

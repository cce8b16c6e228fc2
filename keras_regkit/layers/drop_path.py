"""DropPath (stochastic depth): drops a whole residual branch per example.

Reference:
    Huang, Sun, Liu, Sedra and Weinberger, "Deep Networks with Stochastic
    Depth", ECCV 2016. https://arxiv.org/abs/1603.09382

Put the layer at the end of a residual branch, ``x + DropPath(r)(f(x))``:
for each example independently, the branch's output is zeroed with
probability ``rate`` (the block becomes the identity for that example)
and otherwise divided by ``1 - rate`` (``scale_by_keep``), so the expected
output is unchanged and inference needs no correction.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from keras_regkit import _validation
from keras_regkit.layers import _common


def drop_path(inputs, rate, scale_by_keep: bool = True, seed=None):
    """Zeroes whole examples with probability ``rate``.

    Args:
        inputs: A float tensor whose first axis is the batch.
        rate: Probability of dropping an example, a float or scalar tensor
            in [0, 1).
        scale_by_keep: Whether to divide the kept examples by
            ``1 - rate``.
        seed: A `keras.random.SeedGenerator` (or an int, or None).

    Returns:
        A tensor like ``inputs``.

    Example:
    >>> x = np.ones((16, 2), "float32")
    >>> y = keras.ops.convert_to_numpy(drop_path(x, 0.5, seed=3))
    >>> sorted(set(y.ravel().tolist()))  # examples dropped or doubled
    [0.0, 2.0]
    """
    keep = 1.0 - ops.cast(rate, "float32")
    shape = (ops.shape(inputs)[0],) + (1,) * (len(inputs.shape) - 1)
    noise = keras.random.uniform(shape, dtype="float32", seed=seed)
    mask = ops.cast(noise < keep, "float32")
    if scale_by_keep:
        mask = mask / keep
    return ops.multiply(inputs, ops.cast(mask, inputs.dtype))


def drop_path_rates(max_rate: float, depths: int | Sequence[int]):
    """Per-block drop rates rising linearly from 0 to ``max_rate``.

    The rule of stochastic depth's paper and of timm's ResNets and ViTs:
    block ``i`` of ``n`` (counting across stages) gets
    ``max_rate * i / (n - 1)``.

    Args:
        max_rate: The rate of the last block, in [0, 1).
        depths: The number of blocks, or a list with the number of blocks
            of each stage.

    Returns:
        A list of floats for an integer ``depths``, else one list per
        stage.

    Example:
    >>> import keras
    >>> from keras_regkit.layers import DropPath, drop_path_rates
    >>> drop_path_rates(0.2, 5)
    [0.0, 0.05, 0.1, 0.15, 0.2]
    >>> drop_path_rates(0.3, [2, 2])  # two stages of two blocks
    [[0.0, 0.1], [0.2, 0.3]]
    >>> x = inputs = keras.Input((8,))
    >>> for rate in drop_path_rates(0.2, 3):  # one per residual block
    ...     x = x + DropPath(rate, seed=0)(keras.layers.Dense(8)(x))
    >>> keras.Model(inputs, x).count_params()
    216
    """
    owner = "drop_path_rates"
    max_rate = _common.check_rate("max_rate", max_rate, owner=owner)
    if isinstance(depths, Sequence) and not isinstance(depths, str):
        stages = [
            _validation.check_int("depths", d, low=0, owner=owner)
            for d in depths
        ]
    else:
        stages = None
        depths = _validation.check_int("depths", depths, low=0, owner=owner)
    total = depths if stages is None else sum(stages)
    rates = [round(float(r), 12) for r in np.linspace(0.0, max_rate, total)]
    if stages is None:
        return rates
    split = np.cumsum([0, *stages])
    return [rates[a:b] for a, b in zip(split[:-1], split[1:], strict=True)]


@keras.saving.register_keras_serializable(package="keras_regkit")
class DropPath(_common.DropRateMixin, keras.layers.Layer):
    """Stochastic depth: drops a residual branch per example.

    Also exported as `StochasticDepth`. Use `drop_path_rates` for the
    linearly increasing rates of a deep network.

    Args:
        rate: Probability of dropping the branch for an example, in
            [0, 1): a float or a schedule (`keras_regkit.schedules`),
            updated by `keras_regkit.callbacks.ScheduleCallback` without
            retracing.
        scale_by_keep: Whether kept examples are divided by ``1 - rate``
            (the default, so the expected output equals the input).
        seed: Integer seed of the layer's random generator.

    Call arguments:
        inputs: The residual branch's output, a float tensor of any rank
            >= 1 whose first axis is the batch.
        training: Whether to drop (True inside `fit`); otherwise the layer
            is the identity.

    Input shape:
        Any, batch first.

    Output shape:
        Same as the input.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> inputs = keras.Input((8,))
    >>> branch = keras.layers.Dense(8)(inputs)
    >>> outputs = inputs + rk.layers.DropPath(0.1, seed=0)(branch)
    >>> model = keras.Model(inputs, outputs)
    >>> model.compile("sgd", "mse")
    >>> x = np.ones((4, 8), "float32")
    >>> _ = model.fit(x, x, epochs=1, verbose=0)
    >>> model.predict(x, verbose=0).shape
    (4, 8)

    Reference:
        Huang et al., "Deep Networks with Stochastic Depth", ECCV 2016.
    """

    def __init__(self, rate, scale_by_keep=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._init_rate_and_seed(rate, seed)
        self.scale_by_keep = _validation.check_bool(
            "scale_by_keep", scale_by_keep, owner=self
        )
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) < 1:
            raise _validation.invalid(
                "input_shape",
                "a shape of rank >= 1 (batch first)",
                tuple(input_shape),
                owner=self,
            )

    # One draw per example, by construction.
    draws_per_example = True

    def call(self, inputs, training=False):
        return self._drop_in_training(
            inputs, training, drop_path, scale_by_keep=self.scale_by_keep
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = {
            **self._rate_and_seed_config(),
            "scale_by_keep": self.scale_by_keep,
        }
        return {**super().get_config(), **config}


StochasticDepth = DropPath

__all__ = ["DropPath", "StochasticDepth", "drop_path", "drop_path_rates"]

"""DropBlock: dropout of contiguous blocks of a feature map.

Reference:
    Ghiasi, Lin and Le, "DropBlock: A regularization method for
    convolutional networks", NeurIPS 2018. https://arxiv.org/abs/1810.12890

How the rate becomes a seed probability. A block is dropped around every
"seed" position; seeds are drawn only where a whole block fits inside the
feature map, independently with probability ``gamma``. A position ``p``
is then covered by ``c(p)`` possible seeds (fewer near the edges; ``c`` is
a product of one count per axis, so any height != width, or depth, is
handled) and dropped with probability ``1 - (1 - gamma) ** c(p)``.
`drop_block_gamma` solves ``mean_p(1 - (1 - gamma) ** c(p)) = rate`` by
Newton's method started at 0. Its first step is the paper's formula with
the edge correction, ``rate / prod(b) * prod(S / (S - b + 1))``; the
following steps correct for overlapping blocks, which the paper's formula
ignores (it drops noticeably less than ``rate`` for large blocks). So
``rate`` is exactly the expected fraction of units dropped.

Rescaling. Each kept unit at position ``p`` is divided by its expected
keep probability ``(1 - gamma) ** c(p)``, so the expected output equals
the input at every position (the paper divides by the kept fraction
actually drawn, which is unbiased only on average and divides by zero when
everything is dropped).

Unknown sizes. The seed counts, ``gamma`` and the valid seed positions are
computed with `keras.ops` from the runtime shape, so the spatial sizes may
be unknown when the step is traced (``Input((None, None, 3))``, a fully
convolutional network fed several image sizes): one traced step serves
every size, each batch getting the geometry of its own size.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_regkit import _validation
from keras_regkit.layers import _common

_DATA_FORMATS = ("channels_last", "channels_first")
_NEWTON_STEPS = 8


def block_seed_counts(size: int, block: int) -> np.ndarray:
    """How many valid seed positions cover each position along one axis.

    Seeds are the positions where a block of length ``block`` fits inside
    ``[0, size)``; position ``p`` is covered by the seeds ``s`` with
    ``s <= p < s + block``.

    Args:
        size: Length of the axis.
        block: Block length along the axis, ``1 <= block <= size``.

    Returns:
        An int array of shape ``(size,)``.

    Example:
    >>> block_seed_counts(6, 3).tolist()
    [1, 2, 3, 3, 2, 1]
    """
    return _seed_counts(size, block, np)


def block_seed_count_map(spatial_shape, block_shape) -> np.ndarray:
    """The seed count ``c(p)`` of every position of a feature map.

    Args:
        spatial_shape: The map's spatial sizes, e.g. ``(height, width)``.
        block_shape: The block's sizes along the same axes, each at most
            the map's size.

    Returns:
        An int array of shape ``spatial_shape``: the outer product of the
        per-axis counts of `block_seed_counts`.

    Example:
    >>> block_seed_count_map((3, 4), (2, 3)).tolist()
    [[1, 2, 2, 1], [2, 4, 4, 2], [1, 2, 2, 1]]
    """
    return _seed_count_map(spatial_shape, block_shape, np)


def _seed_counts(size, block, xp):
    """`block_seed_counts` with the array module ``xp`` (numpy or ops).

    With `keras.ops`, ``size`` and ``block`` may be scalar tensors (a size
    known only at run time).
    """
    p = xp.arange(size, dtype="int32")
    return xp.minimum(p, size - block) - xp.maximum(0, p - block + 1) + 1


def _seed_count_map(spatial_shape, block_shape, xp):
    """`block_seed_count_map` with the array module ``xp``.

    `drop_block` passes `keras.ops`, so that a compiled step builds the
    counts as tensors in its graph (with numpy arrays, torch.compile broke
    the graph at the outer product and at each array-to-tensor conversion).
    """
    counts = xp.ones((), dtype="int32")
    for size, block in zip(spatial_shape, block_shape, strict=True):
        counts = xp.expand_dims(counts, -1) * _seed_counts(size, block, xp)
    return counts


def _seed_position_map(spatial_shape, block_shape):
    """1.0 where a block starting there fits inside the map, else 0.0."""
    fits = ops.ones((), dtype="float32")
    for size, block in zip(spatial_shape, block_shape, strict=True):
        axis = ops.arange(size, dtype="int32") <= size - block
        fits = ops.expand_dims(fits, -1) * ops.cast(axis, "float32")
    return fits


def _clamp(block, size):
    """``min(block, size)``; a tensor when ``size`` is one (unknown size)."""
    if isinstance(size, (int, np.integer)):
        return min(block, int(size))
    return ops.minimum(ops.cast(size, "int32"), block)


def drop_block_gamma(rate, counts, steps: int = _NEWTON_STEPS):
    """The seed probability that drops a fraction ``rate`` of the units.

    Solves ``mean(1 - (1 - gamma) ** counts) = rate`` by Newton's method
    from ``gamma = 0``. The function is increasing and concave in
    ``gamma``, so the iterates increase monotonically towards the root and
    never overshoot; the first iterate is the paper's edge-corrected
    formula. Eight steps reach float32 precision for rates up to 0.5 and
    blocks up to 7x7; higher rates with big blocks converge from below.

    Args:
        rate: The fraction to drop, a float or a scalar tensor in [0, 1).
        counts: Seed counts of the positions, e.g. from
            `block_seed_count_map` (any shape; every count >= 1).
        steps: Number of Newton steps.

    Returns:
        ``gamma`` as a float32 scalar tensor.

    Example:
    >>> counts = block_seed_count_map((8, 12), (3, 3))
    >>> gamma = float(drop_block_gamma(0.1, counts))
    >>> round(float(np.mean(1 - (1 - gamma) ** counts)), 6)
    0.1
    >>> paper = 0.1 / 9 * (8 * 12) / (6 * 10)
    >>> round(float(drop_block_gamma(0.1, counts, steps=1)), 6), round(paper, 6)
    (0.017778, 0.017778)
    """
    counts = ops.cast(ops.reshape(counts, (-1,)), "float32")
    rate = ops.cast(rate, "float32")
    gamma = ops.zeros((), "float32")
    for _ in range(steps):
        log_keep = ops.log1p(-gamma)
        keep = ops.exp(counts * log_keep)
        value = ops.mean(1.0 - keep) - rate
        slope = ops.mean(counts * ops.exp((counts - 1.0) * log_keep))
        gamma = gamma - value / slope
    return gamma


def drop_block(
    inputs,
    rate,
    block_shape,
    seed=None,
    data_format: str = "channels_last",
    per_channel: bool = False,
):
    """Drops contiguous blocks of ``inputs`` and rescales the rest.

    Args:
        inputs: A float tensor of rank ``len(block_shape) + 2``, e.g.
            ``(batch, height, width, channels)``. The spatial sizes may be
            unknown when traced: the geometry is computed from the
            runtime shape.
        rate: Expected fraction of units dropped, a float or scalar tensor
            in [0, 1).
        block_shape: Block size along each spatial axis (Python ints);
            each is clamped to the feature map's size.
        seed: A `keras.random.SeedGenerator` (or an int, or None).
        data_format: ``"channels_last"`` or ``"channels_first"``.
        per_channel: Whether each channel gets its own blocks (default:
            one set of blocks shared by all channels of an example).

    Returns:
        A tensor like ``inputs``: zero inside the dropped blocks, elsewhere
        the input divided by its expected keep probability.

    Example:
    >>> x = np.ones((2, 6, 10, 1), "float32")
    >>> y = keras.ops.convert_to_numpy(drop_block(x, 0.3, (3, 3), seed=1))
    >>> y.shape, bool(np.all(np.isfinite(y))), bool((y == 0).any())
    ((2, 6, 10, 1), True, True)
    """
    # The runtime shape: Python ints where the size is known when traced,
    # scalar tensors where it is not (e.g. ``Input((None, None, 3))`` on
    # TensorFlow), so one traced step serves every image size.
    shape = ops.shape(inputs)
    if data_format == "channels_first":
        spatial, channels = tuple(shape[2:]), shape[1]
    else:
        spatial, channels = tuple(shape[1:-1]), shape[-1]
    block = tuple(
        _clamp(b, s) for b, s in zip(block_shape, spatial, strict=True)
    )
    counts = _seed_count_map(spatial, block, ops)
    gamma = drop_block_gamma(rate, counts)
    keep_prob = ops.exp(ops.cast(counts, "float32") * ops.log1p(-gamma))

    # Seeds are drawn at every position and kept only where a whole
    # (clamped) block fits. A causal max-pool (a window of the unclamped
    # ``block_shape`` ending at each position) grows each seed into its
    # block: along an axis shorter than the block the only seed is at 0,
    # and every window covers it. The window stays static whatever the
    # size.
    batch = shape[0]
    mask_channels = channels if per_channel else 1
    noise = keras.random.uniform(
        (batch, *spatial, mask_channels), dtype="float32", seed=seed
    )
    fits = ops.expand_dims(_seed_position_map(spatial, block), -1)
    seeds = ops.cast(noise < gamma, "float32") * fits
    if any(b > 1 for b in block_shape):
        pads = [(0, 0), *((b - 1, 0) for b in block_shape), (0, 0)]
        dropped = ops.max_pool(
            ops.pad(seeds, pads),
            tuple(block_shape),
            strides=1,
            padding="valid",
            data_format="channels_last",
        )
    else:
        dropped = seeds
    scale = 1.0 / ops.maximum(keep_prob, 1e-7)
    factor = (1.0 - dropped) * ops.expand_dims(scale, -1)
    if data_format == "channels_first":
        factor = ops.moveaxis(factor, -1, 1)
    return ops.multiply(inputs, ops.cast(factor, inputs.dtype))


class _DropBlock(_common.DropRateMixin, keras.layers.Layer):
    """DropBlock over ``_rank`` spatial axes (see the public subclasses)."""

    _rank = 2

    def __init__(
        self,
        rate,
        block_size,
        data_format=None,
        per_channel=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._init_rate_and_seed(rate, seed)
        if isinstance(block_size, (list, tuple)):
            if len(block_size) != self._rank:
                raise _validation.invalid(
                    "block_size",
                    f"an integer >= 1 or a tuple of {self._rank} of them",
                    block_size,
                    owner=self,
                )
            self._block_shape = tuple(
                _validation.check_int("block_size", b, low=1, owner=self)
                for b in block_size
            )
            self.block_size = tuple(self._block_shape)
        else:
            self.block_size = _validation.check_int(
                "block_size", block_size, low=1, owner=self
            )
            self._block_shape = (self.block_size,) * self._rank
        if data_format is None:
            data_format = keras.config.image_data_format()
        self.data_format = _validation.check_choice(
            "data_format", data_format, _DATA_FORMATS, owner=self
        )
        self.per_channel = _validation.check_bool(
            "per_channel", per_channel, owner=self
        )
        self.supports_masking = True

    def build(self, input_shape):
        shape = tuple(input_shape)
        names = {1: "steps", 2: "height, width", 3: "depth, height, width"}
        axes = names[self._rank]
        layout = (
            f"(batch, {axes}, channels)"
            if self.data_format == "channels_last"
            else f"(batch, channels, {axes})"
        )
        if len(shape) != self._rank + 2:
            raise _validation.invalid(
                "input_shape",
                f"a rank-{self._rank + 2} shape {layout}",
                shape,
                owner=self,
            )

    # Blocks are seeded per example (and per channel if asked).
    draws_per_example = True

    def call(self, inputs, training=False):
        return self._drop_in_training(
            inputs,
            training,
            drop_block,
            block_shape=self._block_shape,
            data_format=self.data_format,
            per_channel=self.per_channel,
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = {
            **self._rate_and_seed_config(),
            "block_size": self.block_size,
            "data_format": self.data_format,
            "per_channel": self.per_channel,
        }
        return {**super().get_config(), **config}


_ARGS = """
    Args:
        rate: Expected fraction of units dropped, in [0, 1): a float or a
            schedule (`keras_regkit.schedules`, e.g. the paper's linear
            ramp ``Linear(0.0, 0.1, duration=epochs)``) updated by
            `keras_regkit.callbacks.ScheduleCallback` without retracing.
        block_size: Block size, an integer >= 1 or one per spatial axis.
            Clamped to the feature map's size (a block as large as the map
            drops the whole map with probability ``rate``).
        data_format: ``"channels_last"`` or ``"channels_first"``; defaults
            to `keras.config.image_data_format()`.
        per_channel: If False (default), the blocks are shared by all
            channels of an example; if True each channel has its own.
        seed: Integer seed of the layer's random generator.

    Call arguments:
        inputs: A float tensor. Its spatial sizes may differ from call to
            call and be unknown when traced (``Input((None, None, 3))``):
            the block geometry and the seed probability are computed from
            the runtime shape.
        training: Whether to drop (True inside `fit`); otherwise the layer
            is the identity.
"""


@keras.saving.register_keras_serializable(package="keras_regkit")
class DropBlock1D(_DropBlock):
    __doc__ = (
        """DropBlock for sequences: drops contiguous runs of steps.

    See the module docstring for how ``rate`` sets the seed probability and
    how the output is rescaled (by the expected keep probability of each
    position, so the expected output equals the input).
"""
        + _ARGS
        + """
    Input shape:
        ``(batch, steps, channels)`` or ``(batch, channels, steps)``.

    Output shape:
        Same as the input.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> layer = rk.layers.DropBlock1D(0.2, block_size=3, seed=0)
    >>> x = np.ones((4, 10, 2), "float32")
    >>> bool((np.asarray(layer(x)) == x).all())  # inference: identity
    True
    >>> y = np.asarray(layer(x, training=True))
    >>> bool((y[..., 0] == y[..., 1]).all())  # blocks shared by channels
    True
    >>> model = keras.Sequential([keras.Input((10, 2)),
    ...     keras.layers.Conv1D(4, 3, padding="same"),
    ...     rk.layers.DropBlock1D(0.1, block_size=3, seed=0),
    ...     keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> _ = model.fit(x, np.zeros((4, 1)), epochs=1, verbose=0)

    Reference:
        Ghiasi et al., "DropBlock: A regularization method for
        convolutional networks", NeurIPS 2018.
    """
    )
    _rank = 1


@keras.saving.register_keras_serializable(package="keras_regkit")
class DropBlock2D(_DropBlock):
    __doc__ = (
        """DropBlock for images: drops contiguous square (or given) blocks.

    See the module docstring for how ``rate`` sets the seed probability and
    how the output is rescaled (by the expected keep probability of each
    position, so the expected output equals the input).
"""
        + _ARGS
        + """
    Input shape:
        ``(batch, height, width, channels)`` or
        ``(batch, channels, height, width)``.

    Output shape:
        Same as the input.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> layer = rk.layers.DropBlock2D(0.1, block_size=3, seed=0)
    >>> x = np.ones((64, 12, 20, 1), "float32")
    >>> y = np.asarray(layer(x, training=True))
    >>> round(float((y == 0).mean()), 1)  # fraction dropped
    0.1
    >>> model = keras.Sequential([keras.Input((12, 20, 1)),
    ...     keras.layers.Conv2D(4, 3, padding="same"),
    ...     rk.layers.DropBlock2D(0.1, block_size=3, seed=0),
    ...     keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> _ = model.fit(x[:8], np.zeros((8, 1)), epochs=1, verbose=0)

    Reference:
        Ghiasi et al., "DropBlock: A regularization method for
        convolutional networks", NeurIPS 2018.
    """
    )
    _rank = 2


@keras.saving.register_keras_serializable(package="keras_regkit")
class DropBlock3D(_DropBlock):
    __doc__ = (
        """DropBlock for volumes: drops contiguous cubes (or given boxes).

    See the module docstring for how ``rate`` sets the seed probability and
    how the output is rescaled (by the expected keep probability of each
    position, so the expected output equals the input).
"""
        + _ARGS
        + """
    Input shape:
        ``(batch, depth, height, width, channels)`` or
        ``(batch, channels, depth, height, width)``.

    Output shape:
        Same as the input.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> model = keras.Sequential([keras.Input((3, 4, 5, 1)),
    ...     keras.layers.Conv3D(2, 2, padding="same"),
    ...     rk.layers.DropBlock3D(0.2, block_size=(1, 2, 2), seed=0),
    ...     keras.layers.GlobalAveragePooling3D(), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> x = np.ones((2, 3, 4, 5, 1), "float32")
    >>> _ = model.fit(x, np.zeros((2, 1)), epochs=1, verbose=0)
    >>> model.predict(x, verbose=0).shape  # inference: no block dropped
    (2, 1)

    Reference:
        Ghiasi et al., "DropBlock: A regularization method for
        convolutional networks", NeurIPS 2018.
    """
    )
    _rank = 3


__all__ = [
    "DropBlock1D",
    "DropBlock2D",
    "DropBlock3D",
    "block_seed_count_map",
    "block_seed_counts",
    "drop_block",
    "drop_block_gamma",
]

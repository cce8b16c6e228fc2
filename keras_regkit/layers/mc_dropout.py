"""Monte Carlo dropout: dropout kept on at inference, and its predictions.

Reference:
    Gal and Ghahramani, "Dropout as a Bayesian Approximation: Representing
    Model Uncertainty in Deep Learning", ICML 2016.
    https://arxiv.org/abs/1506.02142

`MCDropout` drops units whether or not the model is training, so repeated
predictions of one input differ; `mc_predict` summarises ``samples`` of
them by their mean and standard deviation. It repeats each chunk of the
input ``samples`` times and runs one forward pass per chunk (the compiled
`predict_on_batch` function) instead of ``samples`` separate passes; only
`MCDropout` layers are stochastic then: Keras's `Dropout` stays off and
`BatchNormalization` uses its moving statistics, as at inference.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_regkit import _validation
from keras_regkit.layers import _common


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Inverted dropout: zeroes units with probability ``rate``.

    Args:
        inputs: A float tensor.
        rate: Probability of dropping a unit, a float or scalar tensor in
            [0, 1).
        noise_shape: The mask's shape, broadcast against ``inputs``;
            ``None`` entries take the input's size. None: the input's
            shape.
        seed: A `keras.random.SeedGenerator` (or an int, or None).

    Returns:
        A tensor like ``inputs``: kept units divided by ``1 - rate``.

    Example:
    >>> x = np.ones((4, 3), "float32")
    >>> y = keras.ops.convert_to_numpy(dropout(x, 0.5, (None, 1), seed=0))
    >>> bool(all(len(set(row)) == 1 for row in y))  # one draw per row
    True
    """
    shape = ops.shape(inputs)
    if noise_shape is not None:
        shape = tuple(
            size if dim is None else dim
            for size, dim in zip(shape, noise_shape, strict=True)
        )
    keep = 1.0 - ops.cast(rate, "float32")
    noise = keras.random.uniform(shape, dtype="float32", seed=seed)
    mask = ops.cast(noise < keep, "float32") / keep
    return ops.multiply(inputs, ops.cast(mask, inputs.dtype))


@keras.saving.register_keras_serializable(package="keras_regkit")
class MCDropout(_common.DropRateMixin, keras.layers.Layer):
    """Dropout that stays on at inference, for Monte Carlo uncertainty.

    Like `keras.layers.Dropout` but active whatever ``training`` says, so
    `mc_predict` (or repeated calls) sample from the approximate
    posterior predictive of Gal and Ghahramani.

    Args:
        rate: Probability of dropping a unit, in [0, 1): a float or a
            schedule (`keras_regkit.schedules`), updated by
            `keras_regkit.callbacks.ScheduleCallback` without retracing.
        noise_shape: Shape of the mask, broadcast against the input, e.g.
            ``(None, 1, 1, None)`` for channel dropout; ``None`` entries
            take the input's size. None: independent units.
        seed: Integer seed of the layer's random generator.

    Call arguments:
        inputs: A float tensor.
        training: Ignored: the layer always drops.

    Input shape:
        Any.

    Output shape:
        Same as the input.

    Example:
    >>> import numpy as np
    >>> layer = MCDropout(0.5, seed=0)
    >>> x = np.ones((1, 8), "float32")
    >>> a, b = np.asarray(layer(x)), np.asarray(layer(x))  # training unset
    >>> bool((a != b).any()), sorted(set(a.ravel().tolist()))
    (True, [0.0, 2.0])

    Reference:
        Gal and Ghahramani, "Dropout as a Bayesian Approximation", ICML
        2016.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._init_rate_and_seed(rate, seed)
        if noise_shape is not None:
            if isinstance(noise_shape, str) or not hasattr(
                noise_shape, "__iter__"
            ):
                raise TypeError(
                    _validation.error_message(
                        "noise_shape",
                        "None or a tuple of integers >= 1 or None",
                        noise_shape,
                    )
                )
            noise_shape = tuple(
                None
                if dim is None
                else _validation.check_int("noise_shape", dim, low=1)
                for dim in noise_shape
            )
        self.noise_shape = noise_shape
        self.supports_masking = True

    def build(self, input_shape):
        if self.noise_shape is not None and len(self.noise_shape) != len(
            input_shape
        ):
            raise ValueError(
                _validation.error_message(
                    "noise_shape",
                    f"{len(input_shape)} entries, one per axis of the "
                    f"input shape {tuple(input_shape)}",
                    self.noise_shape,
                )
            )

    def call(self, inputs, training=None):
        _common.check_float_inputs(inputs)
        if self._rate.is_zero():
            return inputs
        return dropout(
            inputs,
            self._rate.read("float32"),
            noise_shape=self.noise_shape,
            seed=self.seed_generator,
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = {
            **self._rate_and_seed_config(),
            "noise_shape": self.noise_shape,
        }
        return {**super().get_config(), **config}


def _first_leaf(x):
    return keras.tree.flatten(x)[0]


def _predict_rows(model, rows):
    """The model's outputs for ``rows``, one output row per input row.

    ``predict_on_batch`` is the cheapest call, but under a `tf.distribute`
    strategy with several replicas Keras hands every replica the whole
    batch and concatenates their outputs (twice the rows with two
    replicas); ``predict`` splits the batch between the replicas instead.
    """
    strategy = getattr(model, "distribute_strategy", None)
    if getattr(strategy, "num_replicas_in_sync", 1) > 1:
        size = _first_leaf(rows).shape[0]
        return model.predict(rows, batch_size=size, verbose=0)
    return model.predict_on_batch(rows)


def mc_predict(
    model,
    x,
    samples: int = 30,
    batch_size: int | None = None,
    max_rows: int = 4096,
):
    """Monte Carlo predictions: mean and standard deviation over samples.

    Each chunk of ``batch_size`` examples is repeated ``samples`` times and
    passed once through ``model.predict_on_batch``; the outputs are then
    grouped back per example. With `MCDropout` layers in the model every
    copy gets its own dropout mask.

    Args:
        model: A `keras.Model` (with `MCDropout` layers, else every sample
            is the same).
        x: Inputs: an array, or a list / dict of arrays as the model takes.
        samples: Number of Monte Carlo samples per example, >= 1.
        batch_size: Examples per forward pass (each pass runs
            ``batch_size * samples`` rows). None: as many as fit in
            ``max_rows`` rows.
        max_rows: The memory bound used when ``batch_size`` is None: the
            most rows (examples times samples) in one forward pass; the
            activation memory of a pass grows with it.

    Returns:
        ``(mean, std)``: arrays (or structures of arrays, like the model's
        outputs) of the output shape, the mean and the population standard
        deviation (``ddof=0``) over the samples.

    Example:
    >>> import numpy as np
    >>> model = keras.Sequential(
    ...     [keras.Input((4,)), MCDropout(0.5, seed=0), keras.layers.Dense(1)]
    ... )
    >>> mean, std = mc_predict(model, np.ones((3, 4)), samples=20)
    >>> mean.shape, std.shape, bool((std > 0).all())
    ((3, 1), (3, 1), True)
    """
    _validation.check_type("model", model, keras.Model, "a keras.Model")
    samples = _validation.check_int("samples", samples, low=1)
    max_rows = _validation.check_int("max_rows", max_rows, low=1)
    if batch_size is None:
        batch_size = max(1, max_rows // samples)
    else:
        batch_size = _validation.check_int("batch_size", batch_size, low=1)
    x = keras.tree.map_structure(np.asarray, x)
    num = _first_leaf(x).shape[0]
    means, stds = [], []
    for start in range(0, num, batch_size):
        chunk = keras.tree.map_structure(
            lambda a, s=start: np.repeat(a[s : s + batch_size], samples, 0), x
        )
        rows = _first_leaf(chunk).shape[0] // samples
        outputs = _predict_rows(model, chunk)
        grouped = keras.tree.map_structure(
            lambda y, n=rows: np.asarray(y, dtype=np.float64).reshape(
                (n, samples, *np.shape(y)[1:])
            ),
            outputs,
        )
        means.append(keras.tree.map_structure(lambda g: g.mean(1), grouped))
        stds.append(keras.tree.map_structure(lambda g: g.std(1), grouped))

    def join(parts):
        return keras.tree.map_structure(
            lambda *a: np.concatenate(a).astype(np.float32), *parts
        )

    return join(means), join(stds)


__all__ = ["MCDropout", "dropout", "mc_predict"]

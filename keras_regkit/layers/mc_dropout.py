"""Monte Carlo dropout: dropout kept on at inference, and its predictions.

Reference:
    Gal and Ghahramani, "Dropout as a Bayesian Approximation: Representing
    Model Uncertainty in Deep Learning", ICML 2016.
    https://arxiv.org/abs/1506.02142

`MCDropout` drops units whether or not the model is training, so repeated
predictions of one input differ; `mc_predict` summarises ``samples`` of
them by their mean and standard deviation. Where every layer draws per
example it repeats each chunk of the input ``samples`` times and runs one
forward pass per chunk (the compiled `predict_on_batch` function);
otherwise one pass per sample (`choose_sampling` decides, from each
layer's `draws_per_example`). The chunking and the statistics are
shared with test-time augmentation (`keras_regkit.augment.tta_predict`).
Only layers stochastic at inference vary: Keras's `Dropout` stays off and
`BatchNormalization` uses its moving statistics, as at inference.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_regkit import _keras_internals
from keras_regkit import _monte_carlo
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
    >>> import numpy as np
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
    >>> import keras
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> model = keras.Sequential([keras.Input((8,)),
    ...     rk.layers.MCDropout(0.5, seed=0), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> x = np.ones((4, 8), "float32")
    >>> _ = model.fit(x, np.zeros((4, 1)), epochs=1, verbose=0)
    >>> mean, std = rk.layers.mc_predict(model, x, samples=10)
    >>> mean.shape, bool((std > 0).all())  # predictions vary: still dropping
    ((4, 1), True)
    >>> layer = rk.layers.MCDropout(0.5, seed=0)
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
                raise _validation.invalid(
                    "noise_shape",
                    "None or a tuple of integers >= 1 or None",
                    noise_shape,
                    owner=self,
                    error=TypeError,
                )
            noise_shape = tuple(
                None
                if dim is None
                else _validation.check_int(
                    "noise_shape", dim, low=1, owner=self
                )
                for dim in noise_shape
            )
        self.noise_shape = noise_shape
        self.supports_masking = True

    @property
    def draws_per_example(self) -> bool:
        """Whether each example gets its own mask (read by `mc_predict`).

        False when ``noise_shape`` fixes the batch entry (e.g. ``(1, None)``:
        one mask shared by the whole batch).
        """
        return self.noise_shape is None or self.noise_shape[0] is None

    def build(self, input_shape):
        if self.noise_shape is not None and len(self.noise_shape) != len(
            input_shape
        ):
            raise _validation.invalid(
                "noise_shape",
                f"{len(input_shape)} entries, one per axis of the "
                f"input shape {tuple(input_shape)}",
                self.noise_shape,
                owner=self,
            )

    def call(self, inputs, training=None):
        # Always on, whatever `training` says.
        return self._drop_in_training(
            inputs, True, dropout, noise_shape=self.noise_shape
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = {
            **self._rate_and_seed_config(),
            "noise_shape": self.noise_shape,
        }
        return {**super().get_config(), **config}


# Keras layers that run the user's own code: what they draw is unknown.
_OPAQUE_KERAS_LAYERS = frozenset(
    {"Lambda", "TFSMLayer", "JaxLayer", "FlaxLayer", "TorchModuleWrapper"}
)


def draws_per_example(layer) -> bool | None:
    """Whether stacking copies of an example on the batch axis is safe.

    Args:
        layer: A `keras.layers.Layer`.

    Returns:
        True if the layer is deterministic or draws its randomness per
        example; False if one draw is shared by the batch (then stacked
        copies of an example all get the same draw); None if unknown.

        A layer's own ``draws_per_example`` attribute decides (every
        keras_regkit layer declares it; declare it on your own layers).
        Otherwise Keras's built-in layers are per example, except a
        ``noise_shape`` whose batch entry is fixed (Keras's `Dropout` with
        ``noise_shape=(1, ...)``) and the layers that run arbitrary code
        (`Lambda`, `TFSMLayer`, `JaxLayer`, `FlaxLayer`,
        `TorchModuleWrapper`); any other layer is unknown.

    Example:
    >>> draws_per_example(MCDropout(0.5, noise_shape=(1, None)))
    False
    >>> draws_per_example(keras.layers.Dense(2))
    True
    """
    declared = getattr(layer, "draws_per_example", None)
    if declared is not None:
        return bool(declared)
    cls = type(layer)
    if (
        not cls.__module__.startswith("keras.")
        or cls.__name__ in _OPAQUE_KERAS_LAYERS
    ):
        return None
    noise_shape = getattr(layer, "noise_shape", None)
    return not noise_shape or noise_shape[0] is None


def choose_sampling(model) -> _monte_carlo.SamplingInfo:
    """Which path `mc_predict` takes for ``model`` (``sampling="auto"``).

    Stacked if every layer draws per example or not at all
    (`draws_per_example`), else separate passes, naming the layers that
    ruled stacking out.

    Args:
        model: A `keras.Model`.

    Returns:
        A `SamplingInfo` (``sampling``, ``reason``, ``layers``).

    Example:
    >>> model = keras.Sequential([keras.Input((3,)), MCDropout(0.5)])
    >>> choose_sampling(model).sampling
    'stacked'
    """
    shared, unknown = [], []
    for layer in _keras_internals.flatten_layers(model):
        verdict = draws_per_example(layer)
        if verdict is False:
            shared.append(layer.name)
        elif verdict is None:
            unknown.append(layer.name)
    if not shared and not unknown:
        return _monte_carlo.SamplingInfo(
            _monte_carlo.STACKED,
            "every layer is deterministic or draws per example",
        )
    parts = []
    if shared:
        parts.append(f"one draw per batch in {', '.join(shared)}")
    if unknown:
        parts.append(
            f"unknown randomness in {', '.join(unknown)} (declare "
            "`draws_per_example = True` on a layer that draws per example "
            "or not at all)"
        )
    return _monte_carlo.SamplingInfo(
        _monte_carlo.SEPARATE, "; ".join(parts), tuple(shared + unknown)
    )


def _predict_rows(model, rows):
    """The model's outputs for ``rows``, one output row per input row.

    ``predict_on_batch`` is the cheapest call, but under a `tf.distribute`
    strategy with several replicas Keras hands every replica the whole
    batch and concatenates their outputs (twice the rows with two
    replicas); ``predict`` splits the batch between the replicas instead.
    """
    strategy = getattr(model, "distribute_strategy", None)
    if getattr(strategy, "num_replicas_in_sync", 1) > 1:
        size = _monte_carlo.num_examples(rows)
        return model.predict(rows, batch_size=size, verbose=0)
    return model.predict_on_batch(rows)


_SAMPLINGS = ("auto", _monte_carlo.STACKED, _monte_carlo.SEPARATE)


def mc_predict(
    model,
    x,
    samples: int = 30,
    batch_size: int | None = None,
    max_rows: int = 4096,
    *,
    sampling: str = "auto",
    return_info: bool = False,
):
    """Monte Carlo predictions: mean and standard deviation over samples.

    Two ways to draw ``samples`` outputs per example, both chunked and
    through the model's compiled ``predict_on_batch`` (traced once):

    - **stacked**: each chunk of ``batch_size`` examples is repeated
      ``samples`` times on the batch axis and run in one forward pass,
      then the outputs are grouped back per example: the fewest calls
      and the largest batches. Only valid when every stochastic layer
      draws per example: a mask shared by the batch gives all copies of
      an example the same draw, hence zero spread.
    - **separate**: one forward pass per sample on each chunk; valid
      whatever the layers draw.

    Both are several times faster than a Python loop of
    ``model(x, training=True)`` calls, which runs eagerly.

    ``sampling="auto"`` (default) stacks when every layer of the model
    declares or is known to draw per example (or not at all), and
    otherwise takes separate passes (`draws_per_example` says how each
    layer is judged): an `MCDropout` whose ``noise_shape`` fixes the batch
    entry, a `DropConnectDense` with ``per_example=False``, a
    `DropConnectConv2D`, and any layer whose randomness is unknown (your
    own layers, unless they declare ``draws_per_example = True``) make it
    separate. ``return_info=True`` also returns which path was taken and
    why. Only layers that are stochastic at inference vary: `MCDropout`,
    and layers called with ``training=True``; Keras's `Dropout` stays off
    and `BatchNormalization` uses its moving statistics.

    Args:
        model: A `keras.Model` (with `MCDropout` layers, else every sample
            is the same).
        x: Inputs: an array, or a list / dict of arrays as the model takes,
            with at least one example. Anything else, or inputs the model
            refuses on the first pass, raise an error naming ``x``.
        samples: Number of Monte Carlo samples per example, >= 1.
        batch_size: Examples per chunk. None: as many as fit in
            ``max_rows`` rows (a stacked pass runs ``batch_size *
            samples`` rows, a separate pass ``batch_size``).
        max_rows: The memory bound used when ``batch_size`` is None: the
            most rows in one forward pass; the activation memory of a pass
            grows with it.
        sampling: ``"auto"``, ``"stacked"`` or ``"separate"`` (forcing a
            path: ``"stacked"`` is wrong for layers that share a draw
            across the batch).
        return_info: Also return a `SamplingInfo` with the path taken
            (``info.sampling``), the ``reason`` and the ``layers`` that
            ruled stacking out.

    Returns:
        ``(mean, std)``, or ``(mean, std, info)`` with ``return_info``:
        arrays (or structures of arrays, like the model's outputs) of the
        output shape, the mean and the population standard deviation
        (``ddof=0``) over the samples.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> from keras_regkit.layers import MCDropout, mc_predict
    >>> model = keras.Sequential(
    ...     [keras.Input((4,)), MCDropout(0.5, seed=0), keras.layers.Dense(1)]
    ... )
    >>> mean, std = mc_predict(model, np.ones((3, 4)), samples=20)
    >>> mean.shape, std.shape, bool((std > 0).all())
    ((3, 1), (3, 1), True)
    >>> shared = keras.Sequential([keras.Input((4,)),
    ...     MCDropout(0.5, noise_shape=(1, None), name="shared")])
    >>> *_, info = mc_predict(shared, np.ones((3, 4)), 20, return_info=True)
    >>> info.sampling, info.layers
    ('separate', ('shared',))
    """
    owner = "mc_predict"
    _validation.check_type(
        "model", model, keras.Model, "a keras.Model", owner=owner
    )
    x = _monte_carlo.check_batch("x", x, owner=owner)
    samples = _validation.check_int("samples", samples, low=1, owner=owner)
    max_rows = _validation.check_int("max_rows", max_rows, low=1, owner=owner)
    sampling = _validation.check_choice(
        "sampling", sampling, _SAMPLINGS, owner=owner
    )
    return_info = _validation.check_bool(
        "return_info", return_info, owner=owner
    )
    if batch_size is not None:
        batch_size = _validation.check_int(
            "batch_size", batch_size, low=1, owner=owner
        )
    if sampling == "auto":
        info = choose_sampling(model)
    else:
        info = _monte_carlo.SamplingInfo(sampling, "requested")
    if batch_size is None:
        stacked = info.sampling == _monte_carlo.STACKED
        batch_size = max(1, max_rows // samples) if stacked else max_rows
    mean, std = _monte_carlo.mean_over_passes(
        _monte_carlo.naming_errors_of_first_call(
            lambda rows, *_: _predict_rows(model, rows), "x", x, owner=owner
        ),
        x,
        samples,
        batch_size=batch_size,
        sampling=info.sampling,
    )
    return (mean, std, info) if return_info else (mean, std)


__all__ = [
    "MCDropout",
    "choose_sampling",
    "draws_per_example",
    "dropout",
    "mc_predict",
]

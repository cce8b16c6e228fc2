"""BatchNormalization statistics recomputed for the weights a model holds.

Weights that training did not visit directly (an average of weights, as
SWA's; weights loaded or edited by hand) need BatchNormalization
statistics of their own: the moving statistics of the last training
steps describe other weights. `recompute_batch_norm` sets them to the
mean of the batch statistics over one pass of data, as PyTorch's
standalone ``torch.optim.swa_utils.update_bn`` does. `rk.callbacks.SWA`
calls it on the average it swaps in.
"""

from __future__ import annotations

import keras

from keras_regkit import _keras_internals
from keras_regkit import _validation

_OWNER = "recompute_batch_norm"
_DATA = "input arrays, an (x, y) tuple of arrays or an iterable of batches"


def recompute_batch_norm(model, data, batch_size: int = 32) -> int:
    """Sets BatchNormalization statistics to their mean over one data pass.

    Every `BatchNormalization` layer's ``moving_mean`` and
    ``moving_variance`` become the arithmetic mean, over the batches of
    ``data``, of the batch statistics the layer computes in training mode
    (the mean and the biased variance, as Keras computes them), as
    ``torch.optim.swa_utils.update_bn`` does with ``momentum=None``. During
    the pass each layer's ``momentum`` is set to 0 (so after each batch the
    moving statistics hold that batch's statistics, which are summed), then
    restored. Layers frozen with ``trainable=False`` run in inference mode
    and keep their statistics. The other weights do not change.

    Args:
        model: A `keras.Model`.
        data: Input arrays, an ``(x, y)`` tuple of arrays (x is used), or
            an iterable of batches (``x`` or ``(x, y, ...)``), e.g. a
            finite `tf.data.Dataset`.
        batch_size: Batch size for arrays, an int >= 1.

    Returns:
        The number of batches used (0 if the model has no BatchNormalization
        layer: nothing is run).

    Raises:
        TypeError: If ``model`` is not a `keras.Model`, ``data`` not data
            or ``batch_size`` not an int.
        ValueError: If ``batch_size`` is below 1, or ``data`` has no batch
            (or one the model cannot be called on: the model's error is
            the cause).

    Example:
    >>> import keras
    >>> import numpy as np
    >>> from keras_regkit.training import recompute_batch_norm
    >>> bn = keras.layers.BatchNormalization()
    >>> model = keras.Sequential([keras.Input((2,)), bn])
    >>> x = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]])
    >>> recompute_batch_norm(model, x, batch_size=2)
    2
    >>> [keras.ops.convert_to_numpy(v).tolist()
    ...  for v in (bn.moving_mean, bn.moving_variance)]
    [[3.0, 4.0], [1.0, 1.0]]
    """
    check = _validation
    check.check_type("model", model, keras.Model, "a keras.Model", owner=_OWNER)
    if data is None:
        raise check.invalid("data", _DATA, data, owner=_OWNER, error=TypeError)
    check_batch_norm_data("data", data, owner=_OWNER)
    batch_size = check.check_int("batch_size", batch_size, low=1, owner=_OWNER)
    layers = batch_norm_layers(model)
    if not layers:
        return 0
    momenta = [layer.momentum for layer in layers]
    sums = [None] * len(layers)
    count = 0
    forward = _forward_function(model)
    try:
        for layer in layers:
            layer.momentum = 0.0
        for batch in _input_batches(data, batch_size):
            try:
                forward(batch)
            except (TypeError, ValueError) as error:
                raise check.invalid(
                    "data",
                    f"batches the model can be called on ({error})",
                    data,
                    owner=_OWNER,
                    error=type(error),
                ) from error
            count += 1
            for index, layer in enumerate(layers):
                stats = [
                    keras.ops.convert_to_numpy(v).astype("float64")
                    for v in (layer.moving_mean, layer.moving_variance)
                ]
                previous = sums[index] or [0.0, 0.0]
                sums[index] = [previous[0] + stats[0], previous[1] + stats[1]]
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
    if count == 0:
        raise check.invalid(
            "data", "data with at least one batch", data, owner=_OWNER
        )
    for layer, (mean_sum, variance_sum) in zip(layers, sums, strict=True):
        layer.moving_mean.assign(mean_sum / count)
        layer.moving_variance.assign(variance_sum / count)
    return count


def batch_norm_layers(model) -> list:
    """Every `keras.layers.BatchNormalization` in ``model``, nested ones too."""
    return [
        layer
        for layer in _keras_internals.flatten_layers(model)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


def check_batch_norm_data(name, data, *, owner):
    """``data`` if it can feed `recompute_batch_norm` (or is None).

    Args:
        name: The argument's name, for the message.
        data: The value to check.
        owner: Named in the message.

    Returns:
        ``data``, unchanged.

    Raises:
        TypeError: If ``data`` is neither None, arrays, an ``(x, y)`` tuple
            of arrays nor an iterable of batches.
    """
    if data is None:
        return data
    if hasattr(data, "shape"):
        if len(data.shape) == 0:
            raise _validation.invalid(
                name, f"None, {_DATA}", data, owner=owner, error=TypeError
            )
        return data
    if isinstance(data, tuple) and data and hasattr(data[0], "shape"):
        return data
    if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
        raise _validation.invalid(
            name, f"None, {_DATA}", data, owner=owner, error=TypeError
        )
    return data


def _input_batches(data, batch_size):
    """Yields input batches from arrays, ``(x, y)`` arrays or a dataset."""
    if isinstance(data, tuple) and data and hasattr(data[0], "shape"):
        data = data[0]
    if hasattr(data, "shape") and not hasattr(data, "element_spec"):
        for begin in range(0, int(data.shape[0]), batch_size):
            yield data[begin : begin + batch_size]
        return
    for batch in data:
        yield batch[0] if isinstance(batch, (tuple, list)) else batch


def _forward_function(model):
    """``model(x, training=True)``, traced once on TensorFlow."""

    def forward(x):
        model(x, training=True)

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(forward, autograph=False, reduce_retracing=True)
    return forward

"""What a study calls the error of a trained model on some data.

By default the error is the compiled loss *without* the regularization
penalties (``model.evaluate``'s ``loss`` includes them: they would make a
stronger regularizer look worse on every data set, which is not what a
validation curve is for), computed from the model's predictions in
inference mode (``training=False``: no dropout, no augmentation, the
final weights), on all the given examples. With ``metric=name`` it is the
compiled metric of that name: ``1 - value`` for a metric that increases
as the model improves (accuracy, AUC), the value itself for one that
decreases (MAE).
"""

from __future__ import annotations

import keras
import numpy as np

from keras_regkit import _keras_internals
from keras_regkit import _validation
from keras_regkit.callbacks.direction import infer_direction


def error_name(metric: str | None) -> str:
    """How a study's error is named in tables and plots.

    Example:
    >>> error_name(None), error_name("accuracy")
    ('loss', 'error (1 - accuracy)')
    """
    return "loss" if metric is None else f"error (1 - {metric})"


def predict(model, x, batch_size: int):
    """The model's outputs on ``x`` in inference mode, as numpy."""
    total = int(keras.tree.flatten(x)[0].shape[0])
    parts = []
    for start in range(0, total, batch_size):
        part = slice(start, start + batch_size)
        batch = keras.tree.map_structure(lambda a, p=part: a[p], x)
        out = model(batch, training=False)
        parts.append(keras.tree.map_structure(keras.ops.convert_to_numpy, out))
    return keras.tree.map_structure(lambda *a: np.concatenate(a), *parts)


def measure(model, data, metric: str | None, batch_size: int = 1024):
    """The error of ``model`` on ``data`` (see the module docstring).

    Args:
        model: A compiled Keras model.
        data: ``(x, y)`` numpy arrays.
        metric: None for the loss, else the name of a compiled metric.
        batch_size: Examples per forward pass.

    Returns:
        The error, a Python float.
    """
    x, y = data
    if metric is None:
        loss = model.loss
        if isinstance(loss, (list, tuple, dict)):
            # Several outputs: evaluate's total loss (penalties included).
            values = model.evaluate(
                x, y, batch_size=batch_size, verbose=0, return_dict=True
            )
            return float(values["loss"])
        y_pred = predict(model, x, batch_size)
        value = keras.losses.get(loss)(y, y_pred)
        return float(np.mean(keras.ops.convert_to_numpy(value)))
    value = _metric_value(model, x, y, metric, batch_size)
    direction = infer_direction(model, metric)
    if direction is None:
        raise _validation.invalid(
            "metric",
            "a metric that declares its direction (Keras's metrics do)",
            metric,
            owner="diagnostics",
        )
    return 1.0 - value if direction == "max" else value


def _metric_value(model, x, y, metric, batch_size):
    for compiled in _keras_internals.flat_metrics(model.metrics):
        if getattr(compiled, "name", None) != metric:
            continue
        try:
            fresh = type(compiled).from_config(compiled.get_config())
        except Exception:  # a metric that does not rebuild: evaluate
            break
        fresh.update_state(y, predict(model, x, batch_size))
        return float(keras.ops.convert_to_numpy(fresh.result()))
    values = model.evaluate(
        x, y, batch_size=batch_size, verbose=0, return_dict=True
    )
    if metric not in values:
        raise _validation.invalid(
            "metric",
            f"the name of a compiled metric ({sorted(values)})",
            metric,
            owner="diagnostics",
        )
    return float(values[metric])

"""Whether a monitored quantity is minimised or maximised, as Keras decides.

A loss is minimised; a compiled metric declares its own direction.
`EarlyStopping`'s monitors, `GapMonitor` (the sign of a gap) and
`keras_regkit.diagnostics` (which way an error runs) read it here.
"""

from __future__ import annotations

from keras_regkit import _keras_internals


def infer_direction(model, monitor: str) -> str | None:
    """``"min"`` or ``"max"`` for a monitored quantity, or None if unknown.

    As Keras does: a loss (``loss``, ``val_loss``) is minimised; otherwise
    the direction declared by the model's compiled metric of that name
    (without the ``val_`` prefix), e.g. accuracy, AUC and F1 are maximised.

    Example:
    >>> infer_direction(None, "val_loss")
    'min'
    """
    name = monitor.removeprefix("val_")
    direction = "min" if name == "loss" else None
    metrics = getattr(model, "metrics", None) or []
    for metric in _keras_internals.flat_metrics(metrics):
        declared = _keras_internals.metric_direction(metric)
        if getattr(metric, "name", None) == name and declared is not None:
            direction = declared
    return direction

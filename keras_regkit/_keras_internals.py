"""Every use of Keras's private attributes, in one module.

keras_regkit reaches past Keras's public API in a few places where Keras
offers no public way to do the job. Each such access is a function here,
with the Keras version it was checked against, so that a Keras release
that renames one of them breaks this one file (and
`tests/test_keras_internals.py`, which pins every function) rather than
six modules.

Checked against Keras 3.15.
"""

from __future__ import annotations

from collections.abc import Iterator

import keras

CHECKED_KERAS_VERSION = "3.15"


def flatten_layers(model) -> list:
    """The model itself and every layer nested in it, depth first.

    Keras 3.15: ``Layer._flatten_layers(include_self=True)``. A layer has
    no public way to list nested layers of subclassed models (``layers``
    only lists a Functional or Sequential model's own).

    Args:
        model: A `keras.Model` or `keras.layers.Layer`.

    Returns:
        A list of layers, ``model`` first.
    """
    if hasattr(model, "_flatten_layers"):
        return list(model._flatten_layers(include_self=True))
    return [model]


def own_trainable_variables(layer) -> list:
    """The trainable variables a layer created itself (not its sublayers').

    Keras 3.15: ``Layer._trainable_variables``; the public
    ``trainable_weights`` also holds the nested layers' weights.

    Args:
        layer: A `keras.layers.Layer`.

    Returns:
        A list of `keras.Variable`.
    """
    return list(getattr(layer, "_trainable_variables", layer.trainable_weights))


def add_state_variable(layer, variable) -> None:
    """Makes ``variable`` part of a layer's state without making it a weight.

    Keras 3.15: a layer's ``variables`` (hence the state that a JAX
    training step receives and returns) include the ``state`` of every
    object in ``layer._seed_generators``; its ``weights`` and saved files
    do not. Keras has no public way to add non-weight state to a built
    layer.

    Args:
        layer: A `keras.layers.Layer`.
        variable: A `keras.Variable`.
    """
    layer._seed_generators.append(_StateHolder(variable))


def can_hold_state(layer) -> bool:
    """Whether `add_state_variable` works on this layer."""
    return getattr(layer, "_seed_generators", None) is not None


class _StateHolder:
    """What ``Layer._seed_generators`` expects: an object with ``state``."""

    def __init__(self, variable):
        self.state = variable


def metric_direction(metric) -> str | None:
    """``"min"``, ``"max"`` or None: which way a metric improves.

    Keras 3.15: ``Metric._direction`` (``"up"`` or ``"down"``), set by
    Keras's own metrics and read by its ``MonitorCallback``; not public.

    Args:
        metric: A `keras.metrics.Metric` or any object.

    Returns:
        The direction, or None where the metric does not declare one.
    """
    declared = getattr(metric, "_direction", None)
    if declared is None:
        return None
    return "max" if declared == "up" else "min"


def flat_metrics(metrics) -> Iterator:
    """Yields metrics, expanding containers (a ``metrics`` list) in place.

    Keras 3.15 wraps compiled metrics in ``CompileMetrics`` objects whose
    ``metrics`` attribute lists the user's metrics.
    """
    for metric in metrics:
        inner = getattr(metric, "metrics", None)
        if isinstance(inner, (list, tuple)):
            yield from flat_metrics(inner)
        else:
            yield metric


def jax_state_sync(model):
    """The model's ``jax_state_sync`` method, or None off JAX.

    Keras 3.15's JAX trainer keeps the variables' values in its own state
    during ``fit`` and writes them back to the variables only at the end
    of an epoch; ``jax_state_sync()`` writes them back now. A callback
    that reads or assigns variables mid-epoch must call it first.
    """
    if keras.backend.backend() != "jax":
        return None
    return getattr(model, "jax_state_sync", None)

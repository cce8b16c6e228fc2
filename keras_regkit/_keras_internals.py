"""Every use of Keras's private attributes, in one module.

keras_regkit reaches past Keras's public API in a few places where Keras
offers no public way to do the job. Each such access is a function here,
with the Keras version it was checked against, so that a Keras release
that renames one of them breaks this one file (and
`tests/test_keras_internals.py`, which pins every function) rather than
six modules.

It also holds the one walk over a model's layer -> weight -> regularizer
graph (`walk`, `WeightSlot`), which `regularizers.apply`, the discovery
of scheduled values and the saving of applied regularizers share: it is
where the layer structure and the weight-name -> constructor-argument
table of Keras meet.

Checked against Keras 3.15.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from typing import NamedTuple

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


def child_layers(layer) -> list:
    """The layers directly nested in ``layer`` (not their sublayers).

    Keras 3.15: ``Layer._flatten_layers(include_self=False,
    recursive=False)``, i.e. the tracked ``_layers`` list, in the order
    the layer created or received them (deterministic for a given
    constructor call).

    Args:
        layer: A `keras.layers.Layer` (a model included).

    Returns:
        A list of layers; empty for a layer without sublayers.
    """
    if not hasattr(layer, "_flatten_layers"):
        return []
    return list(layer._flatten_layers(include_self=False, recursive=False))


def config_holds_sublayers(layer) -> bool:
    """Whether ``layer``'s config holds the full config of every sublayer.

    Keras 3.15: a `keras.Sequential` and a functional model (class
    ``Functional``, what ``keras.Model(inputs, outputs)`` returns) save
    each sublayer's own `get_config` (hence its ``kernel_regularizer``)
    and rebuild the sublayers from it. Every other container (subclassed
    models, KerasHub backbones, which rebuild themselves from their
    constructor arguments, wrappers) is treated as not doing so.

    Args:
        layer: A `keras.layers.Layer`.

    Returns:
        True for exactly those two classes (not their subclasses).
    """
    return type(layer) in _CONFIG_HOLDING_CLASSES


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


def drop_compiled_functions(model) -> None:
    """Makes the next ``fit`` / ``evaluate`` compile its step again.

    Keras 3.15: ``Trainer.train_function`` and ``Trainer.test_function``
    cache the compiled steps; ``make_train_function`` (and its test
    counterpart) build a new one only when the cache is None. Dropping
    them makes a change that a traced step would have baked in (a new
    penalty in ``model.losses``) reach the next ``fit``.
    """
    for name in ("train_function", "test_function"):
        if getattr(model, name, None) is not None:
            setattr(model, name, None)


def remake_compiled_functions(model) -> None:
    """Compiles ``model``'s training step again now, inside ``fit``.

    For a callback that changed the model's state in ``on_train_begin``,
    after ``fit`` built its step (Keras 3.15 builds it before the
    callbacks' ``on_train_begin``): the training step is made again with
    ``make_train_function(force=True)``, and the test step too if one was
    made (``Trainer.test_function``, the cache of the validation step).
    """
    model.make_train_function(force=True)
    if getattr(model, "test_function", None) is not None:
        model.make_test_function(force=True)


def in_safe_mode() -> bool:
    """Whether Keras is deserializing in safe mode now.

    Keras 3.15: ``serialization_lib.in_safe_mode()`` returns the mode set
    by ``load_model(safe_mode=...)``, by ``deserialize_keras_object(...,
    safe_mode=...)`` for the objects it rebuilds and by
    ``keras.config.enable_unsafe_deserialization()``; it is None outside
    all of them, where ``deserialize_keras_object`` defaults to safe mode.
    Keras has no public reader.

    Returns:
        False only where unsafe deserialization was asked for.
    """
    from keras.src.saving import serialization_lib

    return serialization_lib.in_safe_mode() is not False


def _config_holding_classes():
    from keras.src.models.functional import Functional

    return (keras.Sequential, Functional)


_CONFIG_HOLDING_CLASSES = _config_holding_classes()

# Weight name -> the layer attributes its constructor argument may set, where
# that is not simply "<weight name>_regularizer" (Keras 3.15: DepthwiseConv's
# weight is called "kernel" but its argument is `depthwise_regularizer`).
_CONFIG_ATTRIBUTES = {
    "kernel": ("kernel_regularizer", "depthwise_regularizer"),
    "depthwise_kernel": ("depthwise_regularizer",),
    "pointwise_kernel": ("pointwise_regularizer",),
    "recurrent_kernel": ("recurrent_regularizer",),
}


def config_attribute(layer, weight_name: str) -> str | None:
    """The layer attribute that saves ``weight_name``'s regularizer.

    Keras 3.15 layers keep each ``*_regularizer`` constructor argument as
    an attribute of that name, which `get_config` saves; the weight
    itself carries the regularizer in ``variable.regularizer``.

    Args:
        layer: A `keras.layers.Layer`.
        weight_name: A weight's name, e.g. ``"kernel"``.

    Returns:
        The attribute name, or None if the layer has none for it.
    """
    candidates = _CONFIG_ATTRIBUTES.get(
        weight_name, (f"{weight_name}_regularizer",)
    )
    return next((name for name in candidates if hasattr(layer, name)), None)


class WeightSlot(NamedTuple):
    """One place a regularizer attaches to a layer: a (layer, weight) pair.

    Attributes:
        layer: The layer.
        name: The weight's name (``"kernel"``). For an unbuilt layer, which
            has no variables yet, the name of the ``*_regularizer``
            attribute without its suffix.
        variable: The weight (`keras.Variable`), or None while unbuilt.
        attribute: The constructor attribute saving its regularizer
            (``"kernel_regularizer"``), or None if the layer has none.
        in_config: Whether saving the model passed to `walk` saves this
            regularizer through the layers' configs: every container
            between it and the layer holds its sublayers' configs
            (`config_holds_sublayers`) and the layer has the attribute.
    """

    layer: Any
    name: str
    variable: Any
    attribute: str | None
    in_config: bool

    @property
    def regularizer(self):
        """The regularizer in effect for this weight, or None."""
        if self.variable is not None:
            return getattr(self.variable, "regularizer", None)
        return getattr(self.layer, self.attribute, None)

    def set_regularizer(self, regularizer) -> None:
        """Attaches ``regularizer`` to the weight and to the attribute."""
        if self.variable is not None:
            self.variable.regularizer = regularizer
        if self.attribute is not None:
            setattr(self.layer, self.attribute, regularizer)


def weight_slots(layer, in_config: bool = True) -> list[WeightSlot]:
    """The slots of one layer's own weights (not its sublayers').

    Args:
        layer: A `keras.layers.Layer`.
        in_config: Whether the containers above the layer hold its config.

    Returns:
        One `WeightSlot` per trainable variable of a built layer; for an
        unbuilt layer one per ``*_regularizer`` attribute (the activity
        regularizer excepted: it regularizes no weight).
    """
    if layer.built:
        slots = []
        for variable in own_trainable_variables(layer):
            attribute = config_attribute(layer, variable.name)
            slots.append(
                WeightSlot(
                    layer,
                    variable.name,
                    variable,
                    attribute,
                    in_config and attribute is not None,
                )
            )
        return slots
    suffix = "_regularizer"
    return [
        WeightSlot(layer, name[: -len(suffix)], None, name, in_config)
        for name in vars(layer)
        if name.endswith(suffix) and name != "activity" + suffix
    ]


def walk(model) -> Iterator[tuple[Any, list[WeightSlot]]]:
    """The one walk over a model's layer -> weight -> regularizer graph.

    Yields every layer of ``model`` (itself first, then nested layers
    depth first, each once even if shared) with its weight slots. The
    order depends only on how the model was constructed, so a model
    rebuilt from the same config yields its layers in the same order.
    `keras_regkit.regularizers.apply`, the schedules' discovery
    (`ScheduledValue`) and the saving of applied regularizers all use it.

    Args:
        model: A `keras.Model` or layer, built or not.

    Yields:
        ``(layer, [WeightSlot, ...])`` pairs.
    """
    seen = set()
    stack = [(model, True)]
    while stack:
        layer, in_config = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        yield layer, weight_slots(layer, in_config)
        holds = in_config and config_holds_sublayers(layer)
        children = child_layers(layer)
        stack.extend((child, holds) for child in reversed(children))


def saveable_state_base() -> type:
    """A base class that makes an object's state saved by `model.save`.

    Keras 3.15: saving (``saving_lib._save_state`` / ``_load_state``)
    visits every attribute of a layer that is an instance of
    ``keras.src.saving.keras_saveable.KerasSaveable`` and calls its
    ``save_own_variables(store)`` / ``load_own_variables(store)``; it then
    walks the object's own attributes, skipping those named by the
    ``_obj_type()`` it declares, which must be one Keras knows (``"Loss"``
    is the closest to a regularizer). Nothing public lets a non-layer
    object (a regularizer held by ``layer.kernel_regularizer``) carry
    saved tensors. Used by `keras_regkit.regularizers.L2SP`.

    Returns:
        A mixin class; subclasses define the two store methods.
    """
    from keras.src.saving.keras_saveable import KerasSaveable

    class SaveableState(KerasSaveable):
        def _obj_type(self):
            return "Loss"

    return SaveableState


def loss_tracker(model):
    """The `keras.metrics.Mean` behind a compiled model's ``loss`` log.

    Keras 3.15: ``Trainer._loss_tracker``, created by ``compile`` and
    updated by each backend's ``train_step`` with the step's unscaled
    loss. A custom training step (`keras_regkit.training.SAM`) must update
    it the same way for ``fit`` to report ``loss``; Keras has no public
    handle to it.

    Args:
        model: A compiled `keras.Model`.

    Returns:
        The metric, or None before ``compile``.
    """
    return getattr(model, "_loss_tracker", None)


def calling_callbacks(callback) -> list | None:
    """The callbacks of the `fit` now calling one of ``callback``'s hooks.

    Keras 3.15 gives a callback no handle on the others in the same
    `fit`: a ``keras.callbacks.CallbackList`` (built by ``fit`` with the
    user's list, then History and ProgbarLogger) calls each callback's
    hook in list order from its own method of the same name. This looks
    for that list among the few frames above the caller: a local
    ``self`` that is a ``CallbackList`` holding ``callback``.

    Args:
        callback: The callback whose hook is running (call this from the
            hook itself, e.g. ``on_train_begin``).

    Returns:
        The callbacks in the order Keras calls them, or None when the
        hook was called some other way (by hand, by another framework).
    """
    import sys

    frame = sys._getframe(1)
    for _ in range(6):
        frame = frame.f_back
        if frame is None:
            return None
        owner = frame.f_locals.get("self")
        if isinstance(owner, keras.callbacks.CallbackList) and any(
            other is callback for other in owner.callbacks
        ):
            return list(owner.callbacks)
    return None

"""Saving the regularizers `apply` sets where a model's config cannot.

A `keras.Sequential` or functional model saves every layer's config, so a
regularizer set on a layer's ``kernel_regularizer`` is saved with it. Other
models rebuild their layers from their own constructor arguments when
loaded: a KerasHub backbone (``ResNetBackbone(stackwise_num_filters=...)``),
a subclassed model creating its layers in ``__init__``. A regularizer set
on one of their layers afterwards is in no config, and `load_model` would
silently return the model without it.

`keep_in_config(model)` gives such a model a subclass of its own class
(same name, same behaviour) whose `get_config` wraps the original config
with the regularizer of every weight of the model:

    {"model": <the model's own serialization>,
     "regularizers": [{"regularizer": <serialized>,
                       "weights": [{"layer": 12, "class_name": "Conv2D",
                                    "weight": "kernel"}, ...]}, ...]}

Layers are addressed by their position in `_keras_internals.walk`, which
depends only on how the model was constructed. The subclass is registered
under ``keras_regkit>RegularizersInConfig``; loading deserializes the
original model, re-attaches each regularizer (one instance per group, so
shared regularizers and their schedules stay shared) and gives the loaded
model the same subclass, so it saves them again. The regularizers are
serialized when the model is saved, so scheduled strengths save their
current position.
"""

from __future__ import annotations

import keras

from keras_regkit import _keras_internals
from keras_regkit import _validation

PACKAGE = "keras_regkit"
NAME = "RegularizersInConfig"

_SUBCLASSES = {}


class RegularizersInConfig:
    """Mixin: a model whose config also holds its weights' regularizers.

    Not used directly: `keep_in_config` puts it in front of a model's own
    class.
    """

    def get_config(self):
        base = type(self).keras_regkit_base
        return {
            "model": _serialize_as(self, base),
            "regularizers": _records(self),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        model = keras.saving.deserialize_keras_object(
            config["model"], custom_objects=custom_objects
        )
        restore(model, config["regularizers"])
        keep_in_config(model)
        return model


keras.saving.register_keras_serializable(PACKAGE, NAME)(RegularizersInConfig)


def keep_in_config(model) -> None:
    """Makes ``model``'s config hold the regularizers of all its weights.

    Args:
        model: A `keras.Model` or layer. Its class is replaced by a
            subclass of it (cached per class) with `RegularizersInConfig`
            in front; calling this again does nothing.
    """
    cls = type(model)
    if issubclass(cls, RegularizersInConfig):
        return
    if cls not in _SUBCLASSES:
        subclass = type(
            cls.__name__,
            (RegularizersInConfig, cls),
            {
                "__module__": cls.__module__,
                "__qualname__": cls.__qualname__,
                "__doc__": cls.__doc__,
                "keras_regkit_base": cls,
            },
        )
        # Every subclass serializes under the one registered name, whose
        # `from_config` rebuilds the original class from the config.
        keras.saving.register_keras_serializable(PACKAGE, NAME)(subclass)
        keras.saving.register_keras_serializable(PACKAGE, NAME)(
            RegularizersInConfig
        )
        _SUBCLASSES[cls] = subclass
    object.__setattr__(model, "__class__", _SUBCLASSES[cls])


def _serialize_as(model, cls) -> dict:
    """``model`` serialized as Keras would serialize an instance of ``cls``."""
    config = {
        "module": cls.__module__,
        "class_name": cls.__name__,
        "config": keras.saving.serialize_keras_object(cls.get_config(model)),
        "registered_name": keras.saving.get_registered_name(cls),
    }
    build_config = model.get_build_config()
    if build_config is not None:
        config["build_config"] = keras.saving.serialize_keras_object(
            build_config
        )
    return config


def _records(model) -> list[dict]:
    """Every regularized weight, grouped by regularizer instance."""
    groups = {}
    for index, (layer, slots) in enumerate(_keras_internals.walk(model)):
        for slot in slots:
            regularizer = slot.regularizer
            if regularizer is None:
                continue
            group = groups.setdefault(
                id(regularizer),
                {
                    "regularizer": keras.saving.serialize_keras_object(
                        regularizer
                    ),
                    "weights": [],
                },
            )
            group["weights"].append(
                {
                    "layer": index,
                    "class_name": type(layer).__name__,
                    "weight": slot.name,
                }
            )
    return list(groups.values())


def restore(model, records: list[dict]) -> None:
    """Re-attaches the regularizers that `_records` saved.

    Raises:
        ValueError: If the rebuilt model's layers differ from the saved
            ones (its constructor is not deterministic).
    """
    visits = list(_keras_internals.walk(model))
    for group in records:
        regularizer = keras.saving.deserialize_keras_object(
            group["regularizer"]
        )
        for entry in group["weights"]:
            index, weight = entry["layer"], entry["weight"]
            layer, slots = visits[index] if index < len(visits) else (None, [])
            slot = next((s for s in slots if s.name == weight), None)
            if slot is None or type(layer).__name__ != entry["class_name"]:
                raise _validation.invalid(
                    "regularizers",
                    f"a {entry['class_name']} with a weight {weight!r} at "
                    f"position {index} of the rebuilt model (the model "
                    "rebuilt from its config differs from the saved one)",
                    entry,
                    owner="load_model",
                )
            slot.set_regularizer(regularizer)

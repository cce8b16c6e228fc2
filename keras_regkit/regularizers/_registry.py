"""Regularizers by name: `get`, `serialize`, `deserialize`.

Keras's ``keras.regularizers.get`` / ``serialize`` / ``deserialize``
extended to the kit's regularizers and their snake-case names
(``"elastic_net"``). `apply` resolves its ``regularizer`` argument here.
"""

from __future__ import annotations

import inspect

import keras

from keras_regkit import _validation
from keras_regkit.regularizers.elastic_net import ElasticNet
from keras_regkit.regularizers.group_lasso import GroupLasso
from keras_regkit.regularizers.l1_l2 import L1
from keras_regkit.regularizers.l1_l2 import L1L2
from keras_regkit.regularizers.l1_l2 import L2
from keras_regkit.regularizers.orthogonal import Orthogonal

ALL_OBJECTS = (L1, L2, L1L2, ElasticNet, GroupLasso, Orthogonal)
# Class names, and the snake-case aliases Keras uses ("l1", "l2", "l1l2"),
# plus "l1_l2" as Keras 2 spelled it.
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update(
    {
        "l1": L1,
        "l2": L2,
        "l1l2": L1L2,
        "l1_l2": L1L2,
        "elastic_net": ElasticNet,
        "group_lasso": GroupLasso,
        "orthogonal": Orthogonal,
    }
)


def serialize(regularizer) -> dict | None:
    """Serializes a regularizer to a config dict (as Keras's does).

    Args:
        regularizer: A `keras.regularizers.Regularizer` instance (ours
            included), or None.

    Returns:
        The config dict (None for None).

    Example:
    >>> import keras_regkit as rk
    >>> config = rk.regularizers.serialize(rk.regularizers.L2(0.5))
    >>> config["config"]
    {'l2': 0.5, 'lam': None, 'num_examples': None}
    >>> rk.regularizers.deserialize(config).get_config()
    {'l2': 0.5, 'lam': None, 'num_examples': None}
    """
    if regularizer is not None:
        _validation.check_type(
            "regularizer",
            regularizer,
            keras.regularizers.Regularizer,
            "a keras.regularizers.Regularizer instance or None",
            owner="regularizers.serialize",
        )
    return keras.saving.serialize_keras_object(regularizer)


def deserialize(config, custom_objects=None):
    """Rebuilds a regularizer from `serialize`'s output.

    Args:
        config: A config dict from `serialize`, or a regularizer's name
            (``"l2"``, ``"L1L2"``, ...).
        custom_objects: None, or a dict of names to classes for
            regularizers that are not registered.

    Returns:
        A regularizer instance.

    Example:
    >>> import keras
    >>> import keras_regkit as rk
    >>> config = rk.regularizers.serialize(rk.regularizers.L2(0.5))
    >>> reg = rk.regularizers.deserialize(config)
    >>> type(reg).__name__
    'L2'
    >>> keras.layers.Dense(4, kernel_regularizer=reg).kernel_regularizer is reg
    True
    """
    owner = "regularizers.deserialize"
    expected = "a regularizer config dict or a regularizer's name"
    _validation.check_type("config", config, (dict, str), expected, owner=owner)
    if custom_objects is not None:
        _validation.check_type(
            "custom_objects",
            custom_objects,
            dict,
            "None or a dict",
            owner=owner,
        )
    regularizer = keras.saving.deserialize_keras_object(
        config, module_objects=ALL_OBJECTS_DICT, custom_objects=custom_objects
    )
    if not isinstance(regularizer, keras.regularizers.Regularizer):
        raise _validation.invalid("config", expected, config, owner=owner)
    return regularizer


def get(identifier):
    """Retrieves a regularizer, as `keras.regularizers.get` does.

    Strings name ours first, with Keras's aliases (``"l1"``, ``"l2"``,
    ``"l1l2"``, ``"L2"``, ...) and ours (``"elastic_net"``,
    ``"group_lasso"``, ``"orthogonal"``); other strings go to Keras.

    Args:
        identifier: None, a string, a config dict, a class or a callable.

    Returns:
        A regularizer instance, or None.

    Example:
    >>> import keras
    >>> import keras_regkit as rk
    >>> type(rk.regularizers.get("l2")).__module__  # the kit's L2, not Keras's
    'keras_regkit.regularizers.l1_l2'
    >>> layer = keras.layers.Dense(4, kernel_regularizer=rk.regularizers.get(
    ...     {"class_name": "L1", "config": {"l1": 0.01}}))
    >>> layer.kernel_regularizer.get_config()
    {'l1': 0.01, 'lam': None, 'num_examples': None}
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier in ALL_OBJECTS_DICT:
            return ALL_OBJECTS_DICT[identifier]()
        return keras.regularizers.get(identifier)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise _validation.invalid(
        "identifier",
        "None, a string, a config dict, a class or a callable",
        identifier,
        owner="regularizers.get",
    )

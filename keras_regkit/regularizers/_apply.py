"""Adding a regularizer to a model that is already built (or pretrained).

The public name is the function `keras_regkit.regularizers.apply`. The
module is private (``_apply``): a submodule called ``apply`` would replace
the function on the package whenever something imported the module by its
path (pytest's doctest collection does).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable

import keras

from keras_regkit import _keras_internals
from keras_regkit import _validation
from keras_regkit.regularizers import _in_config
from keras_regkit.regularizers import _registry

_LAYERS = (
    "None, a layer name, class or instance, a non-empty list of those, or "
    "a predicate f(layer) -> bool"
)
_WEIGHTS = "a non-empty weight name or a non-empty list of them"
_REGULARIZER = (
    "a regularizer instance, or an identifier for "
    "keras_regkit.regularizers.get (None, a string, a config dict, a class "
    "or a callable)"
)
_LAYER_ITEM = (str, type, keras.layers.Layer)


def layer_selector(name, selection, all_layers, *, default, owner):
    """Checks an `apply`-style ``layers`` argument; returns a predicate.

    The one check of the layer selections of `apply` and `apply_l2sp`.

    Args:
        name: The argument's name (``"layers"``, ``"new_layers"``).
        selection: None, a layer name, class or instance, a non-empty list
            (or tuple, set) of those, or a predicate ``f(layer) -> bool``.
        all_layers: The layers of the model (names are checked against
            them).
        default: What the predicate answers when ``selection`` is None.
        owner: The function the argument belongs to, for messages.

    Returns:
        A predicate on layers.

    Example:
    >>> import keras
    >>> dense = keras.layers.Dense(2, name="d")
    >>> layer_selector("layers", "d", [dense], default=True, owner="f")(dense)
    True
    >>> layer_selector("layers", 3, [dense], default=True, owner="f")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: f: Invalid value received for argument `layers`. ...
    """
    if selection is None:
        return lambda layer: default
    if isinstance(selection, _LAYER_ITEM):
        items = [selection]
    elif callable(selection):
        return selection
    elif isinstance(selection, (list, tuple, set, frozenset)):
        items = list(selection)
        if not all(isinstance(item, _LAYER_ITEM) for item in items):
            raise _validation.invalid(
                name, _LAYERS, selection, owner=owner, error=TypeError
            )
        if not items:
            raise _validation.invalid(name, _LAYERS, selection, owner=owner)
    else:
        raise _validation.invalid(
            name, _LAYERS, selection, owner=owner, error=TypeError
        )
    names = {layer.name for layer in all_layers}
    for item in items:
        if isinstance(item, str) and item not in names:
            expected = f"names of layers of the model ({sorted(names)})"
            raise _validation.invalid(name, expected, item, owner=owner)

    def matches(layer):
        return any(
            (isinstance(item, str) and layer.name == item)
            or (isinstance(item, type) and isinstance(layer, item))
            or item is layer
            for item in items
        )

    return matches


def weight_names(weights, *, owner):
    """Checks an `apply`-style ``weights`` argument; returns a name list.

    Args:
        weights: A non-empty string or a non-empty list (or tuple) of them.
        owner: The function the argument belongs to, for messages.

    Returns:
        A list of Python strings.

    Example:
    >>> weight_names("kernel", owner="apply")
    ['kernel']
    >>> weight_names([], owner="apply")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: apply: Invalid value received for argument `weights`. ...
    """
    items = [weights] if isinstance(weights, str) else weights
    if not isinstance(items, (list, tuple)) or not all(
        isinstance(item, str) for item in items
    ):
        raise _validation.invalid(
            "weights", _WEIGHTS, weights, owner=owner, error=TypeError
        )
    if not items or not all(items):
        raise _validation.invalid("weights", _WEIGHTS, weights, owner=owner)
    return [str(item) for item in items]


def _regularizer(regularizer):
    """Checks `apply`'s ``regularizer`` and resolves it with ``get``."""
    if not (
        regularizer is None
        or isinstance(regularizer, (str, dict))
        or callable(regularizer)
    ):
        raise _validation.invalid(
            "regularizer",
            _REGULARIZER,
            regularizer,
            owner="apply",
            error=TypeError,
        )
    try:
        resolved = _registry.get(regularizer)
    except (ValueError, TypeError) as error:
        kind = ValueError if isinstance(error, ValueError) else TypeError
        raise _validation.invalid(
            "regularizer", _REGULARIZER, regularizer, owner="apply", error=kind
        ) from error
    if resolved is not None and not callable(resolved):
        raise _validation.invalid(
            "regularizer",
            _REGULARIZER,
            regularizer,
            owner="apply",
            error=TypeError,
        )
    return resolved


def apply(
    model: keras.layers.Layer,
    regularizer: keras.regularizers.Regularizer | str | dict,
    layers: None | str | type | Iterable | Callable = None,
    weights: str | Iterable[str] = "kernel",
    overwrite: bool = True,
) -> list[str]:
    """Adds a regularizer to the weights of an existing model.

    In Keras 3, setting ``layer.kernel_regularizer = ...`` after the layer
    is built silently does nothing: the penalty is read from the weight
    variable, which was created with the old value. This attaches the
    regularizer to the variables themselves (so ``model.losses`` includes
    it from the next training step on) and to the layer's constructor
    attribute. Unbuilt layers get the attribute only and pick it up when
    they are built.

    ``model.save`` / ``keras.models.load_model`` keep the regularizers. A
    Sequential or functional model saves them in its layers' configs. A
    model that rebuilds its layers from its own constructor arguments (a
    KerasHub backbone, a subclassed model) or a layer without a
    ``*_regularizer`` argument would lose them: such a model is given a
    subclass of its own class (same name, `isinstance` unchanged) whose
    config also lists every weight's regularizer, re-attached on load
    after ``import keras_regkit``. Apply the regularizer to the
    model you save, or to a model a Sequential or functional model
    contains.

    A model that was already trained has its compiled train and test
    functions dropped, so the next `fit` / `evaluate` traces them again
    with the penalty (no need to recompile).

    Args:
        model: A `keras.Model` (nested models and layers are searched) or
            a single layer.
        regularizer: A regularizer instance, or an identifier for
            `keras_regkit.regularizers.get` (``"l2"``, a config dict).
        layers: Which layers: ``None`` for every layer that has the named
            weights; a layer name, class or instance, a list of those, or a
            predicate ``f(layer) -> bool``.
        weights: The weight name(s) to regularize: ``"kernel"`` (Dense,
            Conv, EinsumDense, RNN cells), ``"bias"``, ``"embeddings"``,
            ``"depthwise_kernel"`` and ``"pointwise_kernel"`` (SeparableConv;
            DepthwiseConv's weight is ``"kernel"``), ``"recurrent_kernel"``,
            ...
        overwrite: Replace a regularizer a weight already has (a bool).
            With ``False`` such weights are left as they are.

    Returns:
        The paths of the weights (or, for unbuilt layers, the
        ``layer/attribute`` names) that now carry the regularizer.

    Raises:
        ValueError: If ``layers`` names a layer that does not exist, or
            nothing matched.

    Example:
    >>> import keras
    >>> import keras_regkit as rk
    >>> model = keras.Sequential(
    ...     [keras.Input((4,)), keras.layers.Dense(2, name="head")], name="net"
    ... )
    >>> rk.regularizers.apply(model, rk.regularizers.L2(1e-4))
    ['net/head/kernel']
    >>> len(model.losses)
    1
    """
    _validation.check_type(
        "model",
        model,
        keras.layers.Layer,
        "a keras.Model or layer",
        owner="apply",
    )
    regularizer = _regularizer(regularizer)
    names = weight_names(weights, owner="apply")
    overwrite = _validation.check_bool("overwrite", overwrite, owner="apply")
    visits = list(_keras_internals.walk(model))
    selected = layer_selector(
        "layers",
        layers,
        [layer for layer, _ in visits],
        default=True,
        owner="apply",
    )
    done = []
    outside_config = False
    for layer, slots in visits:
        if not selected(layer):
            continue
        for slot in _matching_slots(layer, slots, names):
            if slot.regularizer is not None and not overwrite:
                continue
            slot.set_regularizer(regularizer)
            outside_config = outside_config or not slot.in_config
            done.append(
                slot.variable.path
                if slot.variable is not None
                else f"{layer.name}/{slot.attribute}"
            )
    if not done:
        raise _validation.invalid(
            "weights",
            "weight names present in the selected layers (none of them has "
            "one, or all are regularized and overwrite=False)",
            weights,
            owner="apply",
        )
    if outside_config:
        _in_config.keep_in_config(model)
    _keras_internals.drop_compiled_functions(model)
    return done


def _matching_slots(layer, slots, weight_names):
    """The slots of ``layer`` for the requested weight names, in order."""
    matched = []
    for name in weight_names:
        if layer.built:
            matched.extend(s for s in slots if s.name == name)
        else:
            attribute = _keras_internals.config_attribute(layer, name)
            matched.extend(s for s in slots if s.attribute == attribute)
    return matched

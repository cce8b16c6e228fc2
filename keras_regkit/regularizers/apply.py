"""Adding a regularizer to a model that is already built (or pretrained)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from collections.abc import Iterable

import keras

from keras_regkit import _keras_internals
from keras_regkit import _validation

# Weight name -> the layer attributes its constructor argument may set, where
# that is not simply "<weight name>_regularizer" (DepthwiseConv's weight is
# called "kernel" but its argument is `depthwise_regularizer`).
_CONFIG_ATTRIBUTES = {
    "kernel": ("kernel_regularizer", "depthwise_regularizer"),
    "depthwise_kernel": ("depthwise_regularizer",),
    "pointwise_kernel": ("pointwise_regularizer",),
    "recurrent_kernel": ("recurrent_regularizer",),
}


def _config_attribute(layer, weight_name):
    candidates = _CONFIG_ATTRIBUTES.get(
        weight_name, (f"{weight_name}_regularizer",)
    )
    return next((name for name in candidates if hasattr(layer, name)), None)


def _own_weights(layer):
    return _keras_internals.own_trainable_variables(layer)


def _selector(layers, all_layers):
    """Turns the ``layers`` argument into a predicate on layers."""
    if layers is None:
        return lambda layer: True
    if callable(layers) and not isinstance(layers, type):
        return layers
    items = [layers] if isinstance(layers, (str, type)) else list(layers)
    names = {layer.name for layer in all_layers}
    for item in items:
        if isinstance(item, str) and item not in names:
            raise ValueError(
                _validation.error_message(
                    "layers",
                    f"names of layers of the model ({sorted(names)})",
                    item,
                )
            )
        if not isinstance(item, (str, type, keras.layers.Layer)):
            raise TypeError(
                _validation.error_message(
                    "layers",
                    "None, a predicate, or layer names, classes or instances",
                    item,
                )
            )

    def matches(layer):
        for item in items:
            if isinstance(item, str) and layer.name == item:
                return True
            if isinstance(item, type) and isinstance(layer, item):
                return True
            if item is layer:
                return True
        return False

    return matches


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
    attribute (so ``model.save`` / ``load_model`` keep it). Unbuilt layers
    get the attribute only and pick it up when they are built.

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
        overwrite: Replace a regularizer a weight already has. With
            ``False`` such weights are left as they are.

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
    from keras_regkit import regularizers as _regularizers

    regularizer = _regularizers.get(regularizer)
    weight_names = [weights] if isinstance(weights, str) else list(weights)
    all_layers = _keras_internals.flatten_layers(model)
    selected = _selector(layers, all_layers)
    done = []
    for layer in all_layers:
        if not selected(layer):
            continue
        done.extend(
            _apply_to_layer(layer, regularizer, weight_names, overwrite)
        )
    if done:
        _drop_compiled_functions(model)
    else:
        raise ValueError(
            _validation.error_message(
                "weights",
                "weight names present in the selected layers (none of "
                "them has one, or all are regularized and overwrite=False)",
                weights,
            )
        )
    return done


def _drop_compiled_functions(model):
    """Makes the next fit/evaluate retrace with the new losses."""
    for name in ("train_function", "test_function"):
        if getattr(model, name, None) is not None:
            setattr(model, name, None)


def _apply_to_layer(layer, regularizer, weight_names, overwrite):
    done = []
    by_name = {v.name: v for v in _own_weights(layer)} if layer.built else {}
    for weight_name in weight_names:
        attribute = _config_attribute(layer, weight_name)
        variable = by_name.get(weight_name)
        if variable is None and (layer.built or attribute is None):
            continue
        current = (
            variable.regularizer
            if variable is not None
            else getattr(layer, attribute)
        )
        if current is not None and not overwrite:
            continue
        if variable is not None:
            variable.regularizer = regularizer
        if attribute is not None:
            setattr(layer, attribute, regularizer)
        elif variable is not None:
            warnings.warn(
                f"Layer {layer.name!r} has no `{weight_name}_regularizer` "
                "argument: the regularizer is active but will not be saved "
                "with the model.",
                stacklevel=3,
            )
        done.append(
            variable.path
            if variable is not None
            else f"{layer.name}/{attribute}"
        )
    return done

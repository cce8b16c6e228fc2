"""L2-SP: when fine-tuning, penalise the distance to the pretrained weights.

Plain L2 weight decay pulls every weight towards zero, which for a
pretrained model means towards forgetting what it learned. L2-SP (Li,
Grandvalet & Davoine, 2018) pulls each pretrained weight towards its
*starting point* w₀ instead,

    Ω(w) = α/2 · ‖w − w₀‖²  (pretrained weights)
         + β/2 · ‖w‖²       (new layers, which have no starting point),

and reports better transfer than L2 at the same cost.

`L2SP` is a regularizer holding w₀ in a non-trainable variable of its own
(not a weight of the model: ``model.weights``, ``get_weights`` and the
optimizer never see it, so it cannot move during training). Keras
regularizer configs are JSON, so w₀ cannot live in the config: the config
holds its shape and dtype, and the values are saved with the model's
weights. `model.save` visits every attribute of a layer that Keras can
save state for; an `L2SP` is one (it has ``save_own_variables`` /
``load_own_variables``), so w₀ is written under the layer's attribute
(``layers/dense/kernel_regularizer/vars/0`` in the ``.keras`` file) and
read back by `keras.models.load_model`: no ``custom_objects`` needed
(the class is registered), nested Sequential and functional models
included. A model whose own config cannot hold its layers' regularizers
(a subclassed model) keeps them through `regularizers.apply`'s mechanism.

`apply_l2sp` attaches the regularizers to a pretrained model in one call,
through `keras_regkit.regularizers.apply`: one `L2SP` per pretrained
weight (w₀ = its current value), ``L2(β/2)`` on the new layers.

Reference:
    Xuhong Li, Yves Grandvalet, Franck Davoine, "Explicit Inductive Bias
    for Transfer Learning with Convolutional Networks", ICML 2018.
"""

from __future__ import annotations

import contextlib
import warnings
import weakref
from collections.abc import Callable
from collections.abc import Iterable

import keras
import numpy as np
from keras import ops

from keras_regkit import _keras_internals
from keras_regkit import _validation
from keras_regkit.regularizers import _apply
from keras_regkit.regularizers import _base
from keras_regkit.regularizers.l1_l2 import L2

# `apply_l2sp(weights=ALL_WEIGHTS)`: every trainable weight, as the paper.
ALL_WEIGHTS = "all"

_STARTING_POINT = (
    "the starting (pretrained) weights: an array, a tensor, a Keras "
    "variable, or {'shape': [...], 'dtype': ...} for values loaded later "
    "(use rk.regularizers.apply_l2sp to set it from a model)"
)


def l2_sp_penalty(x, starting_point, alpha):
    """``alpha / 2 * sum((x - starting_point) ** 2)`` in ``x``'s dtype.

    Args:
        x: The weight (tensor or variable).
        starting_point: w₀, same shape.
        alpha: A float or a scalar tensor.

    Returns:
        A scalar tensor.

    Example:
    >>> import numpy as np
    >>> float(l2_sp_penalty(np.array([1.0, 3.0]), np.array([1.0, 1.0]), 0.5))
    1.0
    """
    x = ops.convert_to_tensor(x)
    start = ops.cast(starting_point, x.dtype)
    return 0.5 * alpha * ops.sum(ops.square(x - start))


def _creation_scope(variable):
    """The `tf.distribute` scope ``variable`` lives in, else a null one."""
    if keras.backend.backend() == "tensorflow":
        value = getattr(variable, "value", variable)
        strategy = getattr(value, "distribute_strategy", None)
        if strategy is not None:
            return strategy.scope()
    return contextlib.nullcontext()


@keras.saving.register_keras_serializable(package="keras_regkit")
class L2SP(_base.Regularizer, _keras_internals.saveable_state_base()):
    """``alpha / 2 * ‖w − w₀‖²``: L2 towards the starting (pretrained) point.

    One instance regularizes one weight (it holds that weight's w₀); use
    `apply_l2sp` to attach one to every pretrained weight of a model.
    ``starting_point`` is copied into a non-trainable variable owned by
    the regularizer (never a model weight, so training cannot change it);
    the config holds its shape and dtype, and `model.save` /
    `keras.models.load_model` save and restore its values with the
    layer's (see the module docstring).

    Args:
        alpha: α, the strength: a float >= 0 or a schedule (see
            `keras_regkit.schedules`). The penalty is α/2·‖w − w₀‖², as in
            the paper (Keras's ``L2(l2)`` is ``l2·‖w‖²``, without the 1/2).
        starting_point: w₀: an array, tensor or variable (its current
            value is copied), or ``{"shape": [...], "dtype": "float32"}``
            for a placeholder filled by `load_model` (what `from_config`
            receives). Required: a regularizer without a starting point
            raises, naming this argument.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> from keras_regkit.regularizers import L2SP
    >>> reg = L2SP(0.5, starting_point=np.array([1.0, 1.0], "float32"))
    >>> float(reg(np.array([1.0, 3.0], "float32")))
    1.0
    >>> reg.get_config()["starting_point"]
    {'shape': [2], 'dtype': 'float32'}

    Fine-tuning: a pretrained layer pulled towards its own weights (see
    `apply_l2sp` for a whole model).

    >>> base = keras.layers.Dense(4)
    >>> base.build((None, 3))
    >>> base.kernel_regularizer = L2SP(0.01, starting_point=base.kernel)
    >>> model = keras.Sequential([keras.Input((3,)), base,
    ...     keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> _ = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=1, verbose=0)

    Reference:
        Li, Grandvalet & Davoine, "Explicit Inductive Bias for Transfer
        Learning with Convolutional Networks", ICML 2018.
    """

    def __init__(self, alpha=0.01, starting_point=None):
        self._alpha = self.strength(alpha, "alpha")
        shape, dtype, value = self._check_starting_point(starting_point)
        self.starting_point = keras.Variable(
            initializer=keras.initializers.Zeros(),
            shape=shape,
            dtype=dtype,
            trainable=False,
            name="l2sp_starting_point",
        )
        if value is not None:
            self.starting_point.assign(value)
        # The weight this regularizer was applied to, where known
        # (`apply_l2sp` sets it): lets `load_own_variables` tell a harmless
        # load from one that moved the weight away from its start.
        self._weight = None

    def _check_starting_point(self, starting_point):
        """``(shape, dtype, value or None)`` from the argument."""
        if isinstance(starting_point, dict):
            if set(starting_point) != {"shape", "dtype"}:
                raise _validation.invalid(
                    "starting_point",
                    _STARTING_POINT,
                    starting_point,
                    owner=self,
                )
            shape = tuple(int(d) for d in starting_point["shape"])
            dtype = keras.backend.standardize_dtype(starting_point["dtype"])
            return shape, dtype, None
        if starting_point is None or isinstance(starting_point, (str, bool)):
            raise _validation.invalid(
                "starting_point", _STARTING_POINT, starting_point, owner=self
            )
        if isinstance(starting_point, keras.Variable):
            value = keras.ops.convert_to_numpy(starting_point.value)
        else:
            try:
                value = keras.ops.convert_to_numpy(starting_point)
            except (TypeError, ValueError) as error:
                raise _validation.invalid(
                    "starting_point",
                    _STARTING_POINT,
                    starting_point,
                    owner=self,
                    error=TypeError,
                ) from error
        value = np.asarray(value)
        if value.dtype.kind not in "fiub":
            raise _validation.invalid(
                "starting_point",
                _STARTING_POINT,
                starting_point,
                owner=self,
                error=TypeError,
            )
        if not np.issubdtype(value.dtype, np.floating):
            value = value.astype(keras.config.floatx())
        return value.shape, str(value.dtype), value

    @property
    def alpha(self):
        """The strength α now (a Python float)."""
        return self._alpha.current

    def __call__(self, x):
        if tuple(x.shape) != tuple(self.starting_point.shape):
            raise _validation.invalid(
                "starting_point",
                f"a starting point of the regularized weight's shape "
                f"{tuple(x.shape)}",
                f"<array of shape {tuple(self.starting_point.shape)}>",
                owner=self,
            )
        alpha = self._alpha.read(x.dtype)
        return l2_sp_penalty(x, self.starting_point.value, alpha)

    def arguments_config(self):
        return {
            "alpha": self._alpha.config_value(),
            "starting_point": {
                "shape": [int(d) for d in self.starting_point.shape],
                "dtype": keras.backend.standardize_dtype(
                    self.starting_point.dtype
                ),
            },
        }

    # Saved state (what `model.save` calls on a layer's attributes).

    def save_own_variables(self, store):
        """Writes w₀ to a `model.save` weights store."""
        store["0"] = keras.ops.convert_to_numpy(self.starting_point.value)

    def load_own_variables(self, store):
        """Reads w₀ back from a `load_model` / `load_weights` store.

        Raises:
            ValueError: If the file holds no starting point while the
                weight it loaded differs from w₀: the file was saved from
                a model without L2-SP on this weight (the pretrained
                weights), loaded after `apply_l2sp` took w₀ from the
                weights the model had then (typically their random
                initialization).
        """
        if "0" not in store:
            if self._weight_is_start():
                return
            raise ValueError(
                "L2SP: the loaded file has no L2-SP starting point for "
                f"{self._weight_path()}: it was saved from a model without "
                "L2-SP on this weight (the pretrained weights?). The weight "
                "now holds the loaded values, but its starting point w0 is "
                "still the value the weight had when apply_l2sp was called "
                "(e.g. its random initialization), so L2-SP would pull the "
                "loaded weights towards that. Call apply_l2sp after loading "
                "the pretrained weights."
            )
        value = np.asarray(store["0"])
        if value.shape != tuple(self.starting_point.shape):
            raise ValueError(
                f"L2SP: the saved starting point has shape {value.shape}, "
                f"the regularizer expects {tuple(self.starting_point.shape)}."
            )
        self.starting_point.assign(value)

    def _weight_is_start(self) -> bool:
        """Whether the regularized weight is known to equal w₀ now."""
        weight = None if self._weight is None else self._weight()
        if weight is None:
            return False
        return bool(
            np.array_equal(
                keras.ops.convert_to_numpy(weight.value),
                keras.ops.convert_to_numpy(self.starting_point.value),
            )
        )

    def _weight_path(self) -> str:
        weight = None if self._weight is None else self._weight()
        return "this weight" if weight is None else weight.path


def apply_l2sp(
    model: keras.layers.Layer,
    alpha: float = 0.01,
    beta: float = 0.0,
    layers: None | str | type | Iterable | Callable = None,
    new_layers: None | str | type | Iterable | Callable = None,
    weights: str | Iterable[str] = ALL_WEIGHTS,
) -> dict[str, list[str]]:
    """Adds L2-SP to a pretrained model: w₀ = the weights as they are now.

    Call it on the model assembled for fine-tuning (pretrained base plus
    new head), after loading the pretrained weights and before training:
    w₀ is copied when it is called. Loading weights afterwards with
    `load_weights` from a file saved without L2-SP (the pretrained
    weights) raises, naming this fix; assigning them with ``set_weights``
    or ``assign`` afterwards is not detected.

    Each selected weight of the pretrained layers gets its own `L2SP`
    (α/2·‖w − w₀‖², w₀ copied now); each selected weight of ``new_layers``
    gets `L2` with ``l2 = beta / 2`` (β/2·‖w‖²), skipped when ``beta`` is
    0. Everything goes through `keras_regkit.regularizers.apply`, so
    `model.losses` includes the penalties from the next step on and
    `model.save` keeps them (and the starting points).

    By default every trainable weight is selected (kernels, biases,
    BatchNormalization's ``gamma`` and ``beta``, embeddings, ...), as in
    the paper, whose Ω covers all the parameters of the pretrained network
    and of the new layers: a bias or a normalization scale left free drifts
    away from the pretrained solution that L2-SP is meant to stay near.
    Pulling towards w₀ does not have weight decay's reason to spare biases
    and normalization parameters (decaying those towards zero is what
    hurts). ``weights="kernel"`` restricts it to kernels (what Keras's
    ``kernel_regularizer`` covers).
    Non-trainable weights (BatchNormalization's moving statistics, frozen
    layers) are never selected.

    Args:
        model: A built `keras.Model` (nested models are searched).
        alpha: α, the strength towards the starting point (float >= 0 or a
            schedule).
        beta: β, the plain L2 strength on the new layers (float >= 0).
        layers: The pretrained layers: None for every layer not in
            ``new_layers``; otherwise as `apply`'s ``layers`` (names,
            classes, instances or a predicate).
        new_layers: The layers without a starting point (the new head):
            None, or as `apply`'s ``layers``.
        weights: ``"all"`` (every trainable weight of the selected layers,
            the default), or the weight name(s) to regularize, as in
            `apply` (e.g. ``"kernel"``, ``["kernel", "bias"]``).

    Returns:
        ``{"l2sp": [...], "l2": [...]}``: the paths of the weights that
        got each penalty.

    Raises:
        ValueError: If a selected layer is not built (it has no weights to
            start from), or nothing matched: no selected weight (naming
            ``weights``), or only new layers have them while ``beta`` is
            0 (naming ``new_layers``).

    Example:
    >>> import keras
    >>> import keras_regkit as rk
    >>> model = keras.Sequential([keras.Input((3,)),
    ...     keras.layers.Dense(4, name="base"),
    ...     keras.layers.Dense(1, name="head")], name="net")
    >>> rk.regularizers.apply_l2sp(model, alpha=0.1, beta=0.01,
    ...     new_layers="head", weights="kernel")
    {'l2sp': ['net/base/kernel'], 'l2': ['net/head/kernel']}
    >>> float(keras.ops.convert_to_numpy(model.losses[0]))  # w == w0 now
    0.0
    """
    owner = "apply_l2sp"
    _validation.check_type(
        "model", model, keras.layers.Layer, "a keras.Model", owner=owner
    )
    beta = _validation.check_float("beta", beta, low=0, owner=owner)
    every = isinstance(weights, str) and weights == ALL_WEIGHTS
    names = None if every else _apply.weight_names(weights, owner=owner)
    visits = list(_keras_internals.walk(model))
    all_layers = [layer for layer, _ in visits]
    is_new = _apply.layer_selector(
        "new_layers", new_layers, all_layers, default=False, owner=owner
    )
    is_old = _apply.layer_selector(
        "layers", layers, all_layers, default=True, owner=owner
    )
    done = {"l2sp": [], "l2": []}
    new_matched = []
    for layer, slots in visits:
        new, old = is_new(layer), is_old(layer) and not is_new(layer)
        if not (new or old):
            continue
        selected = [slot for slot in slots if every or slot.name in names]
        if old and selected and not layer.built:
            raise _validation.invalid(
                "layers",
                "built layers (an unbuilt layer has no weights to start "
                "from: build the model and load the pretrained weights "
                "first)",
                layer.name,
                owner=owner,
            )
        for slot in selected:
            if old:
                with _creation_scope(slot.variable):
                    regularizer = L2SP(alpha, starting_point=slot.variable)
                regularizer._weight = weakref.ref(slot.variable)
                key = "l2sp"
                if slot.attribute is None:
                    warnings.warn(
                        f"apply_l2sp: {slot.variable.path} has no "
                        "`*_regularizer` attribute on its layer, so "
                        "model.save will keep its L2SP penalty but not its "
                        "starting point (a reloaded model would pull it "
                        "towards zero).",
                        stacklevel=2,
                    )
            elif beta > 0:
                regularizer, key = L2(beta / 2), "l2"
            else:
                new_matched.append(layer.name)
                continue
            done[key] += _apply.apply(model, regularizer, [layer], slot.name)
    if not done["l2sp"] and not done["l2"]:
        if new_matched:
            # The weights exist, but only in new layers, which beta = 0
            # leaves alone: there is no pretrained weight to pull back.
            raise _validation.invalid(
                "new_layers",
                "a selection that leaves some pretrained layer (with the "
                "selected weights) out of new_layers: every matching layer "
                "is new and beta=0 adds no penalty to new layers, so "
                "nothing would be regularized (pass beta > 0 for plain L2 "
                "on new layers)",
                new_layers,
                owner=owner,
            )
        raise _validation.invalid(
            "weights",
            "weight names present in the selected layers",
            weights,
            owner=owner,
        )
    return done

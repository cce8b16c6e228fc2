"""The demo's variants: one list of records, one record per variant.

A `Variant` says how it changes the run — the kernel regularizer, the
stochastic layers put into the network's slots, the callbacks, the
augmentation ops (an `augment.AugmentationLayer` at the network's input),
a wrapper around the compiled model — each as a small function of the
run's `Setup`. A field left at None changes nothing. A variant with a
`Strength` has one knob (L2's lambda, the dropout rate, the augmentation
magnitude) that the demo's validation curve sweeps; its builders read it
from ``setup.strength``. `combine` builds a variant out of others, so
``combined`` is written as the list of the variants it combines.

Adding a variant is adding one record to `VARIANTS` (for example, the
``swa`` variant is ``Variant("swa", "...", callbacks=_swa)``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

L2_LAMBDA = 1.0
DROPOUT_RATE = 0.4  # the head's Dropout; DropPath and DropBlock2D: a quarter
AUGMENT_MAGNITUDE = 1.0  # shifts of 1/8, rotations of 0.04 turn, zoom 0.1
PATIENCE = 8
SAM_RHO = 0.05  # the SAM paper's radius
SWA_START = 0.75  # average the weights of the last quarter of the epochs

# Where the model builder (`training.build_model`) puts stochastic layers:
# after the residual branch, on the feature map after the residual sum,
# and before the classifier.
SLOTS = ("branch", "features", "head")


@dataclasses.dataclass(frozen=True)
class Setup:
    """What a variant's builders may depend on.

    Attributes:
        num_examples: The size of the training set.
        epochs: The epoch budget.
        seed: The run's seed.
        strength: The value of the variant's `Strength` (None: its
            default).
    """

    num_examples: int
    epochs: int
    seed: int
    strength: float | None = None

    def value(self, default: float) -> float:
        """``strength``, or ``default`` when it is None."""
        return default if self.strength is None else self.strength


@dataclasses.dataclass(frozen=True)
class Strength:
    """A variant's one knob, swept by the demo's validation curve.

    Attributes:
        name: What it is called in tables and plots (``"l2_lambda"``).
        default: The value of the plain variant.
        values: The values the validation curve tries, ascending; a
            higher value regularizes more.
    """

    name: str
    default: float
    values: tuple


@dataclasses.dataclass(frozen=True)
class Variant:
    """One way to train the demo's network.

    Attributes:
        name: The name used on the command line and in the table.
        description: One line, printed before the variant trains.
        regularizer: ``setup -> regularizer``, put on every kernel.
        layers: ``setup -> {slot: layer}``, with slots from `SLOTS`.
        callbacks: ``setup -> [callback, ...]`` passed to ``fit``.
        augmentation: ``setup -> [op, ...]``, the ops of an
            `rk.augment.Pipeline` in an `rk.augment.AugmentationLayer` at
            the network's input (active in training only).
        wrap_model: ``(model, setup) -> model``, applied to the model
            before it is compiled (for example a training-step wrapper
            such as `rk.training.SAM`); the result is compiled.
        strength: The knob the validation curve may sweep, or None.
        needs_validation: Whether ``fit`` needs the validation data
            (early stopping monitors it).
    """

    name: str
    description: str
    regularizer: Callable[[Setup], Any] | None = None
    layers: Callable[[Setup], dict] | None = None
    callbacks: Callable[[Setup], list] | None = None
    augmentation: Callable[[Setup], list] | None = None
    wrap_model: Callable[[Any, Setup], Any] | None = None
    strength: Strength | None = None
    needs_validation: bool = False


def combine(name: str, description: str, *parts: Variant) -> Variant:
    """A variant that applies every one of ``parts``, in order.

    Callbacks and augmentation ops are concatenated, layers are merged
    (two parts may not fill the same slot), model wrappers are composed;
    at most one part may set the regularizer.

    Example:
    >>> both = combine("both", "L2 and early stopping", get("l2"),
    ...                get("early_stopping"))
    >>> both.regularizer is get("l2").regularizer, both.layers
    (True, None)
    """

    def builders(field):
        return [getattr(p, field) for p in parts if getattr(p, field)]

    regularizers = builders("regularizer")
    if len(regularizers) > 1:
        raise ValueError(f"{name}: more than one part sets the regularizer")
    layers, wrappers = builders("layers"), builders("wrap_model")

    def merged_layers(setup):
        merged = {}
        for build in layers:
            new = build(setup)
            if merged.keys() & new.keys():
                raise ValueError(f"{name}: two parts fill the same slot")
            merged.update(new)
        return merged

    def wrapped(model, setup):
        for wrap in wrappers:
            model = wrap(model, setup)
        return model

    return Variant(
        name,
        description,
        regularizer=regularizers[0] if regularizers else None,
        layers=merged_layers if layers else None,
        callbacks=_concatenated(builders("callbacks")),
        augmentation=_concatenated(builders("augmentation")),
        wrap_model=wrapped if wrappers else None,
        needs_validation=any(p.needs_validation for p in parts),
    )


def _concatenated(builders):
    """One builder returning the concatenated lists of ``builders``."""
    if not builders:
        return None
    return lambda setup: [item for build in builders for item in build(setup)]


def _l2(setup: Setup):
    import keras_regkit as rk

    return rk.regularizers.L2(
        lam=setup.value(L2_LAMBDA), num_examples=setup.num_examples
    )


def _dropout_layers(setup: Setup) -> dict:
    import keras

    import keras_regkit as rk

    rate = setup.value(DROPOUT_RATE)
    ramp = rk.schedules.Linear(
        0.0, rate / 4, duration=max(setup.epochs // 2, 1)
    )
    return {
        "branch": rk.layers.DropPath(rate / 4, seed=setup.seed),
        "features": rk.layers.DropBlock2D(
            ramp, block_size=3, seed=setup.seed + 1
        ),
        "head": keras.layers.Dropout(rate, seed=setup.seed + 2),
    }


def _schedule_callback(setup: Setup) -> list:
    import keras_regkit as rk

    return [rk.callbacks.ScheduleCallback(log=False)]


def _early_stopping(setup: Setup) -> list:
    import keras_regkit as rk

    return [
        rk.callbacks.EarlyStopping(
            monitor="val_accuracy",
            patience=PATIENCE,
            restore_best_weights=True,
        )
    ]


def _augmentation_ops(setup: Setup) -> list:
    import keras_regkit as rk

    magnitude = setup.value(AUGMENT_MAGNITUDE)
    return [
        rk.augment.RandomTranslation(0.125 * magnitude, 0.125 * magnitude),
        rk.augment.RandomRotation(0.04 * magnitude),
        rk.augment.RandomZoom(0.1 * magnitude),
    ]


def _sam(model, setup: Setup):
    import keras_regkit as rk

    return rk.training.SAM(model, rho=setup.value(SAM_RHO))


def _swa(setup: Setup) -> list:
    import keras_regkit as rk

    # The network has no BatchNormalization: no `bn_data` pass is needed.
    return [rk.callbacks.SWA(start=SWA_START)]


_NONE = Variant("none", "no regularization")
_L2 = Variant(
    "l2",
    "L2, textbook lambda/(2m) form",
    regularizer=_l2,
    strength=Strength("l2_lambda", L2_LAMBDA, (0.3, 1.0, 3.0, 10.0, 30.0)),
)
_DROPOUT = Variant(
    "dropout",
    "Dropout + DropPath + DropBlock2D (scheduled)",
    layers=_dropout_layers,
    callbacks=_schedule_callback,  # ramps DropBlock2D's rate
    strength=Strength("dropout_rate", DROPOUT_RATE, (0.1, 0.2, 0.4, 0.6, 0.8)),
)
_EARLY_STOPPING = Variant(
    "early_stopping",
    f"EarlyStopping on val_accuracy (patience {PATIENCE}), best weights",
    callbacks=_early_stopping,
    needs_validation=True,
)
_AUGMENT = Variant(
    "augment",
    "augment.AugmentationLayer (shift, rotate, zoom)",
    augmentation=_augmentation_ops,
    strength=Strength(
        "augment_magnitude", AUGMENT_MAGNITUDE, (0.25, 0.5, 1.0, 2.0, 3.0)
    ),
)

_SAM = Variant(
    "sam",
    f"sharpness-aware minimization, rk.training.SAM(rho={SAM_RHO})",
    wrap_model=_sam,
    strength=Strength("sam_rho", SAM_RHO, (0.01, 0.02, 0.05, 0.1, 0.2)),
)
_SWA = Variant(
    "swa",
    f"stochastic weight averaging, rk.callbacks.SWA(start={SWA_START})",
    callbacks=_swa,
)

VARIANTS: list[Variant] = [
    _NONE,
    _L2,
    _DROPOUT,
    _EARLY_STOPPING,
    _AUGMENT,
    _SAM,
    _SWA,
    combine(
        "combined",
        "l2 + dropout + early_stopping + augment",
        _L2,
        _DROPOUT,
        _EARLY_STOPPING,
        _AUGMENT,
    ),
]


# What `python -m keras_regkit.demo` compares unless --variants says
# otherwise: sam and swa (each about as slow as two others) are opt-in.
DEFAULT_VARIANTS = (
    "none",
    "l2",
    "dropout",
    "early_stopping",
    "augment",
    "combined",
)


def names() -> list[str]:
    """The variants' names, in order.

    Example:
    >>> names()[:5]
    ['none', 'l2', 'dropout', 'early_stopping', 'augment']
    >>> names()[5:]
    ['sam', 'swa', 'combined']
    """
    return [variant.name for variant in VARIANTS]


def get(name: str) -> Variant:
    """The variant called ``name`` (a `KeyError` if there is none).

    Example:
    >>> get("l2").description
    'L2, textbook lambda/(2m) form'
    """
    for variant in VARIANTS:
        if variant.name == name:
            return variant
    raise KeyError(name)

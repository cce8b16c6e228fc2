"""The demo's model per variant, and what ``fit`` gets per variant.

There is no training loop here: `keras_regkit.diagnostics` trains, one
fresh model per trial (it sets the global seeds, calls the builder, fits
and measures). This module gives it the two things that differ between
variants:

- `builder`: a function of no arguments returning the compiled network
  with the variant's regularization (a `functools.partial` of the
  top-level `build_model`, so it pickles and the trials can run in other
  processes with ``--jobs``);
- `fit_kwargs`: epochs, batch size, the variant's callbacks and, for early
  stopping, the validation data it monitors.
"""

from __future__ import annotations

import functools

import keras
import numpy as np

import keras_regkit as rk
from keras_regkit.demo import variants
from keras_regkit.demo.data import Splits
from keras_regkit.demo.variants import Setup

BATCH_SIZE = 32


def build_model(
    name: str,
    input_shape: tuple,
    num_classes: int,
    num_examples: int,
    epochs: int,
    strength: float | None = None,
):
    """The small residual CNN, with the regularization of variant ``name``.

    The variant's layers are seeded from the global NumPy generator, which
    the diagnostics seed (`keras.utils.set_random_seed`) before each
    trial: one seed, one network, whichever process builds it.

    Args:
        name: The variant's name (looked up in `variants.VARIANTS`).
        input_shape: The shape of one image, ``(H, W, C)``.
        num_classes: The number of classes.
        num_examples: The size of the training set (L2's ``m``).
        epochs: The epoch budget (DropBlock2D's ramp).
        strength: The value of the variant's `variants.Strength`, or
            None for its default.

    Returns:
        The model, compiled with the accuracy metric (wrapped by the
        variant's ``wrap_model`` before compiling, if set).
    """
    variant = variants.get(name)
    setup = Setup(
        num_examples=num_examples,
        epochs=epochs,
        seed=int(np.random.randint(0, 2**31 - 1)),
        strength=strength,
    )
    regularizer = variant.regularizer(setup) if variant.regularizer else None
    layers = variant.layers(setup) if variant.layers else {}

    def conv(filters, **kwargs):
        return keras.layers.Conv2D(
            filters,
            3,
            padding="same",
            kernel_regularizer=regularizer,
            **kwargs,
        )

    def slot(name, x):
        return layers[name](x) if name in layers else x

    inputs = keras.Input(input_shape)
    x = inputs
    if variant.augmentation:
        pipeline = rk.augment.Pipeline(
            variant.augmentation(setup), seed=setup.seed
        )
        x = rk.augment.AugmentationLayer(pipeline)(x)
    x = conv(16, activation="relu")(x)
    branch = conv(16, activation="relu")(x)
    branch = slot("branch", conv(16)(branch))
    x = keras.layers.Activation("relu")(keras.layers.Add()([x, branch]))
    x = slot("features", x)
    x = conv(32, strides=2, activation="relu")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(
        64, activation="relu", kernel_regularizer=regularizer
    )(x)
    x = slot("head", x)
    outputs = keras.layers.Dense(num_classes, kernel_regularizer=regularizer)(x)
    model = keras.Model(inputs, outputs)
    if variant.wrap_model:
        model = variant.wrap_model(model, setup)
    model.compile(
        keras.optimizers.Adam(1e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def builder(name: str, splits: Splits, epochs: int, strength=None):
    """``build_model`` for variant ``name`` as a function of no arguments.

    With ``strength="sweep"`` it is a function of one argument, the
    strength (what `diagnostics.validation_curve` calls).
    """
    args = (
        name,
        tuple(splits.x_train.shape[1:]),
        splits.num_classes,
        len(splits.x_train),
        epochs,
    )
    if strength == "sweep":
        return functools.partial(build_model, *args)
    return functools.partial(build_model, *args, strength)


def fit_kwargs(name: str, splits: Splits, epochs: int) -> dict:
    """What ``fit`` gets for variant ``name``.

    The callbacks are built once per variant and serve every seed (each
    ``fit`` starts them afresh); early stopping gets the validation data
    it monitors.
    """
    variant = variants.get(name)
    setup = Setup(num_examples=len(splits.x_train), epochs=epochs, seed=0)
    kwargs = {"epochs": epochs, "batch_size": BATCH_SIZE}
    if variant.callbacks:
        kwargs["callbacks"] = variant.callbacks(setup)
    if variant.needs_validation:
        kwargs["validation_data"] = (splits.x_val, splits.y_val)
    return kwargs

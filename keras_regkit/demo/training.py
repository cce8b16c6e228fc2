"""The demo's model and its training: one variant at a time."""

from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np
import tensorflow as tf

import keras_regkit as rk
from keras_regkit.demo.data import Splits
from keras_regkit.demo.variants import Setup
from keras_regkit.demo.variants import Variant

BATCH_SIZE = 32


def build_model(splits: Splits, variant: Variant, setup: Setup):
    """The residual CNN, with the regularization of ``variant``.

    Args:
        splits: The data (for the input shape and the number of classes).
        variant: What to add to the network.
        setup: The run's sizes and seed.

    Returns:
        The compiled model (wrapped by ``variant.wrap_model`` before
        compiling, if set).
    """
    keras.utils.set_random_seed(setup.seed)
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

    inputs = keras.Input(splits.x_train.shape[1:])
    x = conv(32, activation="relu")(inputs)
    branch = conv(32, activation="relu")(x)
    branch = slot("branch", conv(32)(branch))
    x = keras.layers.Activation("relu")(keras.layers.Add()([x, branch]))
    x = slot("features", x)
    x = conv(64, strides=2, activation="relu")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(
        128, activation="relu", kernel_regularizer=regularizer
    )(x)
    x = slot("head", x)
    outputs = keras.layers.Dense(
        splits.num_classes, kernel_regularizer=regularizer
    )(x)
    model = keras.Model(inputs, outputs)
    if variant.wrap_model:
        model = variant.wrap_model(model, setup)
    model.compile(
        keras.optimizers.Adam(1e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[
            "accuracy",
            keras.metrics.SparseCategoricalCrossentropy(
                from_logits=True, name="xent"
            ),
        ],
    )
    return model


def training_dataset(splits: Splits, variant: Variant, setup: Setup):
    """Shuffled batches of the training set, augmented if ``variant`` asks."""
    dataset = (
        tf.data.Dataset.from_tensor_slices((splits.x_train, splits.y_train))
        .shuffle(len(splits.x_train), seed=setup.seed)
        .batch(BATCH_SIZE)
    )
    if variant.augmentation:
        pipeline = rk.augment.Pipeline(
            variant.augmentation(setup), seed=setup.seed
        )
        dataset = pipeline(dataset)
    return dataset.prefetch(tf.data.AUTOTUNE)


class Progress(keras.callbacks.Callback):
    """Prints one short line per epoch of a variant.

    Args:
        name: The variant's name.
        epochs: The epoch budget.
        stream: Where to write.
    """

    def __init__(self, name, epochs, stream):
        super().__init__()
        self.name, self.epochs, self.stream = name, epochs, stream

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.stream.write(
            f"  [{self.name}] epoch {epoch + 1:>3}/{self.epochs}  "
            f"loss {logs.get('xent', float('nan')):.3f}  "
            f"val_loss {logs.get('val_xent', float('nan')):.3f}  "
            f"val_acc {logs.get('val_accuracy', float('nan')):.3f}\n"
        )
        self.stream.flush()


@dataclasses.dataclass
class Result:
    """What one variant produced with one seed."""

    name: str
    train_acc: float
    val_acc: float
    test_acc: float
    epochs_run: int
    best_epoch: int
    seconds: float
    history: dict
    seed: int = 0

    @property
    def gap(self) -> float:
        """Generalization gap: train accuracy minus test accuracy."""
        return self.train_acc - self.test_acc


def train_variant(
    variant: Variant, splits: Splits, epochs: int, seed: int, stream
) -> Result:
    """Trains and evaluates one variant.

    Args:
        variant: The variant.
        splits: The data.
        epochs: The epoch budget.
        seed: The seed of the weights, the shuffling and the randomness.
        stream: Where the progress lines go.

    Returns:
        The `Result`: accuracies, epochs run, best epoch, time, history.
    """
    setup = Setup(num_examples=len(splits.x_train), epochs=epochs, seed=seed)
    start = time.perf_counter()
    model = build_model(splits, variant, setup)
    callbacks = variant.callbacks(setup) if variant.callbacks else []
    history = model.fit(
        training_dataset(splits, variant, setup),
        validation_data=(splits.x_val, splits.y_val),
        epochs=epochs,
        shuffle=False,  # the dataset is already shuffled, with the seed
        verbose=0,
        callbacks=[
            *callbacks,
            Progress(f"{variant.name} seed {seed}", epochs, stream),
        ],
    ).history

    def accuracy(x, y):
        return float(
            model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"]
        )

    return Result(
        name=variant.name,
        train_acc=accuracy(splits.x_train, splits.y_train),
        val_acc=accuracy(splits.x_val, splits.y_val),
        test_acc=accuracy(splits.x_test, splits.y_test),
        epochs_run=len(history["loss"]),
        best_epoch=int(np.argmax(history["val_accuracy"])) + 1,
        seconds=time.perf_counter() - start,
        history=history,
        seed=seed,
    )

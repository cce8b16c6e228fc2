"""Writes ``model_24336a5.keras`` and ``model_24336a5.npz`` (a fixture).

Run with keras_regkit as of commit 24336a5, before the layers saved their
generator state and their schedule index, on TensorFlow::

    git archive 24336a5 keras_regkit | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old python tests/layers/data/make_24336a5_model.py

A model with every `rk.layers` layer (seeded; scheduled rates moved to
0.5 by `ScheduleCallback`), fitted two epochs and saved; the ``.npz``
holds an input and what the model loaded by that version computed before
its `MCDropout` (the layers above are the identity at inference).
"""

import os

import keras
import numpy as np

import keras_regkit as rk
import keras_regkit.layers  # noqa: F401
import keras_regkit.schedules  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))


def ramp():
    return rk.schedules.Linear(0.0, 0.5, duration=1)


def build():
    inputs = keras.Input((6, 8, 3))
    h = rk.layers.DropConnectConv2D(
        4, 3, rate=ramp(), padding="same", seed=1, name="dc_conv"
    )(inputs)
    h = rk.layers.DropBlock2D(ramp(), 3, seed=2, name="drop_block")(h)
    branch = keras.layers.Conv2D(4, 1)(h)
    h = h + rk.layers.DropPath(0.2, seed=3, name="drop_path")(branch)
    h = keras.layers.GlobalAveragePooling2D()(h)
    h = rk.layers.ConcreteDropout(keras.layers.Dense(8), seed=4, name="cd")(h)
    h = rk.layers.DropConnectDense(6, rate=ramp(), seed=5, name="dc_dense")(h)
    h = keras.layers.Dense(2, name="head")(h)
    outputs = rk.layers.MCDropout(ramp(), seed=6, name="mc")(h)
    return keras.Model(inputs, outputs)


def main():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 6, 8, 3)).astype("float32")
    y = rng.normal(size=(16, 2)).astype("float32")
    model = build()
    model.compile("adam", "mse")
    model.fit(
        x,
        y,
        epochs=2,
        batch_size=8,
        verbose=0,
        callbacks=[rk.callbacks.ScheduleCallback()],
    )
    path = os.path.join(HERE, "model_24336a5.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    head = keras.Model(loaded.input, loaded.get_layer("head").output)
    np.savez(
        os.path.join(HERE, "model_24336a5.npz"),
        x=x[:4],
        head=keras.ops.convert_to_numpy(head(x[:4])),
    )


if __name__ == "__main__":
    main()

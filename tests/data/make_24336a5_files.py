"""Writes the ``*_24336a5.keras`` fixtures and what they computed then.

Run with keras_regkit as of commit 24336a5 (before issue #20 moved
modules, before the layers saved their generator state and schedule
index), on TensorFlow::

    git worktree add --detach /tmp/wt_old 24336a5
    PYTHONPATH=/tmp/wt_old python tests/data/make_24336a5_files.py

Each fixture ``<name>_24336a5.keras`` gets a ``<name>_24336a5.npz``
beside it, computed by that version on the model it had just loaded:
``x`` (an input), ``outputs`` (what the model, or the layer named
``output_layer``, returned in inference mode), ``penalties`` (the values
of ``model.losses``) and ``classes`` (the registered names of the model
and of its layers). tests/test_old_files_load.py loads each file in a new
process after a bare ``import keras_regkit`` and compares.
"""

import os

import keras
import numpy as np

import keras_regkit as rk

HERE = os.path.dirname(os.path.abspath(__file__))
COMMIT = "24336a5"


def ramp(end=0.5):
    return rk.schedules.Linear(0.0, end, duration=1)


def layers_model():
    """Every `rk.layers` layer, seeded; scheduled rates (to 0.5)."""
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
    # MCDropout draws at inference: the outputs are read before it.
    outputs = rk.layers.MCDropout(ramp(), seed=6, name="mc")(h)
    return keras.Model(inputs, outputs), (6, 8, 3), "head"


def regularizers_model():
    """Every regularizer; L2's strength scheduled (to 1e-2)."""
    regs = rk.regularizers
    model = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(8, kernel_regularizer=regs.L1(1e-3)),
            keras.layers.Dense(8, kernel_regularizer=regs.L2(ramp(1e-2))),
            keras.layers.Dense(8, kernel_regularizer=regs.L1L2(1e-3, 1e-3)),
            keras.layers.Dense(8, kernel_regularizer=regs.ElasticNet(1e-3)),
            keras.layers.Dense(8, kernel_regularizer=regs.GroupLasso(1e-3)),
            keras.layers.Dense(8, kernel_regularizer=regs.Orthogonal(1e-3)),
            keras.layers.Dense(2, name="head"),
        ]
    )
    regs.apply(model, regs.L2(2e-3), layers="head")
    return model, (5,), None


def l2sp_model():
    """A pretrained base and a new head under `apply_l2sp` (moved by fit)."""
    base = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(8, name="base")], name="base"
    )
    model = keras.Sequential([base, keras.layers.Dense(2, name="new_head")])
    rk.regularizers.apply_l2sp(
        model, alpha=0.1, beta=0.01, new_layers="new_head"
    )
    return model, (5,), None


def sam_model():
    """ASAM around a small network (saved before `scale_biases`)."""
    inner = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(
                8,
                activation="tanh",
                kernel_regularizer=keras.regularizers.L2(1e-3),
            ),
            keras.layers.Dense(2),
        ]
    )
    return rk.training.SAM(inner, rho=0.5, adaptive=True), (5,), None


def augment_model():
    """An `AugmentationLayer` (a seeded `Pipeline`) before a small head."""
    aug = rk.augment
    pipeline = aug.Pipeline(
        [
            aug.RandomFlip(),
            aug.RandomBrightness(0.2),
            aug.RandomCutout(3, count=2),
        ],
        seed=3,
    )
    model = keras.Sequential(
        [
            keras.Input((8, 6, 3)),
            aug.AugmentationLayer(pipeline, name="augment"),
            keras.layers.Conv2D(4, 3),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2),
        ]
    )
    return model, (8, 6, 3), None


FIXTURES = {
    "layers": layers_model,
    "regularizers": regularizers_model,
    "l2sp": l2sp_model,
    "sam": sam_model,
    "augment": augment_model,
}


def registered(obj):
    return keras.saving.get_registered_name(type(obj))


def write(name, build):
    keras.utils.set_random_seed(0)
    model, shape, output_layer = build()
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(16, *shape)).astype("float32")
    y = rng.normal(size=(16, 2)).astype("float32")
    model.compile("adam", "mse")
    model.fit(
        x,
        y,
        epochs=2,
        batch_size=8,
        verbose=0,
        callbacks=[rk.callbacks.ScheduleCallback(warn_if_unused=False)],
    )
    path = os.path.join(HERE, f"{name}_{COMMIT}.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    reader = loaded
    if output_layer is not None:
        reader = keras.Model(
            loaded.input, loaded.get_layer(output_layer).output
        )
    np.savez(
        os.path.join(HERE, f"{name}_{COMMIT}.npz"),
        x=x[:4],
        outputs=keras.ops.convert_to_numpy(reader(x[:4], training=False)),
        output_layer=np.array(output_layer or ""),
        penalties=np.array(
            [float(keras.ops.convert_to_numpy(v)) for v in loaded.losses],
            "float64",
        ),
        classes=np.array(
            [registered(loaded)] + [registered(la) for la in loaded.layers]
        ),
    )
    print(name, path)


if __name__ == "__main__":
    print("keras_regkit from", rk.__file__)
    for fixture, build in FIXTURES.items():
        write(fixture, build)

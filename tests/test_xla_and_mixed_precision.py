"""Callbacks, `regularizers.apply` and augmentation layers under XLA and
mixed precision (the layers and regularizers have their own such tests)."""

import helpers
import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit import schedules


@pytest.fixture(params=["float32", "mixed_float16", "mixed_bfloat16"])
def policy(request):
    keras.config.set_dtype_policy(request.param)
    yield request.param
    keras.config.set_dtype_policy("float32")


class ScriptedValLoss(keras.callbacks.Callback):
    """Writes a scripted val_loss and records the weights of every epoch."""

    def __init__(self, values):
        super().__init__()
        self.values = values
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]
        self.weights.append([np.array(w) for w in self.model.get_weights()])


@pytest.mark.compat("EarlyStopping", "XLA")
@pytest.mark.compat("EarlyStopping", "mixed precision")
def test_early_stopping_restores_under_jit_and_mixed_precision(policy):
    model = helpers.dense_model(None)
    model.compile(keras.optimizers.Adam(0.05), "mse", jit_compile=True)
    x, y = helpers.regression_data((6,))
    script = ScriptedValLoss([0.5, 0.2, 0.4, 0.45, 0.5])
    stopper = rk.callbacks.EarlyStopping(
        patience=2, restore_best_weights=True, include_optimizer=True
    )
    model.fit(x, y, epochs=5, verbose=0, callbacks=[script, stopper])
    assert stopper.best_epoch == 1 and stopper.stopped_epoch == 3
    for restored, best in zip(
        model.get_weights(), script.weights[1], strict=True
    ):
        np.testing.assert_array_equal(restored, best)
    assert model.layers[0].kernel.dtype == "float32"


@pytest.mark.compat("ScheduleCallback", "XLA")
@pytest.mark.compat("ScheduleCallback", "mixed precision")
@pytest.mark.compat("regularizers.apply", "XLA")
@pytest.mark.compat("regularizers.apply", "mixed precision")
def test_scheduled_penalty_added_by_apply_under_jit_and_mixed_precision(policy):
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(1, use_bias=False, kernel_initializer="ones"),
        ]
    )
    strength = schedules.Piecewise([1, 2], [0.0, 1.0, 2.0])
    rk.regularizers.apply(model, rk.regularizers.L2(strength))
    model.compile(keras.optimizers.SGD(0.0), "mse", jit_compile=True)
    history = model.fit(
        np.zeros((8, 3), "float32"),
        np.zeros((8, 1), "float32"),
        epochs=3,
        verbose=0,
        callbacks=[rk.callbacks.ScheduleCallback()],
    )
    # Kernel of three ones: penalty = 3 * l2, exact in either policy.
    np.testing.assert_allclose(history.history["loss"], [0.0, 3.0, 6.0])
    assert history.history["l2"] == [0.0, 1.0, 2.0]


@pytest.mark.compat("augment.Pipeline", "mixed precision")
@pytest.mark.parametrize("policy_name", ["mixed_float16", "mixed_bfloat16"])
def test_augmentation_layer_in_a_mixed_precision_model(tmp_path, policy_name):
    keras.config.set_dtype_policy(policy_name)
    try:
        pipeline = rk.augment.Pipeline(
            [rk.augment.RandomFlip(), rk.augment.RandomRotation(0.05)], seed=3
        )
        model = keras.Sequential(
            [
                keras.Input((8, 6, 3)),
                rk.augment.AugmentationLayer(pipeline),
                keras.layers.Conv2D(4, 3),
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(2),
            ]
        )
        model.compile("adam", "mse")
        x = np.random.default_rng(0).random((16, 8, 6, 3)).astype("float32")
        y = np.zeros((16, 2), "float32")
        history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))
        predictions = model.predict(x, verbose=0)
        assert keras.backend.standardize_dtype(predictions.dtype) == (
            policy_name.removeprefix("mixed_")
        )
        model.save(tmp_path / "m.keras")
        loaded = keras.models.load_model(tmp_path / "m.keras")
        np.testing.assert_allclose(
            loaded.predict(x, verbose=0), model.predict(x, verbose=0)
        )
    finally:
        keras.config.set_dtype_policy("float32")


@pytest.mark.compat("DropConnect", "XLA")
def test_drop_connect_dense_and_conv_train_under_jit():
    model = keras.Sequential(
        [
            keras.Input((6, 5, 2)),
            rk.layers.DropConnectConv2D(3, 3, rate=0.3, seed=1),
            keras.layers.Flatten(),
            rk.layers.DropConnectDense(2, rate=0.3, per_example=True, seed=2),
        ]
    )
    model.compile(keras.optimizers.SGD(0.01), "mse", jit_compile=True)
    x = np.random.default_rng(0).random((8, 6, 5, 2)).astype("float32")
    history = model.fit(x, np.zeros((8, 2), "float32"), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    # Inference is the plain layers with the stored (expected) weights.
    eager = keras.Sequential(model.layers)
    np.testing.assert_allclose(
        model.predict(x, verbose=0), eager(x, training=False), rtol=1e-5
    )

"""SAM under tf.distribute.MirroredStrategy (two logical CPUs).

The perturbation comes from the gradient summed over the replicas, so a
step on two replicas (half the batch each) equals the step on one device.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_regkit as rk


def regularized_mlp():
    keras.utils.set_random_seed(7)
    return keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(
                8,
                activation="tanh",
                kernel_regularizer=keras.regularizers.L2(0.01),
            ),
            keras.layers.Dense(1),
        ]
    )


def fit(scope, x, y, **options):
    with scope:
        model = rk.training.SAM(regularized_mlp(), **options)
        model.compile(keras.optimizers.SGD(0.1), "mse")
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return model, history.history["loss"]


@pytest.mark.compat("SAM/ASAM", "MirroredStrategy")
@pytest.mark.parametrize("adaptive", [False, True])
def test_two_replicas_take_the_single_device_step(strategy, adaptive):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 5)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    options = {"rho": 0.5 if adaptive else 0.2, "adaptive": adaptive}
    single, single_loss = fit(tf.device("/cpu:0"), x, y, **options)
    mirrored, mirrored_loss = fit(strategy.scope(), x, y, **options)
    assert mirrored.distribute_strategy is strategy
    np.testing.assert_allclose(mirrored_loss, single_loss, rtol=1e-5)
    for variable, want in zip(
        mirrored.trainable_variables, single.get_weights(), strict=True
    ):
        values = [v.numpy() for v in variable.value.values]
        assert len(values) == 2
        np.testing.assert_array_equal(values[0], values[1])
        np.testing.assert_allclose(values[0], want, rtol=1e-5, atol=1e-6)
    # The step is SAM's, not plain SGD's: rho=0 lands elsewhere.
    plain, _ = fit(tf.device("/cpu:0"), x, y, rho=0.0)
    assert (
        max(
            np.abs(a - b).max()
            for a, b in zip(
                plain.get_weights(), single.get_weights(), strict=True
            )
        )
        > 1e-4
    )


def test_mixed_float16_skips_a_step_that_overflowed_on_one_replica(strategy):
    # The second replica's half of each batch is large: its float16
    # gradients overflow at the initial loss scale, the first replica's
    # do not. Every replica must skip those steps (Keras 3.15's
    # LossScaleOptimizer alone looks at the first replica's gradients).
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 5)).astype("float32")
    x[4:8] *= 300.0
    x[12:16] *= 300.0
    y = rng.normal(size=(16, 1)).astype("float32")
    results = {}
    for name, scope in (
        ("single", tf.device("/cpu:0")),
        ("mirrored", strategy.scope()),
    ):
        keras.config.set_dtype_policy("mixed_float16")
        try:
            with scope:
                keras.utils.set_random_seed(3)
                inner = keras.Sequential(
                    [
                        keras.Input((5,)),
                        keras.layers.Dense(8),
                        keras.layers.Dense(1),
                    ]
                )
                model = rk.training.SAM(inner, rho=0.05)
                model.compile(keras.optimizers.SGD(1e-4), "mse")
        finally:
            keras.config.set_dtype_policy("float32")
        model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
        scale = float(keras.ops.convert_to_numpy(model.optimizer.dynamic_scale))
        assert scale < 2.0**15, (name, scale)  # steps were skipped
        weights = model.get_weights()
        assert all(np.isfinite(w).all() for w in weights), name
        results[name] = (scale, weights)
    assert results["mirrored"][0] == results["single"][0]
    for got, want in zip(
        results["mirrored"][1], results["single"][1], strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)

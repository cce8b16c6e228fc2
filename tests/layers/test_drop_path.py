"""Tests of DropPath / StochasticDepth, drop_path and drop_path_rates."""

import helpers
import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit.layers import drop_path as dp


def test_stochastic_depth_is_drop_path():
    assert rk.layers.StochasticDepth is rk.layers.DropPath


def test_matches_numpy_reference():
    x = np.random.default_rng(0).normal(size=(7, 3, 5)).astype("float32")
    rate = 0.4
    out = dp.drop_path(x, rate, seed=keras.random.SeedGenerator(3))
    noise = keras.ops.convert_to_numpy(
        keras.random.uniform((7, 1, 1), seed=keras.random.SeedGenerator(3))
    )
    expected = x * (noise < 1 - rate) / (1 - rate)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(out), expected, rtol=1e-6
    )
    unscaled = dp.drop_path(
        x, rate, scale_by_keep=False, seed=keras.random.SeedGenerator(3)
    )
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(unscaled), x * (noise < 1 - rate)
    )


def test_drops_whole_examples_with_the_right_frequency():
    rate = 0.3
    layer = rk.layers.DropPath(rate, seed=1)
    x = np.random.default_rng(1).uniform(1, 2, (4000, 3, 5)).astype("float32")
    y = np.asarray(layer(x, training=True))
    flat = (y / x).reshape(4000, -1)
    dropped = (flat == 0).all(axis=1)
    kept = np.isclose(flat, 1 / (1 - rate)).all(axis=1)
    assert (dropped | kept).all(), "an example was partly dropped"
    # Binomial(4000, 0.3): std 0.0072; tolerance ~4 sigma.
    assert abs(dropped.mean() - rate) < 0.03, dropped.mean()
    ratio = y.mean() / x.mean()
    assert abs(ratio - 1) < 0.04, f"mean ratio {ratio:.4f} (tol 0.04)"


def test_inference_and_zero_rate_are_identity():
    x = np.random.default_rng(2).normal(size=(6, 4)).astype("float32")
    layer = rk.layers.DropPath(0.5, seed=1)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    zero = rk.layers.DropPath(0.0)
    np.testing.assert_array_equal(np.asarray(zero(x, training=True)), x)


def test_seeds_reproducible_distinct_and_fresh_each_step():
    x = np.ones((32, 2), "float32")

    helpers.assert_seeded_masks(
        lambda seed: rk.layers.DropPath(0.5, seed=seed), x
    )


def test_dropped_examples_get_zero_gradient():
    x = np.ones((16, 3), "float32")
    layer = rk.layers.DropPath(0.5, seed=4)

    def loss(x):
        y = layer(x, training=True)
        return keras.ops.sum(y), y

    grad, y = helpers.gradient(loss, x)
    dropped = (np.asarray(y) == 0).all(axis=1)
    assert dropped.any() and not dropped.all()
    np.testing.assert_array_equal(grad[dropped], 0.0)
    np.testing.assert_allclose(grad[~dropped], 2.0)


def test_drop_path_rates():
    assert rk.layers.drop_path_rates(0.1, 3) == [0.0, 0.05, 0.1]
    assert rk.layers.drop_path_rates(0.2, 1) == [0.0]
    assert rk.layers.drop_path_rates(0.2, 0) == []
    stages = rk.layers.drop_path_rates(0.35, [1, 2, 3, 2])
    assert [len(s) for s in stages] == [1, 2, 3, 2]
    flat = [r for s in stages for r in s]
    np.testing.assert_allclose(flat, np.arange(8) * 0.05, atol=1e-12)
    assert all(isinstance(r, float) for r in flat)


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda: rk.layers.DropPath(1.0), ValueError, r"`rate`.*rate=1.0"),
        (lambda: rk.layers.DropPath(-1), ValueError, r"rate=-1"),
        (lambda: rk.layers.DropPath(None), TypeError, r"rate=None"),
        (
            lambda: rk.layers.DropPath(0.1, scale_by_keep="yes"),
            TypeError,
            r"^DropPath: .*`scale_by_keep`.*'yes'",
        ),
        (
            lambda: rk.layers.DropPath(0.1, scale_by_keep=np.True_),
            TypeError,
            r"`scale_by_keep`.*True or False",
        ),
        (lambda: rk.layers.DropPath(0.1, seed=1.5), TypeError, r"seed=1.5"),
        (
            lambda: rk.layers.drop_path_rates(1.2, 3),
            ValueError,
            r"^drop_path_rates: .*`max_rate`.*max_rate=1.2",
        ),
        (
            lambda: rk.layers.drop_path_rates(0.1, [2, -1]),
            ValueError,
            r"`depths`.*depths=-1",
        ),
        (
            lambda: rk.layers.DropPath(0.1)(np.ones((2, 3), "int32")),
            TypeError,
            r"`inputs`.*float tensor",
        ),
        (
            lambda: rk.layers.DropPath(0.1)(np.float32(1.0)),
            ValueError,
            r"`input_shape`.*rank >= 1",
        ),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def _residual_model(rate):
    inputs = keras.Input((6,))
    h = inputs
    for i, r in enumerate(rk.layers.drop_path_rates(rate, 2)):
        branch = keras.layers.Dense(6, activation="relu")(h)
        h = h + rk.layers.DropPath(r, seed=i)(branch)
    return keras.Model(inputs, keras.layers.Dense(1)(h))


@pytest.mark.compat("DropPath", "TensorFlow")
@pytest.mark.compat("DropPath", "JAX")
@pytest.mark.compat("DropPath", "PyTorch")
@pytest.mark.compat("DropPath", "XLA")
@pytest.mark.parametrize("jit_compile", [False, True])
def test_fit_save_load_same_predictions(tmp_path, jit_compile):
    x = np.random.default_rng(5).normal(size=(16, 6)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    loaded = helpers.fit_save_load_predictions(
        _residual_model(0.3),
        x,
        y,
        tmp_path / "model.keras",
        jit_compile=jit_compile,
    )
    rates = [layer.rate for layer in loaded.layers if "drop_path" in layer.name]
    assert rates == [0.0, 0.3]


@pytest.mark.compat("DropPath", "mixed precision")
def test_sequential_output_shape_and_mixed_precision():
    layer = rk.layers.DropPath(0.2)
    assert layer.compute_output_shape((None, 3, 4)) == (None, 3, 4)
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(4), rk.layers.DropPath(0.5)]
        )
        model.compile("sgd", "mse")
        model.fit(np.ones((8, 4)), np.ones((8, 4)), batch_size=4, verbose=0)
        y = model.layers[-1](np.ones((8, 4), "float16"), training=True)
        assert keras.backend.standardize_dtype(y.dtype) == "float16"
    finally:
        keras.config.set_dtype_policy("float32")


def test_scheduled_rate_changes_without_retracing():
    layer = rk.layers.DropPath(rk.schedules.Piecewise([1, 2], [0, 0.5, 0.9]))
    counter = helpers.TraceCounter()
    inputs = keras.Input((3,))
    h = layer(counter(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1)(h))
    model.compile("sgd", "mse")
    _, seen = helpers.fit_with_schedules(
        model,
        np.ones((8, 3)),
        np.ones((8, 1)),
        counter,
        watch=layer,
        batch_size=8,
    )
    # No retrace after the first epoch (how many traces the first epoch
    # takes depends on the backend).
    helpers.assert_not_retraced([t for t, _ in seen])
    assert [r for _, r in seen] == [0.0, 0.5, 0.9]
    y = np.asarray(layer(np.ones((2000, 1), "float32"), training=True))
    assert abs((y == 0).mean() - 0.9) < 0.03


def test_active_in_fit_and_identity_in_evaluate():
    # With a learning rate of 0 the model stays the identity map, so the
    # training loss is > 0 only if DropPath drops during fit, and the
    # evaluation loss is 0 only if it is the identity at inference.
    x = np.ones((64, 4), "float32")
    model = keras.Sequential(
        [
            keras.Input((4,)),
            rk.layers.DropPath(0.5, seed=1),
            keras.layers.Dense(4, kernel_initializer="identity"),
        ]
    )
    model.compile(keras.optimizers.SGD(0.0), "mse")
    history = model.fit(x, x, epochs=1, batch_size=64, verbose=0)
    assert history.history["loss"][0] > 0.1
    assert model.evaluate(x, x, verbose=0) == 0.0

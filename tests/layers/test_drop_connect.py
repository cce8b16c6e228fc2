"""Tests of DropConnectDense, DropConnectConv2D and drop_connect_mask."""

import helpers
import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit.layers import drop_connect as dc


def reference_mask(shape, rate, seed):
    """The mask a fresh layer with ``seed`` draws first, in numpy."""
    noise = keras.random.uniform(shape, seed=keras.random.SeedGenerator(seed))
    noise = keras.ops.convert_to_numpy(noise)
    return (noise < 1 - rate) / (1 - rate)


def test_mask_values_and_statistics():
    rate = 0.3
    mask = dc.drop_connect_mask((300, 200), rate, seed=1)
    mask = keras.ops.convert_to_numpy(mask)
    np.testing.assert_allclose(np.unique(mask), [0.0, 1 / (1 - rate)])
    # 60,000 Bernoulli(0.3): std of the fraction 0.0019.
    assert abs((mask == 0).mean() - rate) < 0.01
    assert abs(mask.mean() - 1.0) < 0.015


@pytest.mark.parametrize("per_example", [False, True])
def test_dense_matches_numpy_reference(per_example):
    rate = 0.4
    x = np.random.default_rng(0).normal(size=(5, 3, 7)).astype("float32")
    layer = rk.layers.DropConnectDense(
        4, rate, per_example=per_example, seed=9, activation="relu"
    )
    layer.build(x.shape)
    layer.bias.assign(np.arange(4, dtype="float32") / 10)
    y = keras.ops.convert_to_numpy(layer(x, training=True))
    kernel, bias = np.asarray(layer.kernel), np.asarray(layer.bias)
    if per_example:
        mask = reference_mask((5, 7, 4), rate, 9)
        expected = np.einsum("bti,bij->btj", x, kernel * mask) + bias
    else:
        mask = reference_mask((7, 4), rate, 9)
        expected = x @ (kernel * mask) + bias
    # float32 sums of 7 products: an absolute tolerance for outputs near 0.
    tol = {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose(y, np.maximum(expected, 0), **tol)
    # Inference uses the expected weights: the plain Dense.
    plain = np.maximum(x @ kernel + bias, 0)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(x)), plain, **tol
    )
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(x, training=False)), plain, **tol
    )


def test_dense_expected_output_is_inference_output():
    layer = rk.layers.DropConnectDense(3, 0.5, per_example=True, seed=2)
    x = np.tile(np.random.default_rng(1).normal(size=(1, 6)), (4000, 1))
    x = x.astype("float32")
    sampled = keras.ops.convert_to_numpy(layer(x, training=True))
    np.testing.assert_allclose(
        sampled.mean(axis=0),
        keras.ops.convert_to_numpy(layer(x[:1]))[0],
        atol=0.08,
    )
    # Per-example masks: the rows differ although the inputs are equal.
    assert len({tuple(row) for row in sampled[:50].round(5)}) > 40


def test_rate_zero_is_plain_dense():
    x = np.random.default_rng(2).normal(size=(3, 5)).astype("float32")
    layer = rk.layers.DropConnectDense(2, 0.0)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(x, training=True)),
        keras.ops.convert_to_numpy(layer(x)),
        rtol=1e-6,
    )


def test_dropped_weights_get_zero_gradient():
    rate = 0.5
    x = np.random.default_rng(3).normal(size=(6, 5)).astype("float32")
    layer = rk.layers.DropConnectDense(4, rate, seed=5, use_bias=False)
    layer.build(x.shape)
    grad = helpers.layer_gradient(
        layer, layer.kernel, lambda y, _: keras.ops.sum(y), x, training=True
    )
    mask = reference_mask((5, 4), rate, 5)
    assert (mask == 0).any()
    np.testing.assert_array_equal(grad[mask == 0], 0.0)
    expected = x.T @ np.ones((6, 4)) * mask
    np.testing.assert_allclose(grad, expected, rtol=1e-5)


def test_conv2d_matches_masked_convolution():
    rate = 0.3
    x = np.random.default_rng(4).normal(size=(2, 6, 9, 3)).astype("float32")
    layer = rk.layers.DropConnectConv2D(5, (3, 2), rate, seed=3, padding="same")
    layer.build(x.shape)
    layer.bias.assign(np.ones(5, "float32"))
    kernel = np.asarray(layer.kernel)
    mask = reference_mask(kernel.shape, rate, 3).astype("float32")
    y = keras.ops.convert_to_numpy(layer(x, training=True))
    expected = keras.ops.conv(x, kernel * mask, padding="same") + 1.0
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    plain = keras.ops.conv(x, kernel, padding="same") + 1.0
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(x)), plain, rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("rate", [0.0, 0.4])
def test_conv2d_channels_first_is_channels_last_transposed(rate):
    # Runs on any CPU: on TensorFlow the layer convolves channels-last
    # between transposes (TensorFlow's CPU Conv2D has no NCHW kernel
    # without oneDNN; tests/layers/test_without_onednn.py runs this
    # test with oneDNN off).
    x = np.random.default_rng(7).normal(size=(2, 6, 9, 3)).astype("float32")

    def layer(data_format):
        return rk.layers.DropConnectConv2D(
            4,
            (3, 2),
            rate,
            seed=3,
            strides=(2, 1),
            padding="same",
            activation="relu",
            data_format=data_format,
            bias_initializer="ones",
            kernel_initializer=keras.initializers.GlorotUniform(seed=1),
        )

    last, first = layer("channels_last"), layer("channels_first")
    x_first = np.transpose(x, (0, 3, 1, 2))
    for training in (False, True):
        y_last = keras.ops.convert_to_numpy(last(x, training=training))
        y_first = keras.ops.convert_to_numpy(first(x_first, training=training))
        np.testing.assert_allclose(
            np.transpose(y_first, (0, 2, 3, 1)), y_last, rtol=1e-5, atol=1e-5
        )
    assert y_last.shape == (2, 3, 9, 4)
    assert first.compute_output_shape((None, 3, 6, 9)) == (None, 4, 3, 9)


def test_seeds_reproducible_distinct_and_fresh_each_step():
    x = np.ones((2, 8), "float32")

    helpers.assert_seeded_masks(
        lambda seed: rk.layers.DropConnectDense(
            8, 0.5, seed=seed, kernel_initializer="ones"
        ),
        x,
    )


@pytest.mark.parametrize(
    "call,error,match",
    [
        (
            lambda: rk.layers.DropConnectDense(2, 1.0),
            ValueError,
            r"`rate`.*\[0, 1\).*rate=1.0",
        ),
        (
            lambda: rk.layers.DropConnectDense(2, "x"),
            TypeError,
            r"rate='x'",
        ),
        (
            lambda: rk.layers.DropConnectDense(2, 0.1, per_example=None),
            TypeError,
            r"^DropConnectDense: .*`per_example`.*per_example=None",
        ),
        (
            lambda: rk.layers.DropConnectDense(2, 0.1, per_example=np.True_),
            TypeError,
            r"`per_example`.*True or False",
        ),
        (
            lambda: rk.layers.DropConnectConv2D(2, 3, rate=-0.5),
            ValueError,
            r"rate=-0.5",
        ),
        (
            lambda: rk.layers.DropConnectConv2D(2, 3, 0.1, seed="s"),
            TypeError,
            r"`seed`.*seed='s'",
        ),
        # Checked before Keras's constructor, which accepted these.
        (
            lambda: rk.layers.DropConnectDense(True, 0.1),
            TypeError,
            r"^DropConnectDense: .*`units`.*integer >= 1.*units=True$",
        ),
        (
            lambda: rk.layers.DropConnectConv2D(None, 3, 0.1),
            TypeError,
            r"^DropConnectConv2D: .*`filters`.*filters=None$",
        ),
        (
            lambda: rk.layers.DropConnectConv2D(np.True_, 3, 0.1),
            TypeError,
            r"`filters`.*integer >= 1.*filters=np.True_",
        ),
        (
            lambda: rk.layers.DropConnectConv2D(2.0, 3, 0.1),
            TypeError,
            r"`filters`.*filters=2.0$",
        ),
        (
            lambda: rk.layers.DropConnectConv2D("bogus", 3, 0.1),
            TypeError,
            r"`filters`.*filters='bogus'$",
        ),
        (
            lambda: rk.layers.DropConnectConv2D(0, 3, 0.1),
            ValueError,
            r"`filters`.*filters=0$",
        ),
        (
            lambda: rk.layers.DropConnectConv2D(2, True, 0.1),
            TypeError,
            r"^DropConnectConv2D: .*`kernel_size`.*pair.*kernel_size=True$",
        ),
        (
            lambda: rk.layers.DropConnectConv2D(2, (0.5, 0.1), 0.1),
            TypeError,
            r"`kernel_size`.*kernel_size=\(0.5, 0.1\)$",
        ),
        (
            lambda: rk.layers.DropConnectConv2D(2, (3, 0), 0.1),
            ValueError,
            r"`kernel_size`.*kernel_size=\(3, 0\)$",
        ),
        (
            lambda: rk.layers.DropConnectConv2D(2, (3,), 0.1),
            ValueError,
            r"`kernel_size`.*kernel_size=\(3,\)$",
        ),
        (
            lambda: rk.layers.DropConnectDense(2, 0.1)(
                np.ones((2, 3), "int32"), training=True
            ),
            TypeError,
            r"`inputs`.*float tensor",
        ),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_conv2d_kernel_size_given_as_numpy_integers_is_plain():
    layer = rk.layers.DropConnectConv2D(2, [3, np.int64(2)], 0.1)
    assert layer.kernel_size == (3, 2)
    assert type(layer.get_config()["kernel_size"][1]) is int


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("training", [True, False])
def test_conv2d_empty_batch_gives_an_empty_output(data_format, training):
    # TensorFlow's Conv2D kernel returned the empty input's shape, and
    # adding the bias raised InvalidArgumentError.
    layer = rk.layers.DropConnectConv2D(
        2, 3, 0.3, data_format=data_format, seed=1
    )
    shape = (0, 9, 7, 3) if data_format == "channels_last" else (0, 3, 9, 7)
    y = layer(np.zeros(shape, "float32"), training=training)
    expected = (0, 7, 5, 2) if data_format == "channels_last" else (0, 2, 7, 5)
    assert tuple(y.shape) == expected
    # A non-empty batch afterwards is convolved as usual.
    x = np.ones((1, *shape[1:]), "float32")
    assert tuple(layer(x, training=training).shape) == (1, *expected[1:])


def test_wrong_input_rank():
    with pytest.raises(ValueError):
        rk.layers.DropConnectConv2D(2, 3, 0.1)(np.ones((2, 5, 3), "float32"))


def test_fit_jit_compile():
    helpers.allow_torch_compile_warnings()
    rng = np.random.default_rng(6)
    x = rng.normal(size=(12, 5)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((5,)),
            rk.layers.DropConnectDense(4, 0.3, per_example=True, seed=2),
            rk.layers.DropConnectDense(1, 0.2, seed=3),
        ]
    )
    model.compile("adam", "mse", jit_compile=True)
    history = model.fit(x, x[:, :1], epochs=2, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


@pytest.mark.compat("DropConnect", "TensorFlow")
@pytest.mark.compat("DropConnect", "JAX")
@pytest.mark.compat("DropConnect", "PyTorch")
def test_fit_save_load_same_predictions(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(16, 6, 8, 2)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((6, 8, 2)),
            rk.layers.DropConnectConv2D(3, 3, 0.2, seed=1),
            keras.layers.Flatten(),
            rk.layers.DropConnectDense(4, 0.3, per_example=True, seed=2),
            rk.layers.DropConnectDense(1, 0.2, seed=3),
        ]
    )
    loaded = helpers.fit_save_load_predictions(
        model, x, y, tmp_path / "model.keras", batch_size=5, rtol=1e-5
    )
    assert loaded.layers[2].per_example and not loaded.layers[3].per_example
    assert model.layers[0].compute_output_shape((None, 6, 8, 2)) == (
        None,
        4,
        6,
        3,
    )


@pytest.mark.compat("DropConnect", "mixed precision")
def test_mixed_float16_policy():
    keras.config.set_dtype_policy("mixed_float16")
    try:
        for layer, shape in [
            (rk.layers.DropConnectDense(3, 0.3, per_example=True), (4, 5)),
            (rk.layers.DropConnectConv2D(2, 3, 0.3), (2, 5, 6, 3)),
        ]:
            y = layer(np.ones(shape, "float32"), training=True)
            assert keras.backend.standardize_dtype(y.dtype) == "float16"
            assert np.isfinite(keras.ops.convert_to_numpy(y)).all()
    finally:
        keras.config.set_dtype_policy("float32")


def test_scheduled_rate_changes_without_retracing():
    layer = rk.layers.DropConnectDense(
        1,
        rk.schedules.Linear(0.0, 0.5, duration=2),
        kernel_initializer="ones",
        use_bias=False,
    )
    counter = helpers.TraceCounter()
    model = keras.Sequential([keras.Input((400,)), counter, layer])
    model.compile("sgd", "mse")
    _, seen = helpers.fit_with_schedules(
        model, np.zeros((4, 400)), np.zeros((4, 1)), counter, watch=layer
    )
    # No retrace after the first epoch (how many traces the first epoch
    # takes depends on the backend).
    helpers.assert_not_retraced([t for t, _ in seen])
    assert [r for _, r in seen] == pytest.approx([0.0, 0.25, 0.5])
    # With the kernel's 400 ones and rate 0.5: about half the weights
    # survive, each scaled by 2, so x = ones gives about 400 (never
    # exactly 400 unless nothing was dropped).
    layer.kernel.assign(np.ones((400, 1), "float32"))
    y = layer(np.ones((1, 400), "float32"), training=True)
    y = float(keras.ops.convert_to_numpy(y)[0, 0])
    assert y != 400.0 and abs(y - 400.0) < 80.0

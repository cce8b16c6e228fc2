"""Tests of ConcreteDropout and the functions behind it."""

import helpers
import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit.layers import concrete_dropout as cd

EPS = 1e-7


def numpy_concrete(x, p, u, temperature):
    logit = (
        np.log(p + EPS)
        - np.log(1 - p + EPS)
        + np.log(u + EPS)
        - np.log(1 - u + EPS)
    )
    drop = 1 / (1 + np.exp(-logit / temperature))
    return x * (1 - drop) / (1 - p)


def numpy_penalty(kernel, p, input_dim, wr, dr):
    entropy = p * np.log(p + EPS) + (1 - p) * np.log(1 - p + EPS)
    return wr * np.sum(kernel**2) / (1 - p) + dr * input_dim * entropy


def test_concrete_dropout_matches_numpy_reference():
    x = np.random.default_rng(0).normal(size=(4, 6)).astype("float32")
    out = cd.concrete_dropout(x, 0.3, 0.2, seed=keras.random.SeedGenerator(1))
    u = keras.random.uniform((4, 6), seed=keras.random.SeedGenerator(1))
    expected = numpy_concrete(x, 0.3, keras.ops.convert_to_numpy(u), 0.2)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(out), expected, rtol=1e-4, atol=1e-6
    )


def test_concrete_mask_statistics():
    y = cd.concrete_dropout(np.ones((200, 100), "float32"), 0.3, seed=2)
    y = keras.ops.convert_to_numpy(y)
    # At temperature 0.1 the mask is nearly binary: about 30% near 0.
    assert abs((y < 0.5).mean() - 0.3) < 0.015
    assert abs(y.mean() - 1.0) < 0.02


def test_wrapper_values_losses_and_inference_identity():
    x = np.random.default_rng(1).normal(size=(5, 3)).astype("float32")
    dense = keras.layers.Dense(2)
    layer = rk.layers.ConcreteDropout(
        dense,
        weight_regularizer=0.01,
        dropout_regularizer=0.1,
        init_rate=0.25,
        seed=3,
    )
    y = keras.ops.convert_to_numpy(layer(x))
    kernel, bias = np.asarray(dense.kernel), np.asarray(dense.bias)
    np.testing.assert_allclose(y, x @ kernel + bias, rtol=1e-5)
    np.testing.assert_allclose(layer.rate, 0.25, rtol=1e-6)
    (loss,) = layer.losses
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loss),
        numpy_penalty(kernel, 0.25, 3, 0.01, 0.1),
        rtol=1e-5,
    )
    y_train = keras.ops.convert_to_numpy(layer(x, training=True))
    u = keras.random.uniform((5, 3), seed=keras.random.SeedGenerator(3))
    dropped = numpy_concrete(x, 0.25, keras.ops.convert_to_numpy(u), 0.1)
    np.testing.assert_allclose(
        y_train, dropped @ kernel + bias, rtol=1e-4, atol=1e-5
    )


KERAS_NCHW_REASON = (
    "Keras's own channels_first Conv2D does not run on this CPU: "
    "TensorFlow's CPU Conv2D kernel supports NCHW only with oneDNN on "
    "(checked by test_without_onednn.py); the DropConnectConv2D case "
    "checks our part here"
)


def _identity_conv(kind, data_format, channels):
    identity = np.eye(channels, dtype="float32").reshape(1, 1, 3, 3)
    kwargs = dict(
        use_bias=False,
        kernel_initializer=keras.initializers.Constant(identity),
        data_format=data_format,
    )
    if kind == "keras":
        return keras.layers.Conv2D(channels, 1, **kwargs)
    # A Conv2D subclass that runs channels_first on any CPU (see
    # DropConnectConv2D); rate 0 makes it a plain Conv2D.
    return rk.layers.DropConnectConv2D(channels, 1, 0.0, **kwargs)


@pytest.mark.parametrize(
    "data_format,kind",
    [
        ("channels_last", "keras"),
        ("channels_first", "drop_connect"),
        pytest.param(
            "channels_first",
            "keras",
            marks=pytest.mark.skipif(
                not helpers.keras_conv2d_runs_channels_first_on_cpu(),
                reason=KERAS_NCHW_REASON,
            ),
        ),
    ],
)
def test_conv_drops_whole_input_channels(data_format, kind):
    channels = 3
    conv = _identity_conv(kind, data_format, channels)
    layer = rk.layers.ConcreteDropout(conv, init_rate=0.4, seed=1)
    shape = (16, 4, 7, channels)
    if data_format == "channels_first":
        shape = (16, channels, 4, 7)
    y = keras.ops.convert_to_numpy(
        layer(np.ones(shape, "float32"), training=True)
    )
    if data_format == "channels_first":
        y = np.transpose(y, (0, 2, 3, 1))
    # The identity conv passes the dropped input through: one factor per
    # example and channel, the same over height and width.
    np.testing.assert_allclose(y, np.broadcast_to(y[:, :1, :1, :], y.shape))
    assert len(np.unique(y.round(4))) > channels
    # The factors are (1 - z) / (1 - p) with z the relaxed mask: mean 1.
    assert abs(y[:, 0, 0, :].mean() - 1.0) < 0.35  # 3 x its std. error


def test_dropout_probability_gets_a_gradient():
    layer = rk.layers.ConcreteDropout(keras.layers.Dense(1), init_rate=0.3)
    x = np.ones((32, 4), "float32")
    layer.build(x.shape)

    def loss(y, losses):
        return keras.ops.sum(keras.ops.square(y)) + sum(losses)

    grad = helpers.layer_gradient(layer, layer.p_logit, loss, x, training=True)
    assert float(grad) != 0.0


def _toy_rate(x, y, init_rate, weight_regularizer, dropout_regularizer):
    keras.utils.set_random_seed(0)
    layer = rk.layers.ConcreteDropout(
        keras.layers.Dense(1),
        weight_regularizer=weight_regularizer,
        dropout_regularizer=dropout_regularizer,
        init_rate=init_rate,
        seed=0,
    )
    model = keras.Sequential([keras.Input((x.shape[1],)), layer])
    model.compile(keras.optimizers.Adam(0.05), "mse")
    rates = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: rates.append(layer.rate)
    )
    model.fit(x, y, epochs=60, batch_size=len(x), verbose=0, callbacks=[record])
    return layer.rate, rates


@pytest.mark.skipif(
    keras.backend.backend() == "jax",
    reason="Keras's JAX trainer cannot update a metric in a forward pass",
)
def test_rate_is_logged_during_fit():
    layer = rk.layers.ConcreteDropout(keras.layers.Dense(1), init_rate=0.3)
    model = keras.Sequential([keras.Input((4,)), layer])
    model.compile("sgd", "mse")
    history = model.fit(
        np.ones((8, 4), "float32"), np.ones((8, 1), "float32"), verbose=0
    )
    np.testing.assert_allclose(
        history.history[f"{layer.name}_rate"], [0.3], rtol=1e-3
    )


def test_learned_rate_falls_when_data_is_plentiful_and_noiseless():
    # A deterministic linear target and negligible priors (N huge): any
    # dropout only adds error, so the learned rate must fall.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = x @ rng.normal(size=(8, 1)).astype("float32")
    rate, logged = _toy_rate(x, y, 0.3, 1e-7, 1e-7)
    assert rate < 0.15, rate
    assert logged[-1] < logged[0] and len(logged) == 60


def test_learned_rate_rises_when_the_entropy_prior_dominates():
    # A target the inputs cannot explain and a strong dropout prior
    # (N tiny): the entropy term pulls the rate up towards 0.5.
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 8)).astype("float32")
    y = np.zeros((64, 1), "float32")
    rate, logged = _toy_rate(x, y, 0.05, 1e-4, 0.5)
    assert rate > 0.2, rate
    assert logged[-1] > logged[0]


@pytest.mark.parametrize(
    "call,error,match",
    [
        (
            lambda: rk.layers.ConcreteDropout(keras.layers.Dropout(0.1)),
            TypeError,
            r"`layer`.*Dense, Conv1D, Conv2D or Conv3D",
        ),
        (
            lambda: rk.layers.ConcreteDropout(
                keras.layers.Dense(1), init_rate=0.0
            ),
            ValueError,
            r"`init_rate`.*\(0, 1\).*init_rate=0.0",
        ),
        (
            lambda: rk.layers.ConcreteDropout(
                keras.layers.Dense(1), temperature=0
            ),
            ValueError,
            r"`temperature`.*> 0.*temperature=0",
        ),
        (
            lambda: rk.layers.ConcreteDropout(
                keras.layers.Dense(1), weight_regularizer=-1
            ),
            ValueError,
            r"`weight_regularizer`.*weight_regularizer=-1",
        ),
        (
            lambda: rk.layers.ConcreteDropout(
                keras.layers.Dense(1), dropout_regularizer="a"
            ),
            TypeError,
            r"`dropout_regularizer`",
        ),
        (
            lambda: rk.layers.ConcreteDropout(keras.layers.Conv2D(1, 1))(
                np.ones((2, 3, 4), "float32")
            ),
            ValueError,
            r"`input_shape`.*rank-4.*\(2, 3, 4\)",
        ),
        (
            lambda: rk.layers.ConcreteDropout(keras.layers.Dense(1))(
                np.ones((2, 3), "int32")
            ),
            TypeError,
            r"`inputs`.*float tensor",
        ),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.compat("ConcreteDropout", "TensorFlow")
@pytest.mark.compat("ConcreteDropout", "JAX")
@pytest.mark.compat("ConcreteDropout", "PyTorch")
def test_fit_save_load_same_predictions_and_rate(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(16, 6, 5, 2)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((6, 5, 2)),
            rk.layers.ConcreteDropout(keras.layers.Conv2D(3, 3), seed=1),
            keras.layers.Flatten(),
            rk.layers.ConcreteDropout(
                keras.layers.Dense(1), init_rate=0.2, seed=2
            ),
        ]
    )
    loaded = helpers.fit_save_load_predictions(
        model,
        x,
        y,
        tmp_path / "model.keras",
        optimizer=keras.optimizers.Adam(0.05),
        rtol=1e-5,
    )
    assert model.layers[-1].rate != pytest.approx(0.2, abs=1e-4)
    assert loaded.layers[-1].rate == pytest.approx(model.layers[-1].rate)
    assert type(loaded.layers[0].layer) is keras.layers.Conv2D
    assert model.layers[0].compute_output_shape((None, 6, 5, 2)) == (
        None,
        4,
        3,
        3,
    )


@pytest.mark.compat("ConcreteDropout", "XLA")
@pytest.mark.compat("ConcreteDropout", "mixed precision")
def test_functional_jit_compile_and_mixed_precision():
    helpers.allow_torch_compile_warnings()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        inputs = keras.Input((4,))
        h = rk.layers.ConcreteDropout(keras.layers.Dense(3))(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1)(h))
        model.compile("adam", "mse", jit_compile=True)
        history = model.fit(
            np.ones((8, 4)), np.ones((8, 1)), batch_size=4, verbose=0
        )
        assert np.isfinite(history.history["loss"]).all()
        assert 0.0 < model.layers[1].rate < 1.0
        y = model.layers[1](np.ones((2, 4), "float32"), training=True)
        assert keras.backend.standardize_dtype(y.dtype) == "float16"
    finally:
        keras.config.set_dtype_policy("float32")

"""Tests of MCDropout, dropout and mc_predict."""

import helpers
import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit.layers import mc_dropout as mc


def test_dropout_matches_numpy_reference():
    x = np.random.default_rng(0).normal(size=(4, 3, 5)).astype("float32")
    rate = 0.3
    out = mc.dropout(x, rate, (None, 1, None), keras.random.SeedGenerator(2))
    noise = keras.random.uniform((4, 1, 5), seed=keras.random.SeedGenerator(2))
    keep = keras.ops.convert_to_numpy(noise) < 1 - rate
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(out), x * keep / (1 - rate), rtol=1e-6
    )


@pytest.mark.parametrize("training", [None, False, True])
def test_always_drops_with_right_statistics(training):
    rate = 0.25
    layer = rk.layers.MCDropout(rate, seed=1)
    x = np.random.default_rng(1).uniform(1, 2, (200, 100)).astype("float32")
    y = np.asarray(layer(x, training=training))
    # 20,000 Bernoulli(0.25): std of the fraction 0.003.
    assert abs((y == 0).mean() - rate) < 0.015
    np.testing.assert_allclose(y[y != 0] / x[y != 0], 1 / 0.75, rtol=1e-6)
    assert abs(y.mean() / x.mean() - 1) < 0.02


def test_zero_rate_is_identity_and_noise_shape_broadcasts():
    x = np.random.default_rng(2).normal(size=(3, 4)).astype("float32")
    np.testing.assert_array_equal(np.asarray(rk.layers.MCDropout(0.0)(x)), x)
    layer = rk.layers.MCDropout(0.5, noise_shape=(None, 1), seed=3)
    y = np.asarray(layer(np.ones((64, 6), "float32")))
    assert all(len(set(row)) == 1 for row in y)
    assert 0 < (y[:, 0] == 0).mean() < 1


def test_seeds_reproducible_distinct_and_fresh_each_call():
    x = np.ones((4, 16), "float32")

    # `training` unset: MC dropout is on anyway.
    helpers.assert_seeded_masks(
        lambda seed: rk.layers.MCDropout(0.5, seed=seed), x, training=None
    )


def test_dropped_units_get_zero_gradient():
    x = np.ones((8, 10), "float32")
    layer = rk.layers.MCDropout(0.5, seed=4)

    def loss(x):
        y = layer(x)
        return keras.ops.sum(y), y

    grad, y = helpers.gradient(loss, x)
    dropped = np.asarray(y) == 0
    assert dropped.any()
    np.testing.assert_array_equal(grad[dropped], 0.0)
    np.testing.assert_allclose(grad[~dropped], 2.0)


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda: rk.layers.MCDropout(1.0), ValueError, r"`rate`.*rate=1.0"),
        (lambda: rk.layers.MCDropout([0.1]), TypeError, r"rate=\[0.1\]"),
        (
            lambda: rk.layers.MCDropout(0.1, noise_shape="x"),
            TypeError,
            r"`noise_shape`.*noise_shape='x'",
        ),
        (
            lambda: rk.layers.MCDropout(0.1, noise_shape=(None, 0)),
            ValueError,
            r"`noise_shape`.*noise_shape=0",
        ),
        (
            lambda: rk.layers.MCDropout(0.1, noise_shape=(None, 1))(
                np.ones((2, 3, 4), "float32")
            ),
            ValueError,
            r"3 entries.*noise_shape=\(None, 1\)",
        ),
        (
            lambda: rk.layers.MCDropout(0.1)(np.ones((2, 3), "int64")),
            TypeError,
            r"`inputs`.*float tensor",
        ),
        (
            lambda: rk.layers.mc_predict("model", np.ones((1, 2))),
            TypeError,
            r"`model`.*keras.Model",
        ),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def _mc_model(seed=0):
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(8, activation="relu"),
            rk.layers.MCDropout(0.3, seed=seed),
            keras.layers.Dense(2),
        ]
    )


def test_mc_predict_equals_one_pass_over_repeated_chunks():
    # Per-example masks: the stacked path, with the numbers it always gave.
    x = np.random.default_rng(3).normal(size=(5, 5)).astype("float32")
    samples = 4
    mean, std, info = rk.layers.mc_predict(
        _mc_model(), x, samples, batch_size=2, return_info=True
    )
    assert info.sampling == "stacked" and info.layers == ()
    reference = _mc_model()
    outs = []
    for start in range(0, 5, 2):
        chunk = np.repeat(x[start : start + 2], samples, axis=0)
        y = keras.ops.convert_to_numpy(reference(chunk))
        outs.append(y.reshape(-1, samples, 2))
    outs = np.concatenate(outs)
    np.testing.assert_allclose(mean, outs.mean(axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(std, outs.std(axis=1), rtol=1e-5, atol=1e-6)
    assert mean.shape == std.shape == (5, 2) and mean.dtype == np.float32


def test_mc_predict_statistics_of_a_linear_model():
    rate = 0.2
    w = np.array([[1.0], [-2.0], [0.5]], "float32")
    dense = keras.layers.Dense(1, use_bias=False)
    model = keras.Sequential(
        [keras.Input((3,)), rk.layers.MCDropout(rate, seed=1), dense]
    )
    dense.kernel.assign(w)
    x = np.array([[1.0, 1.0, 2.0], [0.5, -1.0, 0.0]], "float32")
    mean, std = rk.layers.mc_predict(model, x, samples=3000, max_rows=2000)
    # y = sum_i w_i x_i m_i / (1 - rate), m_i ~ Bernoulli(1 - rate).
    expected_mean = x @ w
    expected_std = np.sqrt((w[:, 0] ** 2 * x**2).sum(1) * rate / (1 - rate))
    np.testing.assert_allclose(mean[:, 0], expected_mean[:, 0], atol=0.1)
    np.testing.assert_allclose(std[:, 0], expected_std, rtol=0.06)


def test_mc_predict_keeps_keras_dropout_off_and_handles_dicts():
    inputs = {
        "a": keras.Input((3,), name="a"),
        "b": keras.Input((2,), name="b"),
    }
    h = keras.layers.Concatenate()([inputs["a"], inputs["b"]])
    outputs = {
        "plain": keras.layers.Dense(1)(keras.layers.Dropout(0.5)(h)),
        "mc": keras.layers.Dense(1)(rk.layers.MCDropout(0.5, seed=1)(h)),
    }
    model = keras.Model(inputs, outputs)
    x = {"a": np.ones((7, 3), "float32"), "b": np.ones((7, 2), "float32")}
    mean, std = rk.layers.mc_predict(model, x, samples=8, batch_size=3)
    assert mean["plain"].shape == std["mc"].shape == (7, 1)
    np.testing.assert_allclose(std["plain"], 0.0, atol=1e-6)
    assert (std["mc"] > 0).all()


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"samples": 0}, ValueError, r"`samples`.*samples=0"),
        ({"batch_size": 0}, ValueError, r"`batch_size`.*batch_size=0"),
        ({"max_rows": 1.5}, TypeError, r"`max_rows`.*max_rows=1.5"),
        ({"sampling": "loop"}, ValueError, r"mc_predict: .*`sampling`"),
        ({"return_info": 1}, TypeError, r"`return_info`.*return_info=1"),
    ],
)
def test_mc_predict_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        rk.layers.mc_predict(_mc_model(), np.ones((2, 5)), **kwargs)


@pytest.mark.parametrize(
    "x,error,match",
    [
        (-1, TypeError, r"^mc_predict: .*`x`.*structure of arrays.*x=-1$"),
        ("bogus", TypeError, r"`x`.*x='bogus'$"),
        (None, TypeError, r"`x`.*x=None$"),
        ((), TypeError, r"`x`.*x=\(\)$"),
        ([[1]], TypeError, r"`x`.*x=\[\[1\]\]$"),
        (
            [np.ones((2, 5)), np.ones((3, 5))],
            ValueError,
            r"`x`.*same number of examples.*"
            r"x=\[<float64 array of shape \(2, 5\)>",
        ),
        (
            np.ones((0, 5)),
            ValueError,
            r"`x`.*at least one example.*x=<float64 array of shape \(0, 5\)>",
        ),
    ],
)
def test_mc_predict_bad_inputs(x, error, match):
    # These raised IndexError (scalars, empty structures) or numpy's
    # "need at least one array to concatenate" (no examples).
    with pytest.raises(error, match=match):
        rk.layers.mc_predict(_mc_model(), x, samples=2)


@pytest.mark.parametrize("sampling", ["stacked", "separate"])
def test_mc_predict_inputs_the_model_refuses_name_x(sampling):
    # Keras's own error named a layer and the stacked rows' shape (4, 2).
    with pytest.raises(
        ValueError,
        match=r"^mc_predict: .*`x`.*the model accepts.*"
        r"x=<float64 array of shape \(2, 2\)>$",
    ) as raised:
        rk.layers.mc_predict(
            _mc_model(), np.zeros((2, 2)), samples=2, sampling=sampling
        )
    assert isinstance(raised.value.__cause__, ValueError)


@pytest.mark.compat("MCDropout", "TensorFlow")
@pytest.mark.compat("MCDropout", "JAX")
@pytest.mark.compat("MCDropout", "PyTorch")
def test_fit_save_load_same_predictions(tmp_path):
    model = _mc_model(seed=5)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(16, 5)).astype("float32")
    model.compile("adam", "mse")
    model.fit(x, x[:, :2], epochs=2, batch_size=4, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.layers[1]) is rk.layers.MCDropout
    # The generator's state is saved too: both draw the same next masks.
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5
    )


@pytest.mark.compat("MCDropout", "XLA")
@pytest.mark.compat("MCDropout", "mixed precision")
def test_jit_compile_mixed_precision_and_output_shape():
    helpers.allow_torch_compile_warnings()
    assert rk.layers.MCDropout(0.1).compute_output_shape((None, 4)) == (
        None,
        4,
    )
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = _mc_model()
        model.compile("adam", "mse", jit_compile=True)
        history = model.fit(
            np.ones((8, 5)), np.ones((8, 2)), batch_size=4, verbose=0
        )
        assert np.isfinite(history.history["loss"]).all()
        y = model.layers[1](np.ones((4, 8), "float16"))
        assert keras.backend.standardize_dtype(y.dtype) == "float16"
    finally:
        keras.config.set_dtype_policy("float32")


def test_scheduled_rate_changes_without_retracing():
    layer = rk.layers.MCDropout(rk.schedules.Linear(0.5, 0.0, duration=2))
    counter = helpers.TraceCounter()
    model = keras.Sequential(
        [keras.Input((3,)), counter, layer, keras.layers.Dense(1)]
    )
    model.compile("sgd", "mse")
    _, seen = helpers.fit_with_schedules(
        model, np.ones((8, 3)), np.ones((8, 1)), counter, watch=layer
    )
    # No retrace after the first epoch (how many traces the first epoch
    # takes depends on the backend).
    helpers.assert_not_retraced([t for t, _ in seen])
    assert [r for _, r in seen] == pytest.approx([0.5, 0.25, 0.0])
    x = np.ones((50, 3), "float32")
    np.testing.assert_allclose(np.asarray(layer(x)), x)


# ------------------------------------------- mc_predict: which path, why
#
# Exact spread of the regression model below: the Dense kernel is ones and
# the input ones (4, 6), so a sample is 2 * (number of the 6 units kept),
# 2 * Binomial(6, 0.5): std = 2 * sqrt(6 * 0.25) = 2.449 for every example.
# The standard error of a 200-sample std of it is about 0.11 (kurtosis
# 8/3: se = std * sqrt((8/3 - 1) / (4 * 200))); the tolerance is 0.35.
SHARED_STD = 2 * np.sqrt(6 * 0.25)


def _assert_shared_mask_spread(mean, std, info, layer_name):
    assert info.sampling == "separate" and layer_name in info.layers
    assert "one draw per batch" in info.reason
    np.testing.assert_allclose(std, SHARED_STD, atol=0.35)
    np.testing.assert_allclose(mean, 6.0, atol=0.5)
    # One mask per pass, shared by the batch: every example alike.
    np.testing.assert_array_equal(std, np.broadcast_to(std[:1], std.shape))


def test_mc_predict_spread_with_one_mask_per_batch():
    # Issue 12 §1: stacking gave std == 0 here.
    model = keras.Sequential(
        [
            keras.Input((6,)),
            rk.layers.MCDropout(0.5, noise_shape=(1, None), seed=3),
            keras.layers.Dense(1, kernel_initializer="ones"),
        ]
    )
    x = np.ones((4, 6), "float32")
    mean, std, info = rk.layers.mc_predict(
        model, x, samples=200, return_info=True
    )
    _assert_shared_mask_spread(mean, std, info, model.layers[0].name)
    # Forcing the stacked path shows why it is not taken: no spread.
    _, stacked_std = rk.layers.mc_predict(
        model, x, samples=200, sampling="stacked"
    )
    np.testing.assert_array_equal(stacked_std, 0.0)


class _AlwaysDropConnect(rk.layers.DropConnectDense):
    """Drops weights at inference too (MC DropConnect)."""

    def call(self, inputs, training=None):
        return super().call(inputs, training=True)


def test_mc_predict_spread_with_drop_connect_per_batch_mask():
    layer = _AlwaysDropConnect(
        1, 0.5, kernel_initializer="ones", use_bias=False, seed=3
    )
    model = keras.Sequential([keras.Input((6,)), layer])
    mean, std, info = rk.layers.mc_predict(
        model, np.ones((4, 6), "float32"), samples=200, return_info=True
    )
    _assert_shared_mask_spread(mean, std, info, layer.name)


def test_mc_predict_separate_passes_equal_a_loop_traced_once():
    class Counter(helpers.TraceCounter):
        draws_per_example = True

    def model(counter):
        keras.utils.set_random_seed(0)
        return keras.Sequential(
            [
                keras.Input((5,)),
                counter,
                rk.layers.MCDropout(0.4, noise_shape=(1, None), seed=2),
                keras.layers.Dense(3),
            ]
        )

    x = np.random.default_rng(5).normal(size=(6, 5)).astype("float32")
    counter = Counter()
    mean, std = rk.layers.mc_predict(model(counter), x, 5, batch_size=3)
    # 2 chunks x 5 passes of one compiled function: traced once (the
    # first call may trace twice). Torch runs predict eagerly: >= 10 calls.
    if helpers.compiles_train_step():
        assert 1 <= counter.traces <= 2, counter.traces
    else:
        assert counter.traces >= 10
    reference = model(Counter())
    chunks = []
    for start in (0, 3):
        passes = [
            reference.predict_on_batch(x[start : start + 3]) for _ in range(5)
        ]
        chunks.append(np.stack(passes, axis=1))
    outs = np.concatenate(chunks).astype(np.float64)
    np.testing.assert_allclose(mean, outs.mean(1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(std, outs.std(1), rtol=1e-4, atol=1e-6)


class _Scale(keras.layers.Layer):
    def call(self, x):
        return 2.0 * x


class _DeclaredScale(_Scale):
    draws_per_example = True


@pytest.mark.parametrize(
    "layer,expected",
    [
        (keras.layers.Dense(2), True),
        (keras.layers.Dropout(0.5), True),
        (keras.layers.Dropout(0.5, noise_shape=(1, None)), False),
        (keras.layers.Lambda(lambda x: x), None),
        (_Scale(), None),
        (_DeclaredScale(), True),
        (rk.layers.MCDropout(0.5), True),
        (rk.layers.MCDropout(0.5, noise_shape=(None, 1)), True),
        (rk.layers.MCDropout(0.5, noise_shape=(1, None)), False),
        (rk.layers.DropConnectDense(2, 0.5), False),
        (rk.layers.DropConnectDense(2, 0.5, per_example=True), True),
        (rk.layers.DropConnectConv2D(2, 3, 0.5), False),
        (rk.layers.DropPath(0.5), True),
        (rk.layers.DropBlock2D(0.1, 3), True),
        (rk.layers.ConcreteDropout(keras.layers.Dense(2)), True),
    ],
)
def test_draws_per_example(layer, expected):
    assert mc.draws_per_example(layer) is expected


def test_unknown_layers_take_separate_passes_unless_declared():
    def model(layer):
        return keras.Sequential(
            [keras.Input((3,)), layer, rk.layers.MCDropout(0.5, seed=1)]
        )

    unknown = model(_Scale(name="scale"))
    info = mc.choose_sampling(unknown)
    assert info.sampling == "separate" and info.layers == ("scale",)
    assert "unknown randomness in scale" in info.reason
    assert mc.choose_sampling(model(_DeclaredScale())).sampling == "stacked"
    # Both paths agree in distribution on a per-example model: 400
    # samples of 2 * Bernoulli(0.5) * 2 x (mean 2, std 2 per unit).
    x = np.ones((2, 3), "float32")
    for sampling in ("stacked", "separate"):
        mean, std = rk.layers.mc_predict(
            unknown, x, 400, sampling=sampling, batch_size=2
        )
        np.testing.assert_allclose(mean, 2.0, atol=0.4)
        np.testing.assert_allclose(std, 2.0, atol=0.3)

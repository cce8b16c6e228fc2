"""SAM / ASAM: each step against its closed form, on any Keras backend.

The closed forms are computed in numpy (float64) for a linear model with
the mean squared error, ``L(w) = mean((x W + b - y)²)`` plus the penalties
named in each case, and plain SGD: ``w ← w − lr · ∇L(w + e)`` with
``e = rho · g / ‖g‖`` (SAM) or ``e = rho · T² g / ‖T g‖``,
``T = |w| + eta`` (ASAM), ``g = ∇L(w)``.
"""

import keras
import numpy as np
import pytest

import keras_regkit as rk

SAM = rk.training.SAM

W0 = np.array([[0.5, -0.3], [0.2, 0.8], [-0.7, 0.1]])
B0 = np.array([0.1, -0.2])


class OutputPenalty(keras.layers.Layer):
    """Adds ``rate · mean(inputs²)`` with `add_loss`; returns the inputs."""

    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * keras.ops.mean(keras.ops.square(inputs)))
        return inputs


def linear_model(l2=0.0, activity=0.0):
    regularizer = keras.regularizers.L2(l2) if l2 else None
    layers = [
        keras.Input((3,)),
        keras.layers.Dense(2, kernel_regularizer=regularizer),
    ]
    if activity:
        layers.append(OutputPenalty(activity))
    model = keras.Sequential(layers)
    model.set_weights([W0.astype("float32"), B0.astype("float32")])
    return model


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = rng.normal(size=(n, 2)).astype("float32")
    return x, y


# --- The numpy reference ---------------------------------------------------


def loss_and_gradients(weights, x, y, l2=0.0, activity=0.0):
    w, b = weights
    out = x @ w + b
    residual = out - y
    size = residual.size
    loss = np.mean(residual**2) + l2 * np.sum(w**2)
    loss += activity * np.mean(out**2)
    d_out = 2 * residual / size + activity * 2 * out / size
    return loss, [x.T @ d_out + 2 * l2 * w, d_out.sum(axis=0)]


def perturbation(gradients, weights, rho, adaptive=False, eta=0.01):
    scales = [np.abs(w) + eta if adaptive else 1.0 for w in weights]
    norm = np.sqrt(
        sum(
            np.sum((t * g) ** 2) for t, g in zip(scales, gradients, strict=True)
        )
    )
    return [
        rho * t * t * g / (norm + 1e-12)
        for t, g in zip(scales, gradients, strict=True)
    ]


def sam_step(weights, x, y, lr, rho, adaptive=False, micro=1, **penalties):
    total = [np.zeros_like(w) for w in weights]
    for i in range(micro):
        xi, yi = x[i::micro], y[i::micro]
        _, g = loss_and_gradients(weights, xi, yi, **penalties)
        e = perturbation(g, weights, rho, adaptive)
        shifted = [w + d for w, d in zip(weights, e, strict=True)]
        _, g = loss_and_gradients(shifted, xi, yi, **penalties)
        total = [
            t + len(xi) / len(x) * d for t, d in zip(total, g, strict=True)
        ]
    return [w - lr * d for w, d in zip(weights, total, strict=True)]


CASES = {
    "sam": {"rho": 0.3},
    "asam": {"rho": 0.8, "adaptive": True},
    "penalties": {"rho": 0.3, "l2": 0.05, "activity": 0.2},
    "micro_batches": {"rho": 0.3, "micro": 2, "l2": 0.05},
}


@pytest.mark.compat("SAM/ASAM", "TensorFlow")
@pytest.mark.compat("SAM/ASAM", "JAX")
@pytest.mark.compat("SAM/ASAM", "PyTorch")
@pytest.mark.parametrize("case", sorted(CASES))
def test_steps_equal_the_closed_form(case):
    options = dict(CASES[case])
    penalties = {k: options.pop(k) for k in ("l2", "activity") if k in options}
    micro = options.pop("micro", 1)
    lr, n, steps = 0.1, 9, 2  # 9 examples: micro-batches of 5 and 4
    x, y = data(n)
    model = SAM(
        linear_model(**penalties),
        micro_batches=micro if micro > 1 else None,
        **options,
    )
    model.compile(keras.optimizers.SGD(lr), "mse")
    history = model.fit(
        x, y, batch_size=n, epochs=steps, shuffle=False, verbose=0
    )

    weights = [W0, B0]
    expected_losses = []
    for _ in range(steps):
        loss, _ = loss_and_gradients(weights, x, y, **penalties)
        expected_losses.append(loss)
        weights = sam_step(
            weights, x, y, lr, micro=micro, **options, **penalties
        )
    for got, want in zip(model.model.get_weights(), weights, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # The reported loss is the clean loss at w, penalties included.
    np.testing.assert_allclose(
        history.history["loss"], expected_losses, rtol=1e-5
    )
    # The perturbation is not negligible: plain SGD lands elsewhere.
    _, g = loss_and_gradients([W0, B0], x, y, **penalties)
    assert np.abs(weights[0] - (W0 - lr * g[0])).max() > 1e-3


def bn_model(seed=3, dropout=0.3):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(6),
            keras.layers.BatchNormalization(momentum=0.9),
            keras.layers.Dropout(dropout, seed=5),
            keras.layers.Dense(1),
        ]
    )


def bn_statistics(model):
    bn = model.layers[1]
    return [keras.ops.convert_to_numpy(v) for v in bn.non_trainable_weights]


def test_rho_zero_equals_the_base_optimizers_step_exactly():
    x, y = data(16)[0][:, :2].repeat(2, axis=1), data(16, seed=1)[1][:, :1]
    plain, inner = bn_model(), bn_model()
    sam = SAM(inner, rho=0.0)
    for model in (plain, sam):
        model.compile(keras.optimizers.Adam(0.05), "mse")
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    # Bit for bit: same dropout masks, same BatchNorm statistics, same
    # gradient (w + 0), the same Adam step.
    for got, want in zip(inner.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("micro", [1, 2])
def test_batchnorm_statistics_move_once_per_forward_pass(micro):
    x = data(8)[0][:, :2].repeat(2, axis=1) * 3.0 + 1.0
    y = data(8, seed=1)[1][:, :1]
    reference, inner = bn_model(), bn_model()
    for i in range(micro):  # plain forward passes in training mode
        reference(x[i::micro], training=True)
    expected = bn_statistics(reference)
    assert np.abs(expected[0]).max() > 0.05  # the statistics did move

    model = SAM(inner, rho=0.5, micro_batches=micro)
    model.compile(keras.optimizers.SGD(0.1), "mse")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    for got, want in zip(bn_statistics(inner), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


@pytest.mark.compat("SAM/ASAM", "mixed precision")
def test_mixed_float16_takes_the_float32_step():
    x, y = data(16)
    results = {}
    for policy in ("float32", "mixed_float16"):
        keras.config.set_dtype_policy(policy)
        try:
            model = SAM(linear_model(l2=0.05), rho=0.3)
            model.compile(keras.optimizers.SGD(0.1), "mse")
        finally:
            keras.config.set_dtype_policy("float32")
        if policy == "mixed_float16":
            assert isinstance(
                model.optimizer, keras.optimizers.LossScaleOptimizer
            )
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))
        results[policy] = model.model.get_weights()
    assert results["float32"][0].dtype == results["mixed_float16"][0].dtype
    for got, want in zip(
        results["mixed_float16"], results["float32"], strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-2, atol=2e-3)
    moved = np.abs(results["float32"][0] - W0).max()
    assert moved > 1e-2


def test_save_load_predicts_the_same_and_continues_training(tmp_path):
    x, y = data(16)
    # No dropout: Keras does not save seed generators' states.
    model = SAM(bn_model(dropout=0.0), rho=0.1, adaptive=True, micro_batches=2)
    xb = np.concatenate([x, x[:, :1]], axis=1)
    model.compile(keras.optimizers.Adam(0.01), "mse")
    model.fit(xb, y[:, :1], batch_size=8, epochs=1, verbose=0)
    path = tmp_path / "sam.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, SAM)
    arguments = ("rho", "adaptive", "eta", "micro_batches", "eps")
    for name in arguments:
        assert loaded.get_config()[name] == model.get_config()[name], name
    np.testing.assert_allclose(
        loaded.predict(xb, verbose=0), model.predict(xb, verbose=0), rtol=1e-6
    )
    # Training continues from the same optimizer state.
    for m in (model, loaded):
        m.fit(xb, y[:, :1], batch_size=16, epochs=1, verbose=0, shuffle=False)
    for got, want in zip(
        loaded.get_weights(), model.get_weights(), strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_config_holds_every_argument():
    model = SAM(
        linear_model(),
        rho=0.2,
        adaptive=True,
        eta=0.1,
        micro_batches=4,
        eps=1e-9,
    )
    config = model.get_config()
    for name in ("model", "rho", "adaptive", "eta", "micro_batches", "eps"):
        assert name in config, name
    rebuilt = SAM.from_config(config)
    assert rebuilt.get_config() == config
    assert isinstance(rebuilt.model, keras.Sequential)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"rho": -0.1}, ValueError, "rho"),
        ({"rho": "big"}, TypeError, "rho"),
        ({"adaptive": 1}, TypeError, "adaptive"),
        ({"eta": -1.0}, ValueError, "eta"),
        ({"micro_batches": 0}, ValueError, "micro_batches"),
        ({"micro_batches": 2.0}, TypeError, "micro_batches"),
        ({"eps": -1e-3}, ValueError, "eps"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, name):
    with pytest.raises(error, match=rf"^SAM: .*argument `{name}`"):
        SAM(linear_model(), **kwargs)


def test_a_model_is_required():
    with pytest.raises(TypeError, match="argument `model`"):
        SAM(keras.layers.Dense(1))


def test_perturbation_matches_numpy():
    rng = np.random.default_rng(4)
    weights = [rng.normal(size=(3, 2)), rng.normal(size=(2,))]
    grads = [rng.normal(size=(3, 2)), rng.normal(size=(2,))]
    cast = [w.astype("float32") for w in weights]
    for adaptive in (False, True):
        got = rk.training.sam_perturbation(
            [g.astype("float32") for g in grads] + [None],
            cast + [np.zeros(1, "float32")],
            rho=0.7,
            adaptive=adaptive,
        )
        assert got[2] is None
        want = perturbation(grads, weights, 0.7, adaptive)
        for e, w in zip(got[:2], want, strict=True):
            np.testing.assert_allclose(
                keras.ops.convert_to_numpy(e), w, rtol=1e-5
            )


def test_perturbation_is_zero_for_a_non_finite_gradient():
    grads = [np.array([np.inf, 1.0], "float32")]
    (step,) = rk.training.sam_perturbation(grads, [np.ones(2, "float32")], 0.5)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(step), [0.0, 0.0])


def two_output_model():
    inputs = keras.Input((3,), name="features")
    hidden = keras.layers.Dense(4, activation="tanh")(inputs)
    outputs = {
        "a": keras.layers.Dense(1, name="a")(hidden),
        "b": keras.layers.Dense(2, name="b")(hidden),
    }
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(2)
    model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
    return model


def test_micro_batches_of_a_two_output_model_with_sample_weights():
    # With rho=0 the micro-batches' perturbed gradients, averaged by size,
    # are the batch's gradient; the logs (loss, per-output metrics) are the
    # batch's too, although the micro-batches are strided.
    x, y = data(10)
    targets = {"a": y[:, :1], "b": np.concatenate([y, y[:, :1]], axis=1)[:, 1:]}
    weights = np.linspace(0.5, 2.0, 10).astype("float32")
    logs = {}
    models = {"plain": two_output_model(), "sam": None}
    models["sam"] = SAM(two_output_model(), rho=0.0, micro_batches=3)
    for name, model in models.items():
        model.compile(
            keras.optimizers.SGD(0.1),
            loss={"a": "mse", "b": "mae"},
            metrics={"a": ["mae"], "b": ["mse"]},
        )
        history = model.fit(
            x,
            targets,
            sample_weight=weights,
            batch_size=10,
            epochs=2,
            shuffle=False,
            verbose=0,
        )
        logs[name] = history.history
    assert sorted(logs["sam"]) == sorted(logs["plain"])
    for key, values in logs["plain"].items():
        np.testing.assert_allclose(
            logs["sam"][key], values, rtol=1e-5, err_msg=key
        )
    for got, want in zip(
        models["sam"].get_weights(), models["plain"].get_weights(), strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_a_batch_smaller_than_the_micro_batches_is_refused():
    model = SAM(linear_model(), micro_batches=4)
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x, y = data(3)
    # 3 examples in one batch: the size is known when the step is traced
    # (always on JAX and torch; on TensorFlow in eager mode).
    model.run_eagerly = keras.backend.backend() == "tensorflow"
    with pytest.raises(ValueError, match=r"SAM: .*argument `micro_batches`"):
        model.fit(x, y, batch_size=3, epochs=1, verbose=0)

"""SAM / ASAM: each step against its closed form, on any Keras backend.

The closed forms are computed in numpy (float64) for a linear model with
the mean squared error, ``L(w) = mean((x W + b - y)²)`` plus the penalties
named in each case, and plain SGD: ``w ← w − lr · ∇L(w + e)`` with
``e = rho · g / ‖g‖`` (SAM) or ``e = rho · T² g / ‖T g‖``,
``T = |w| + eta`` (ASAM; ``T = 1`` on the bias unless ``scale_biases``),
``g = ∇L(w)``. With micro-batches, each gets its own ``e`` and the
gradients at ``w + e`` are averaged by size (or summed).
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


def perturbation(
    gradients, weights, rho, adaptive=False, eta=0.01, scaled=None
):
    # `scaled`: which tensors ASAM scales (None: all); the others T = 1.
    scaled = [True] * len(weights) if scaled is None else scaled
    scales = [
        np.abs(w) + eta if adaptive and s else 1.0
        for w, s in zip(weights, scaled, strict=True)
    ]
    norm = np.sqrt(
        sum(
            np.sum((t * g) ** 2) for t, g in zip(scales, gradients, strict=True)
        )
    )
    return [
        rho * t * t * g / (norm + 1e-12)
        for t, g in zip(scales, gradients, strict=True)
    ]


def split(n, micro, how="strided"):
    """Index arrays of the micro-batches: at most ``n`` of them."""
    micro = min(micro, n)
    if how == "strided":
        return [np.arange(i, n, micro) for i in range(micro)]
    return np.array_split(np.arange(n), micro)


def sam_gradient(
    weights,
    x,
    y,
    rho,
    adaptive=False,
    eta=0.01,
    scale_biases=False,
    micro=1,
    how="strided",
    reduction="mean",
    **penalties,
):
    """The gradient SAM applies: micro-batch gradients at w + e, combined."""
    scaled = [True, scale_biases]  # [kernel, bias]
    total = [np.zeros_like(w) for w in weights]
    for index in split(len(x), micro, how):
        xi, yi = x[index], y[index]
        _, g = loss_and_gradients(weights, xi, yi, **penalties)
        e = perturbation(g, weights, rho, adaptive, eta, scaled)
        shifted = [w + d for w, d in zip(weights, e, strict=True)]
        _, g = loss_and_gradients(shifted, xi, yi, **penalties)
        share = len(xi) / len(x) if reduction == "mean" else 1.0
        total = [t + share * d for t, d in zip(total, g, strict=True)]
    return total


def sam_step(weights, x, y, lr, rho, **options):
    total = sam_gradient(weights, x, y, rho, **options)
    return [w - lr * d for w, d in zip(weights, total, strict=True)]


CASES = {
    "sam": {"rho": 0.3},
    # ASAM, the authors' convention (the default): T = 1 on the bias.
    "asam": {"rho": 0.8, "adaptive": True},
    # ASAM on every tensor (the kit's former convention).
    "asam_all_tensors": {"rho": 0.8, "adaptive": True, "scale_biases": True},
    # davda54/sam's adaptive=True: T = |w| on every tensor.
    "asam_davda54": {
        "rho": 0.8,
        "adaptive": True,
        "scale_biases": True,
        "eta": 0.0,
    },
    "penalties": {"rho": 0.3, "l2": 0.05, "activity": 0.2},
    "micro_batches": {"rho": 0.3, "micro": 2, "l2": 0.05},
    "contiguous_sum": {
        "rho": 0.3,
        "micro": 2,
        "how": "contiguous",
        "reduction": "sum",
    },
}


@pytest.mark.compat("SAM/ASAM", "TensorFlow")
@pytest.mark.compat("SAM/ASAM", "JAX")
@pytest.mark.compat("SAM/ASAM", "PyTorch")
@pytest.mark.parametrize("case", sorted(CASES))
def test_steps_equal_the_closed_form(case):
    options = dict(CASES[case])
    penalties = {k: options.pop(k) for k in ("l2", "activity") if k in options}
    micro = options.get("micro", 1)
    lr, n, steps = 0.1, 9, 2  # 9 examples: micro-batches of 5 and 4
    x, y = data(n)
    arguments = {"how": "split", "micro": "micro_batches"}
    model = SAM(
        linear_model(**penalties),
        **{arguments.get(k, k): v for k, v in options.items()},
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
        weights = sam_step(weights, x, y, lr, **options, **penalties)
    for got, want in zip(model.model.get_weights(), weights, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # The reported loss is the clean loss at w, penalties included.
    np.testing.assert_allclose(
        history.history["loss"], expected_losses, rtol=1e-5
    )
    # The perturbation is not negligible: plain SGD lands elsewhere.
    _, g = loss_and_gradients([W0, B0], x, y, **penalties)
    factor = micro if options.get("reduction") == "sum" else 1
    assert np.abs(weights[0] - (W0 - factor * lr * g[0])).max() > 1e-3
    if options.get("adaptive"):
        # The two ASAM conventions take visibly different steps.
        other = dict(options, scale_biases=not options.get("scale_biases"))
        one = sam_step([W0, B0], x, y, lr, **options)
        another = sam_step([W0, B0], x, y, lr, **other)
        assert np.abs(one[1] - another[1]).max() > 1e-3


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
    for name in ARGUMENTS:
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


ARGUMENTS = (
    "rho",
    "adaptive",
    "eta",
    "micro_batches",
    "eps",
    "scale_biases",
    "split",
    "reduction",
)


def test_config_holds_every_argument():
    model = SAM(
        linear_model(),
        rho=0.2,
        adaptive=True,
        eta=0.1,
        micro_batches=4,
        eps=1e-9,
        scale_biases=True,
        split="contiguous",
        reduction="sum",
    )
    config = model.get_config()
    for name in ("model", *ARGUMENTS):
        assert name in config, name
    rebuilt = SAM.from_config(config)
    assert rebuilt.get_config() == config
    assert isinstance(rebuilt.model, keras.Sequential)


def test_a_config_saved_before_scale_biases_keeps_its_convention():
    # Before `scale_biases`, ASAM scaled every tensor; such a config
    # trains as it did. A new model takes the authors' convention.
    config = SAM(linear_model(), adaptive=True).get_config()
    assert config["scale_biases"] is False
    del config["scale_biases"]
    assert SAM.from_config(config).scale_biases is True


def test_asam_leaves_biases_and_shifts_unscaled():
    inputs = keras.Input((6, 5, 2))
    features = keras.layers.Conv2D(3, 3)(inputs)
    features = keras.layers.BatchNormalization()(features)
    features = keras.layers.LayerNormalization()(features)
    outputs = keras.layers.Dense(2)(keras.layers.Flatten()(features))
    inner = keras.Model(inputs, outputs)
    rng = np.random.default_rng(5)
    inner.set_weights(
        [rng.normal(size=w.shape) + 2.0 for w in inner.get_weights()]
    )
    variables = inner.trainable_variables
    names = [v.name for v in variables]
    assert names == ["kernel", "bias"] + ["gamma", "beta"] * 2 + [
        "kernel",
        "bias",
    ]
    weights = [keras.ops.convert_to_numpy(v) for v in variables]
    grads = [rng.normal(size=w.shape).astype("float32") for w in weights]
    scaled = [name in ("kernel", "gamma") for name in names]
    for scale_biases, mask in ((False, scaled), (True, None)):
        model = SAM(inner, rho=0.5, adaptive=True, scale_biases=scale_biases)
        got = model.perturbation(grads, [v.value for v in variables])
        want = perturbation(grads, weights, 0.5, True, 0.01, mask)
        for e, w in zip(got, want, strict=True):
            np.testing.assert_allclose(
                keras.ops.convert_to_numpy(e), w, rtol=1e-5, atol=1e-7
            )


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
        ({"scale_biases": 0}, TypeError, "scale_biases"),
        ({"split": "random"}, ValueError, "split"),
        ({"reduction": "max"}, ValueError, "reduction"),
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
    cases = [(False, None), (True, None), (True, [True, False, True])]
    for adaptive, scaled in cases:
        got = rk.training.sam_perturbation(
            [g.astype("float32") for g in grads] + [None],
            cast + [np.zeros(1, "float32")],
            rho=0.7,
            adaptive=adaptive,
            scaled=scaled,
        )
        assert got[2] is None
        mask = None if scaled is None else scaled[:2]
        want = perturbation(grads, weights, 0.7, adaptive, 0.01, mask)
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


@pytest.mark.parametrize("eager", [False, True])
@pytest.mark.parametrize("how", ["strided", "contiguous"])
def test_a_last_batch_smaller_than_the_micro_batches(how, eager):
    # 14 examples in batches of 6: the last batch holds 2 examples, fewer
    # than the 4 micro-batches, and splits into 2 micro-batches of one
    # example (4 is no divisor of 6 either: micro-batches of 2 and 1).
    # TensorFlow's graph does not know the batch size when tracing (the
    # step drops the empty micro-batches); eagerly, and on JAX and torch,
    # it is known.
    if eager and keras.backend.backend() != "tensorflow":
        pytest.skip("graph and eager differ on TensorFlow only")
    lr, n, batch, micro = 0.1, 14, 6, 4
    x, y = data(n)
    options = {"split": how} if how == "contiguous" else {}
    model = SAM(linear_model(l2=0.05), rho=0.3, micro_batches=micro, **options)
    model.compile(keras.optimizers.SGD(lr), "mse")
    model.run_eagerly = eager
    history = model.fit(
        x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0
    )

    weights, losses = [W0, B0], []
    for start in range(0, n, batch):
        xb, yb = x[start : start + batch], y[start : start + batch]
        losses.append(loss_and_gradients(weights, xb, yb, l2=0.05)[0])
        weights = sam_step(
            weights, xb, yb, lr, rho=0.3, micro=micro, how=how, l2=0.05
        )
    for got, want in zip(model.model.get_weights(), weights, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # The epoch's loss: the batches' clean losses, averaged by size.
    sizes = [6, 6, 2]
    np.testing.assert_allclose(
        history.history["loss"][0], np.average(losses, weights=sizes), rtol=1e-5
    )


def test_batchnorm_statistics_after_a_small_last_batch():
    # BatchNorm right after the input: its statistics depend on the
    # inputs alone, so plain forward passes over the same micro-batches
    # give them. The last batch (3 examples, 4 micro-batches) must move
    # them three times, with no NaN from a micro-batch of no example.
    x = data(11)[0][:, :2].repeat(2, axis=1) * 3.0 + 1.0
    y = data(11, seed=1)[1][:, :1]
    layers = [keras.layers.BatchNormalization(momentum=0.8)]
    layers.append(keras.layers.Dense(1))
    inner = keras.Sequential([keras.Input((4,)), *layers])
    reference = keras.layers.BatchNormalization(momentum=0.8)
    for start in (0, 8):
        xb = x[start : start + 8]
        for index in split(len(xb), 4):
            reference(xb[index], training=True)
    model = SAM(inner, rho=0.5, micro_batches=4)
    model.compile(keras.optimizers.SGD(0.1), "mse")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    got = [
        keras.ops.convert_to_numpy(v) for v in layers[0].non_trainable_weights
    ]
    want = [
        keras.ops.convert_to_numpy(v) for v in reference.non_trainable_weights
    ]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    assert all(np.all(np.isfinite(w)) for w in inner.get_weights())


# --- tf.keras 2.x's SharpnessAwareMinimization, reimplemented ------------


def adam(weights, gradients, state, lr, beta_1=0.9, beta_2=0.999, eps=1e-7):
    """One Adam step (tf.keras 2.x and Keras 3 alike), in numpy."""
    state["t"] = state.get("t", 0) + 1
    t = state["t"]
    m = state.setdefault("m", [np.zeros_like(w) for w in weights])
    v = state.setdefault("v", [np.zeros_like(w) for w in weights])
    lr_t = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    result = []
    for i, (w, g) in enumerate(zip(weights, gradients, strict=True)):
        m[i] = m[i] + (g - m[i]) * (1 - beta_1)
        v[i] = v[i] + (g * g - v[i]) * (1 - beta_2)
        result.append(w - lr_t * m[i] / (np.sqrt(v[i]) + eps))
    return result


def tf_keras_sam_gradient(weights, x, y, rho, num_batch_splits):
    """tf.keras 2.x ``SharpnessAwareMinimization.train_step``'s gradient.

    Per ``tf.split`` part (contiguous, equal): the compiled loss (the
    mean over the part; no ``model.losses``), ``e = rho · g / (‖g‖ +
    1e-12)``, the gradient at ``w + e``; then ``tf.reduce_sum`` of the
    parts' gradients, applied in one optimizer step.
    """
    total = [np.zeros_like(w) for w in weights]
    xs, ys = np.split(x, num_batch_splits), np.split(y, num_batch_splits)
    for xi, yi in zip(xs, ys, strict=True):
        _, g = loss_and_gradients(weights, xi, yi)
        norm = np.sqrt(sum(np.sum(gi**2) for gi in g))
        step = [rho * gi / (norm + 1e-12) for gi in g]
        shifted = [w + d for w, d in zip(weights, step, strict=True)]
        _, g = loss_and_gradients(shifted, xi, yi)
        total = [t + gi for t, gi in zip(total, g, strict=True)]
    return total


def fit_linear(x, y, batch, optimizer, **sam_options):
    model = SAM(linear_model(), **sam_options)
    model.compile(optimizer, "mse")
    model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
    return model.model.get_weights()


def test_the_tf_keras_setting_reproduces_its_step_with_adam():
    # tf.keras: SharpnessAwareMinimization(model, rho, num_batch_splits=4)
    # with Adam(lr), three batches of 8 (so Adam's moments matter).
    lr, rho, k, n, batch = 0.05, 0.3, 4, 24, 8
    x, y = data(n, seed=3)
    weights, state = [W0, B0], {}
    for start in range(0, n, batch):
        xb, yb = x[start : start + batch], y[start : start + batch]
        g = tf_keras_sam_gradient(weights, xb, yb, rho, k)
        weights = adam(weights, g, state, lr)

    got = fit_linear(
        x,
        y,
        batch,
        keras.optimizers.Adam(lr),
        rho=rho,
        micro_batches=k,
        split="contiguous",
        reduction="sum",
    )
    # float32 against float64 over three Adam steps: about 1e-6 apart.
    for g, w in zip(got, weights, strict=True):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-5)

    # The former recipe (strided, averaged, learning rate times k) lands
    # elsewhere with Adam: Adam's step barely depends on the gradient's
    # scale, so lr × k makes it about k times too long.
    recipe = fit_linear(
        x, y, batch, keras.optimizers.Adam(lr * k), rho=rho, micro_batches=k
    )
    assert np.abs(recipe[0] - weights[0]).max() > 0.1


def test_the_tf_keras_setting_reproduces_its_step_with_sgd():
    lr, rho, k, n, batch = 0.05, 0.3, 2, 16, 8
    x, y = data(n, seed=4)
    weights = [W0, B0]
    for start in range(0, n, batch):
        xb, yb = x[start : start + batch], y[start : start + batch]
        g = tf_keras_sam_gradient(weights, xb, yb, rho, k)
        weights = [w - lr * gi for w, gi in zip(weights, g, strict=True)]
    got = fit_linear(
        x,
        y,
        batch,
        keras.optimizers.SGD(lr),
        rho=rho,
        micro_batches=k,
        split="contiguous",
        reduction="sum",
    )
    for g, w in zip(got, weights, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)

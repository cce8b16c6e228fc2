"""L2SP and apply_l2sp: closed-form penalty and gradient, saved w0, errors."""

import keras
import numpy as np
import pytest

import keras_regkit as rk

rkr = rk.regularizers
to_numpy = keras.ops.convert_to_numpy


def pretrained_model():
    """A nested model: a pretrained base inside a functional model + head."""
    base = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(3, name="feat")], name="base"
    )
    inputs = keras.Input((5,))
    outputs = keras.layers.Dense(2, name="head")(base(inputs))
    return keras.Model(inputs, outputs, name="net")


def zero_data_loss(y_true, y_pred):
    """A loss whose gradient is zero: only the penalties train."""
    return keras.ops.mean(y_pred) * 0.0


def test_penalty_is_the_closed_form_on_a_non_square_weight():
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(3, 5)).astype("float32")
    w = rng.normal(size=(3, 5)).astype("float32")
    penalty = rkr.L2SP(0.3, starting_point=w0)(w)
    expected = 0.3 / 2 * np.sum((w.astype("float64") - w0) ** 2)
    np.testing.assert_allclose(float(penalty), expected, rtol=1e-6)


def test_one_sgd_step_follows_the_closed_form_gradient():
    """w <- w - lr * (alpha (w - w0)) on the base, - lr * beta w on the head."""
    model = pretrained_model()
    feat = model.get_layer("base").get_layer("feat")
    head = model.get_layer("head")
    rng = np.random.default_rng(1)
    feat.kernel.assign(rng.normal(size=(5, 3)))
    w0 = to_numpy(feat.kernel).copy()
    done = rkr.apply_l2sp(
        model, alpha=0.5, beta=0.2, new_layers="head", weights="kernel"
    )
    assert done == {"l2sp": ["base/feat/kernel"], "l2": ["head/kernel"]}
    # Move away from w0, so the gradient is not zero.
    w = w0 + rng.normal(size=w0.shape).astype("float32")
    feat.kernel.assign(w)
    head_w = to_numpy(head.kernel).copy()
    model.compile(keras.optimizers.SGD(0.1), zero_data_loss)
    x, y = np.ones((4, 5), "float32"), np.zeros((4, 2), "float32")
    np.testing.assert_allclose(
        float(to_numpy(sum(model.losses))),
        0.5 / 2 * np.sum((w - w0) ** 2) + 0.2 / 2 * np.sum(head_w**2),
        rtol=1e-5,
    )
    model.train_on_batch(x, y)
    np.testing.assert_allclose(
        to_numpy(feat.kernel), w - 0.1 * 0.5 * (w - w0), rtol=1e-5, atol=1e-7
    )
    np.testing.assert_allclose(
        to_numpy(head.kernel), head_w - 0.1 * 0.2 * head_w, rtol=1e-5, atol=1e-7
    )


@pytest.mark.compat("L2SP", "TensorFlow")
@pytest.mark.compat("L2SP", "JAX")
@pytest.mark.compat("L2SP", "PyTorch")
def test_starting_point_is_fixed_in_training_and_survives_save_load(tmp_path):
    model = pretrained_model()
    feat = model.get_layer("base").get_layer("feat")
    w0 = to_numpy(feat.kernel).copy()
    rkr.apply_l2sp(model, alpha=0.1, beta=0.01, new_layers="head")
    regularizer = feat.kernel.regularizer
    # Not a weight of the model: the optimizer and get_weights ignore it.
    assert all(v is not regularizer.starting_point for v in model.weights)
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x = np.random.rand(16, 5).astype("float32")
    y = np.random.rand(16, 2).astype("float32")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert not np.allclose(to_numpy(feat.kernel), w0)
    np.testing.assert_array_equal(to_numpy(regularizer.starting_point), w0)

    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)  # no custom_objects
    loaded_reg = loaded.get_layer("base").get_layer("feat").kernel.regularizer
    assert isinstance(loaded_reg, rkr.L2SP)
    assert loaded_reg is not regularizer
    np.testing.assert_array_equal(to_numpy(loaded_reg.starting_point), w0)
    np.testing.assert_allclose(
        [float(to_numpy(v)) for v in loaded.losses],
        [float(to_numpy(v)) for v in model.losses],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0)
    )


def test_applied_with_apply_to_one_layer():
    model = pretrained_model()
    feat = model.get_layer("base").get_layer("feat")
    regularizer = rkr.L2SP(1.0, starting_point=np.zeros((5, 3), "float32"))
    assert rkr.apply(model, regularizer, layers="feat") == ["base/feat/kernel"]
    kernel = to_numpy(feat.kernel)
    np.testing.assert_allclose(
        float(to_numpy(model.losses[0])), 0.5 * np.sum(kernel**2), rtol=1e-6
    )


def test_no_starting_point_raises_naming_the_argument():
    with pytest.raises(ValueError, match="argument `starting_point`"):
        rkr.L2SP(0.1)
    with pytest.raises(ValueError, match="argument `starting_point`"):
        rkr.L2SP(0.1, starting_point={"shape": [2]})
    with pytest.raises(ValueError, match="argument `alpha`"):
        rkr.L2SP(-1.0, starting_point=np.zeros(2))


def test_shape_mismatch_raises_naming_the_argument():
    regularizer = rkr.L2SP(0.1, starting_point=np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"starting_point.*\(3, 2\)"):
        regularizer(np.zeros((3, 2), "float32"))


def test_apply_l2sp_bad_arguments():
    model = pretrained_model()
    with pytest.raises(ValueError, match="argument `new_layers`"):
        rkr.apply_l2sp(model, 0.1, new_layers="nope")
    with pytest.raises(ValueError, match="argument `beta`"):
        rkr.apply_l2sp(model, 0.1, beta=-1.0)
    with pytest.raises(ValueError, match="argument `weights`"):
        rkr.apply_l2sp(model, 0.1, weights="gamma")


def test_starting_point_of_the_wrong_kind_raises_naming_it():
    with pytest.raises(TypeError, match=r"^L2SP: .*argument `starting_point`"):
        rkr.L2SP(0.1, starting_point=object())


@pytest.mark.parametrize(
    "kwargs, name, error",
    [
        ({"model": None}, "model", TypeError),
        ({"model": "net"}, "model", TypeError),
        ({"layers": 1}, "layers", TypeError),
        ({"layers": []}, "layers", ValueError),
        ({"new_layers": (1,)}, "new_layers", TypeError),
        ({"new_layers": np.zeros((2, 2))}, "new_layers", TypeError),
        ({"new_layers": object()}, "new_layers", TypeError),
        ({"weights": None}, "weights", TypeError),
        ({"weights": ""}, "weights", ValueError),
        ({"weights": [1]}, "weights", TypeError),
    ],
)
def test_apply_l2sp_rejects_bad_arguments_up_front(kwargs, name, error):
    arguments = {"model": pretrained_model(), **kwargs}
    with pytest.raises(error, match=rf"^apply_l2sp: .*argument `{name}`"):
        rkr.apply_l2sp(**arguments)


def test_placeholder_from_config_is_filled_by_load_own_variables():
    config = {
        "alpha": 0.2,
        "starting_point": {"shape": [2], "dtype": "float32"},
    }
    regularizer = rkr.L2SP.from_config(config)
    regularizer.load_own_variables({"0": np.array([1.0, 2.0], "float32")})
    np.testing.assert_array_equal(to_numpy(regularizer.starting_point), [1, 2])
    with pytest.raises(ValueError, match="shape"):
        regularizer.load_own_variables({"0": np.zeros(3, "float32")})


@keras.saving.register_keras_serializable(package="tests_l2sp")
class TwoDense(keras.Model):
    """A subclassed model: its config does not hold its layers'."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.base = keras.layers.Dense(4, name="base")
        self.head = keras.layers.Dense(1, name="head")

    def call(self, x):
        return self.head(self.base(x))


def test_subclassed_model_keeps_the_starting_point(tmp_path):
    model = TwoDense()
    model(np.zeros((1, 3), "float32"))
    w0 = to_numpy(model.base.kernel).copy()
    rkr.apply_l2sp(model, alpha=0.1, beta=0.02, new_layers="head")
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x = np.random.rand(16, 3).astype("float32")
    model.fit(x, np.random.rand(16, 1), epochs=1, verbose=0)
    path = str(tmp_path / "sub.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    regularizer = loaded.base.kernel.regularizer
    assert isinstance(regularizer, rkr.L2SP)
    np.testing.assert_array_equal(to_numpy(regularizer.starting_point), w0)
    np.testing.assert_allclose(
        [float(to_numpy(v)) for v in loaded.losses],
        [float(to_numpy(v)) for v in model.losses],
        rtol=1e-6,
    )


class Scale(keras.layers.Layer):
    """A weight with no `*_regularizer` constructor attribute."""

    def build(self, input_shape):
        self.scale = self.add_weight(
            shape=(input_shape[-1],), name="scale", initializer="ones"
        )

    def call(self, x):
        return x * self.scale


def test_weight_whose_starting_point_cannot_be_saved_warns():
    model = keras.Sequential([keras.Input((3,)), Scale(name="s")])
    with pytest.warns(UserWarning, match="not its starting point"):
        done = rkr.apply_l2sp(model, 0.1, weights="scale")
    assert done["l2sp"] == [model.layers[0].scale.path]


def pretrained_with_batch_norm():
    """Dense + BatchNormalization pretrained, a new Dense head."""
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(3, name="feat"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.Dense(2, name="head"),
        ],
        name="net",
    )


def test_default_covers_every_trainable_weight_as_the_paper():
    """Ω = α/2 Σ‖w − w₀‖² over all pretrained parameters + β/2 Σ‖w‖² over
    all new ones (Li et al. 2018), computed in numpy."""
    model = pretrained_with_batch_norm()
    rng = np.random.default_rng(2)
    for weight in model.weights:  # non-zero biases and BN parameters
        weight.assign(rng.normal(size=weight.shape))
    alpha, beta = 0.3, 0.2
    done = rkr.apply_l2sp(model, alpha=alpha, beta=beta, new_layers="head")
    assert done == {
        "l2sp": [
            "net/feat/kernel",
            "net/feat/bias",
            "net/bn/gamma",
            "net/bn/beta",
        ],
        "l2": ["net/head/kernel", "net/head/bias"],
    }
    pretrained = [
        w for layer in model.layers[:2] for w in layer.trainable_weights
    ]
    head = model.get_layer("head").trainable_weights
    w0 = [to_numpy(w).astype("float64") for w in pretrained]
    moved = []
    for weight in pretrained + head:
        value = to_numpy(weight) + rng.normal(size=weight.shape)
        weight.assign(value.astype("float32"))
        moved.append(value.astype("float32").astype("float64"))
    expected = alpha / 2 * sum(
        np.sum((w - start) ** 2) for w, start in zip(moved[:4], w0, strict=True)
    ) + beta / 2 * sum(np.sum(w**2) for w in moved[4:])
    penalty = sum(float(to_numpy(loss)) for loss in model.losses)
    np.testing.assert_allclose(penalty, expected, rtol=1e-5)
    # The moving statistics are not parameters: never regularized.
    bn = model.get_layer("bn")
    assert bn.moving_mean.regularizer is None
    assert bn.moving_variance.regularizer is None


def test_weights_kernel_restricts_it_to_kernels():
    model = pretrained_with_batch_norm()
    done = rkr.apply_l2sp(
        model, alpha=0.1, beta=0.1, new_layers="head", weights="kernel"
    )
    assert done == {"l2sp": ["net/feat/kernel"], "l2": ["net/head/kernel"]}
    assert model.get_layer("bn").gamma.regularizer is None
    assert model.get_layer("feat").bias.regularizer is None


def test_biases_and_batch_norm_survive_save_load(tmp_path):
    model = pretrained_with_batch_norm()
    gamma0 = to_numpy(model.get_layer("bn").gamma).copy()
    rkr.apply_l2sp(model, alpha=0.1, beta=0.01, new_layers="head")
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x = np.random.default_rng(0).normal(size=(16, 5)).astype("float32")
    model.fit(x, np.ones((16, 2), "float32"), epochs=1, verbose=0)
    path = str(tmp_path / "bn.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    regularizer = loaded.get_layer("bn").gamma.regularizer
    assert isinstance(regularizer, rkr.L2SP)
    np.testing.assert_array_equal(to_numpy(regularizer.starting_point), gamma0)
    np.testing.assert_allclose(
        [float(to_numpy(v)) for v in loaded.losses],
        [float(to_numpy(v)) for v in model.losses],
        rtol=1e-6,
    )


def test_every_layer_new_and_beta_zero_names_new_layers():
    model = pretrained_model()
    with pytest.raises(
        ValueError, match=r"^apply_l2sp: .*argument `new_layers`.*beta"
    ):
        rkr.apply_l2sp(model, 0.1, new_layers=lambda layer: True)
    # With beta > 0 the new layers get plain L2: nothing to complain about.
    done = rkr.apply_l2sp(model, 0.1, 0.1, new_layers=lambda layer: True)
    assert done["l2sp"] == [] and "head/kernel" in done["l2"]


def test_pretrained_weights_loaded_after_apply_l2sp_raise_naming_the_fix(
    tmp_path,
):
    pretrained = pretrained_model()
    feat = pretrained.get_layer("base").get_layer("feat")
    feat.kernel.assign(np.full((5, 3), 0.7, "float32"))
    path = str(tmp_path / "pretrained.weights.h5")
    pretrained.save_weights(path)  # saved without L2-SP

    model = pretrained_model()  # random start
    rkr.apply_l2sp(model, 0.1, new_layers="head")
    with pytest.raises(
        ValueError,
        match=r"(?s)base/feat/kernel.*"
        r"Call apply_l2sp after loading the pretrained weights",
    ):
        model.load_weights(path)

    # The right order: load, then apply_l2sp: w0 is the pretrained value.
    model = pretrained_model()
    model.load_weights(path)
    rkr.apply_l2sp(model, 0.1, new_layers="head")
    regularizer = model.get_layer("base").get_layer("feat").kernel.regularizer
    np.testing.assert_array_equal(
        to_numpy(regularizer.starting_point), np.float32(0.7)
    )


def test_load_weights_of_a_model_saved_with_l2sp_restores_w0(tmp_path):
    model = pretrained_model()
    feat = model.get_layer("base").get_layer("feat")
    w0 = to_numpy(feat.kernel).copy()
    rkr.apply_l2sp(model, 0.1, new_layers="head")
    feat.kernel.assign(w0 + 1.0)  # fine-tuned away from w0
    path = str(tmp_path / "fine_tuned.weights.h5")
    model.save_weights(path)

    other = pretrained_model()
    rkr.apply_l2sp(other, 0.1, new_layers="head")
    other.load_weights(path)
    other_feat = other.get_layer("base").get_layer("feat")
    np.testing.assert_array_equal(to_numpy(other_feat.kernel), w0 + 1.0)
    np.testing.assert_array_equal(
        to_numpy(other_feat.kernel.regularizer.starting_point), w0
    )

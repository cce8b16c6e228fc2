"""rk.regularizers.apply: regularizing an already-built model."""

import helpers
import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit.regularizers import L1
from keras_regkit.regularizers import L2


def _built_mlp():
    return keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(4, name="hidden"),
            keras.layers.Dense(1, name="head"),
        ],
        name="mlp",
    )


def _sum_squares(variable):
    return float(np.square(np.asarray(variable)).sum())


def test_keras_attribute_after_build_does_nothing_but_apply_works():
    model = _built_mlp()
    model.layers[0].kernel_regularizer = keras.regularizers.L2(0.1)
    assert model.losses == []  # the Keras pitfall this helper exists for
    paths = rk.regularizers.apply(model, L2(0.1))
    assert paths == ["mlp/hidden/kernel", "mlp/head/kernel"]
    expected = [0.1 * _sum_squares(layer.kernel) for layer in model.layers]
    np.testing.assert_allclose(
        [keras.ops.convert_to_numpy(v) for v in model.losses],
        expected,
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    "layers",
    [
        "head",
        ["head"],
        keras.layers.Dense,
        lambda layer: layer.name == "head",
    ],
)
def test_layer_selection(layers):
    model = _built_mlp()
    if layers is keras.layers.Dense:
        expected = ["mlp/hidden/kernel", "mlp/head/kernel"]
    else:
        expected = ["mlp/head/kernel"]
    assert rk.regularizers.apply(model, L1(0.1), layers=layers) == expected


def test_layer_instance_and_bias():
    model = _built_mlp()
    paths = rk.regularizers.apply(
        model, "l2", layers=[model.layers[1]], weights=["kernel", "bias"]
    )
    assert paths == ["mlp/head/kernel", "mlp/head/bias"]
    assert isinstance(model.layers[1].bias_regularizer, L2)


def test_unknown_layer_name_lists_names():
    with pytest.raises(ValueError, match=r"argument `layers`.*'head'.*'nope'"):
        rk.regularizers.apply(_built_mlp(), L2(), layers="nope")


def test_bad_layers_type():
    with pytest.raises(TypeError, match="argument `layers`"):
        rk.regularizers.apply(_built_mlp(), L2(), layers=[3])


@pytest.mark.parametrize("model", [None, 3, "mlp", np.zeros((2, 2))])
def test_model_that_is_not_a_layer_raises_naming_it(model):
    with pytest.raises(TypeError, match=r"^apply: .*argument `model`"):
        rk.regularizers.apply(model, L2())


@pytest.mark.parametrize("regularizer", [3, 0.5, True, (1,), object()])
def test_bad_regularizer_raises_naming_it(regularizer):
    with pytest.raises(TypeError, match=r"^apply: .*argument `regularizer`"):
        rk.regularizers.apply(_built_mlp(), regularizer)


def test_unknown_regularizer_name_raises_naming_it():
    with pytest.raises(ValueError, match=r"argument `regularizer`.*'bogus'"):
        rk.regularizers.apply(_built_mlp(), "bogus")


@pytest.mark.parametrize("layers", [1, 0.5, False, object(), [[1]], (1,)])
def test_bad_layers_raises_naming_it(layers):
    with pytest.raises(TypeError, match=r"^apply: .*argument `layers`"):
        rk.regularizers.apply(_built_mlp(), L2(), layers=layers)


def test_empty_layers_list_raises():
    with pytest.raises(ValueError, match=r"argument `layers`.*non-empty"):
        rk.regularizers.apply(_built_mlp(), L2(), layers=[])


def test_a_layer_instance_is_not_taken_for_a_predicate():
    model = _built_mlp()
    paths = rk.regularizers.apply(model, L2(), layers=model.layers[0])
    assert paths == ["mlp/hidden/kernel"]


@pytest.mark.parametrize("weights", [None, 1, True, object(), [1], ("k", 2)])
def test_bad_weights_type_raises_naming_it(weights):
    with pytest.raises(TypeError, match=r"^apply: .*argument `weights`"):
        rk.regularizers.apply(_built_mlp(), L2(), weights=weights)


@pytest.mark.parametrize("weights", ["", [], ["kernel", ""]])
def test_empty_weights_raise_naming_it(weights):
    with pytest.raises(ValueError, match=r"^apply: .*argument `weights`"):
        rk.regularizers.apply(_built_mlp(), L2(), weights=weights)


def test_nothing_matched_raises():
    with pytest.raises(ValueError, match="argument `weights`.*'gamma'"):
        rk.regularizers.apply(_built_mlp(), L2(), weights="gamma")


def test_overwrite_false_keeps_existing():
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(2, kernel_regularizer=L1(0.5), name="a"),
            keras.layers.Dense(2, name="b"),
        ]
    )
    paths = rk.regularizers.apply(model, L2(0.1), overwrite=False)
    assert [p.split("/")[-2] for p in paths] == ["b"]
    assert isinstance(model.layers[0].kernel.regularizer, L1)


def test_conv_depthwise_embedding_and_nested_models():
    inner = keras.Sequential(
        [
            keras.Input((6, 4, 2)),
            keras.layers.DepthwiseConv2D(3, name="dw"),
            keras.layers.Conv2D(2, 1, name="pw"),
        ],
        name="inner",
    )
    tokens = keras.Input((3,), dtype="int32")
    images = keras.Input((6, 4, 2))
    embedded = keras.layers.Flatten()(
        keras.layers.Embedding(10, 2, name="emb")(tokens)
    )
    features = keras.layers.Flatten()(inner(images))
    out = keras.layers.Dense(1)(
        keras.layers.Concatenate()([embedded, features])
    )
    model = keras.Model([tokens, images], out)
    paths = rk.regularizers.apply(
        model, L2(0.01), weights=("kernel", "embeddings")
    )
    names = sorted(p.split("/")[-2] + "/" + p.split("/")[-1] for p in paths)
    assert "dw/kernel" in names
    assert "pw/kernel" in names
    assert "emb/embeddings" in names
    assert isinstance(inner.get_layer("dw").depthwise_regularizer, L2)
    assert len(model.losses) == len(paths)


def test_unbuilt_layers_get_the_attribute():
    model = keras.Sequential([keras.layers.Dense(3, name="d")])
    assert rk.regularizers.apply(model, L2(0.1)) == ["d/kernel_regularizer"]
    model.build((None, 4))
    assert len(model.losses) == 1


@pytest.mark.compat("regularizers.apply", "TensorFlow")
@pytest.mark.compat("regularizers.apply", "JAX")
@pytest.mark.compat("regularizers.apply", "PyTorch")
def test_applies_to_trained_model_without_recompiling(tmp_path):
    x, y = helpers.regression_data((5,))
    model = _built_mlp()
    model.compile(keras.optimizers.SGD(0.0), "mse")
    model.fit(x, y, epochs=1, verbose=0)
    before = model.evaluate(x, y, verbose=0)
    rk.regularizers.apply(model, L2(1.0))
    penalty = sum(_sum_squares(layer.kernel) for layer in model.layers)
    history = model.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_allclose(
        history.history["loss"][0], before + penalty, rtol=1e-5
    )
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert all(
        isinstance(layer.kernel_regularizer, L2) for layer in loaded.layers
    )
    np.testing.assert_allclose(
        loaded.evaluate(x, y, verbose=0), before + penalty, rtol=1e-5
    )

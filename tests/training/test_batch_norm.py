"""recompute_batch_norm: BatchNorm statistics as the mean over one pass."""

import keras
import numpy as np
import pytest

import keras_regkit as rk

to_numpy = keras.ops.convert_to_numpy


def bn_model(trainable=True):
    inner = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.BatchNormalization(momentum=0.9, name="bn"),
        ],
        name="inner",
    )
    inner.get_layer("bn").trainable = trainable
    return keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(3, name="pre"), inner]
    )


def data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype("float32")
    return x, rng.normal(size=(n, 1)).astype("float32")


def batch_statistics(model, batches):
    pre = model.get_layer("pre")
    kernel, bias = to_numpy(pre.kernel), to_numpy(pre.bias)
    h = [b.astype("float64") @ kernel + bias for b in batches]
    return np.mean([a.mean(0) for a in h], 0), np.mean([a.var(0) for a in h], 0)


def test_a_dataset_of_batches_in_a_nested_model():
    model = bn_model()
    x, y = data()
    batches = [(x[:5], y[:5]), (x[5:], y[5:])]
    assert rk.training.recompute_batch_norm(model, batches) == 2
    bn = model.get_layer("inner").get_layer("bn")
    mean, variance = batch_statistics(model, [x[:5], x[5:]])
    np.testing.assert_allclose(to_numpy(bn.moving_mean), mean, 1e-5, 1e-6)
    np.testing.assert_allclose(
        to_numpy(bn.moving_variance), variance, 1e-5, 1e-6
    )
    assert bn.momentum == 0.9


def test_arrays_split_into_batches_of_batch_size_non_divisible():
    model = bn_model()
    x, y = data(n=10)
    assert rk.training.recompute_batch_norm(model, (x, y), batch_size=4) == 3
    bn = model.get_layer("inner").get_layer("bn")
    mean, _ = batch_statistics(model, [x[:4], x[4:8], x[8:]])
    np.testing.assert_allclose(to_numpy(bn.moving_mean), mean, 1e-5, 1e-6)


def test_a_frozen_layer_and_the_other_weights_keep_their_values():
    model = bn_model(trainable=False)
    before = [to_numpy(w) for w in model.weights]
    assert rk.training.recompute_batch_norm(model, data()[0]) == 1
    for a, b in zip(before, model.weights, strict=True):
        np.testing.assert_array_equal(a, to_numpy(b))


def test_a_model_without_batch_norm_runs_nothing():
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)])
    assert rk.training.recompute_batch_norm(model, data()[0]) == 0


def test_bad_arguments_name_the_argument():
    model = bn_model()
    with pytest.raises(ValueError, match="`data`.*at least one batch"):
        rk.training.recompute_batch_norm(model, [])
    with pytest.raises(TypeError, match="`data`"):
        rk.training.recompute_batch_norm(model, None)
    with pytest.raises(TypeError, match="`model`"):
        rk.training.recompute_batch_norm("model", data()[0])
    with pytest.raises(ValueError, match="`batch_size`"):
        rk.training.recompute_batch_norm(model, data()[0], batch_size=0)

"""The demo's models per variant and what fit gets per variant."""

import pickle

import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit.demo import data
from keras_regkit.demo import training
from keras_regkit.demo import variants


@pytest.fixture
def splits():
    images = np.random.default_rng(0).random((12, 8, 6, 1), "float32")
    labels = np.arange(12, dtype="int32") % 3
    return data.Splits(*[images, labels] * 3, num_classes=3, source="t")


def _build(builder, seed):
    keras.utils.set_random_seed(seed)  # as the diagnostics do
    return builder()


def test_builder_pickles_and_rebuilds_the_same_network(splits):
    builder = training.builder("dropout", splits, epochs=4)
    again = pickle.loads(pickle.dumps(builder))
    first, second = _build(builder, 3), _build(again, 3)
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert first.output_shape == (None, 3)
    rates = [
        layer.rate
        for layer in first.layers
        if isinstance(layer, keras.layers.Dropout)
    ]
    assert rates == [variants.DROPOUT_RATE]
    other = _build(builder, 4)
    assert not np.array_equal(other.get_weights()[0], first.get_weights()[0])


def test_sweep_builder_takes_the_strength(splits):
    sweep = training.builder("l2", splits, epochs=4, strength="sweep")
    model = _build(lambda: sweep(30.0), 0)
    regularizer = model.layers[1].kernel_regularizer
    assert regularizer.get_config()["lam"] == 30.0
    assert regularizer.get_config()["num_examples"] == 12


def test_augment_is_a_layer_at_the_input_and_sam_wraps(splits):
    model = _build(training.builder("augment", splits, epochs=2), 0)
    assert isinstance(model.layers[1], rk.augment.AugmentationLayer)
    sam = _build(training.builder("sam", splits, epochs=2), 0)
    assert isinstance(sam, rk.training.SAM)
    assert sam.rho == variants.SAM_RHO and sam.optimizer is not None
    assert sam.predict(splits.x_train, verbose=0).shape == (12, 3)


def test_fit_kwargs_per_variant(splits):
    assert training.fit_kwargs("none", splits, 5) == {
        "epochs": 5,
        "batch_size": training.BATCH_SIZE,
    }
    stopping = training.fit_kwargs("early_stopping", splits, 5)
    (callback,) = stopping["callbacks"]
    assert isinstance(callback, rk.callbacks.EarlyStopping)
    assert stopping["validation_data"][0] is splits.x_val
    combined = training.fit_kwargs("combined", splits, 5)
    assert [type(c).__name__ for c in combined["callbacks"]] == [
        "ScheduleCallback",
        "EarlyStopping",
    ]
    assert "validation_data" in combined

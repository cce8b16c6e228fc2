"""The demo's training: models built per variant, a run's result."""

import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit.demo import data
from keras_regkit.demo import report
from keras_regkit.demo import training
from keras_regkit.demo import variants


def test_sam_and_swa_are_one_record_each():
    setup = variants.Setup(num_examples=300, epochs=8, seed=0)
    sam, swa = variants.get("sam"), variants.get("swa")
    assert (sam.callbacks, sam.layers, sam.regularizer) == (None,) * 3
    assert (swa.wrap_model, swa.layers, swa.regularizer) == (None,) * 3
    (callback,) = swa.callbacks(setup)
    assert isinstance(callback, rk.callbacks.SWA)
    assert callback.start == variants.SWA_START
    images = np.zeros((10, 8, 8, 1), "float32")
    labels = np.arange(10, dtype="int32") % 3
    splits = data.Splits(*[images, labels] * 3, num_classes=3, source="t")
    model = training.build_model(splits, sam, setup)
    assert isinstance(model, rk.training.SAM)
    assert model.rho == variants.SAM_RHO and not model.adaptive
    assert model.optimizer is not None  # the wrapper is what was compiled
    assert model.predict(images, verbose=0).shape == (10, 3)
    combined = variants.get("combined")
    assert combined.wrap_model is None


def test_gap_is_train_minus_test():
    result = training.Result("x", 0.9, 0.8, 0.75, 3, 2, 1.0, {})
    assert result.gap == pytest.approx(0.15)
    table = report.format_table(report.summarize([result]))
    assert "+0.150 ± 0.000" in table

"""rk.regularizers.apply survives model.save / load_model for every model.

Issue 12 §3: a KerasHub backbone regularized with `apply` had 6 penalty
terms, and 0 after `load_model` (it rebuilds its layers from its
constructor arguments). The same held for subclassed models.
"""

import json
import zipfile

import helpers
import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit import schedules
from keras_regkit.regularizers import L1
from keras_regkit.regularizers import L2
from keras_regkit.regularizers import _in_config

keras_hub = pytest.importorskip("keras_hub")


def _backbone():
    """A tiny ResNet (two stacks of one basic block), random weights."""
    return keras_hub.models.ResNetBackbone(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[3],
        stackwise_num_filters=[64, 64],
        stackwise_num_blocks=[1, 1],
        stackwise_num_strides=[1, 2],
        block_type="basic_block",
        image_shape=(16, 12, 3),
    )


def _saved_config(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))


@keras.saving.register_keras_serializable(package="keras_regkit_tests")
class TwoDense(keras.Model):
    """A subclassed model: its layers are created by its constructor."""

    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = keras.layers.Dense(units, activation="relu")
        self.head = keras.layers.Dense(1)

    def call(self, x):
        return self.head(self.hidden(x))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="keras_regkit_tests")
class Scale(keras.layers.Layer):
    """A layer with a weight but no ``kernel_regularizer`` argument."""

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1],), name="kernel", initializer="ones"
        )

    def call(self, x):
        return x * self.kernel


def test_keras_hub_backbone_keeps_its_penalties(tmp_path):
    backbone = _backbone()
    strength = L2(schedules.Piecewise([2], [1e-3, 1e-2]))
    paths = rk.regularizers.apply(backbone, strength)
    strength._l2.update(3)  # as ScheduleCallback would at epoch 3
    before = helpers.penalties(backbone)
    assert len(paths) == len(before) == 6
    assert isinstance(backbone, keras_hub.models.ResNetBackbone)
    x = np.random.default_rng(0).random((2, 16, 12, 3), "float32")

    loaded = helpers.save_and_load(backbone, tmp_path / "a.keras")
    assert isinstance(loaded, keras_hub.models.ResNetBackbone)
    np.testing.assert_allclose(helpers.penalties(loaded), before, rtol=1e-6)
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), backbone.predict(x, verbose=0)
    )
    # One regularizer instance again, at the saved position.
    restored = {id(v.regularizer) for v in loaded.weights if v.regularizer}
    assert len(restored) == 1
    assert loaded.get_layer("conv1_conv").kernel.regularizer.l2 == 1e-2
    # The loaded model saves them again.
    again = helpers.save_and_load(loaded, tmp_path / "b.keras")
    np.testing.assert_allclose(helpers.penalties(again), before, rtol=1e-6)
    config = _saved_config(tmp_path / "b.keras")
    assert config["registered_name"] == "keras_regkit>RegularizersInConfig"
    assert config["config"]["model"]["class_name"] == "ResNetBackbone"


def test_backbone_inside_a_functional_model(tmp_path):
    backbone = _backbone()
    inputs = keras.Input((16, 12, 3))
    features = keras.layers.GlobalAveragePooling2D()(backbone(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(features))
    rk.regularizers.apply(
        model, L1(1e-4), layers=lambda layer: layer.name != "head"
    )
    before = helpers.penalties(model)
    assert len(before) == 6
    loaded = helpers.save_and_load(model, tmp_path / "m.keras")
    np.testing.assert_allclose(helpers.penalties(loaded), before, rtol=1e-6)


def test_subclassed_model(tmp_path):
    x, y = helpers.regression_data((4,), n=16)
    model = TwoDense()
    model.compile(keras.optimizers.SGD(0.01), "mse")
    model.fit(x, y, epochs=1, verbose=0)
    rk.regularizers.apply(model, L2(0.1))
    before = helpers.penalties(model)
    assert len(before) == 2
    loaded = helpers.save_and_load(model, tmp_path / "m.keras")
    assert isinstance(loaded, TwoDense)
    np.testing.assert_allclose(helpers.penalties(loaded), before, rtol=1e-6)
    np.testing.assert_allclose(
        loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0)
    )


def test_custom_layer_without_regularizer_argument(tmp_path):
    model = keras.Sequential([keras.Input((3,)), Scale(name="scale")])
    rk.regularizers.apply(model, L1(0.1))
    np.testing.assert_allclose(helpers.penalties(model), [0.3], rtol=1e-6)
    loaded = helpers.save_and_load(model, tmp_path / "m.keras")
    np.testing.assert_allclose(helpers.penalties(loaded), [0.3], rtol=1e-6)


def test_keras_applications_model_stays_a_plain_keras_model(tmp_path):
    model = keras.applications.MobileNet(
        input_shape=(32, 32, 3), alpha=0.25, weights=None, include_top=False
    )
    paths = rk.regularizers.apply(model, keras.regularizers.L2(1e-4))
    before = helpers.penalties(model)
    assert len(paths) == len(before) == 27  # 14 conv + 13 depthwise
    loaded = helpers.save_and_load(model, tmp_path / "m.keras")
    np.testing.assert_allclose(helpers.penalties(loaded), before, rtol=1e-6)
    # Its layers' configs save the regularizers: no wrapper in the file.
    assert type(loaded) is type(model) is type(keras.Model(*_io()))
    assert _saved_config(tmp_path / "m.keras")["class_name"] == "Functional"


def _io():
    inputs = keras.Input((1,))
    return inputs, inputs


def test_sequential_of_keras_layers_is_not_wrapped():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    rk.regularizers.apply(model, L2(0.1))
    assert type(model) is keras.Sequential


def test_rebuilt_model_that_differs_is_reported():
    model = TwoDense()
    model(np.zeros((1, 4), "float32"))
    records = [
        {
            "regularizer": keras.saving.serialize_keras_object(L2(0.1)),
            "weights": [{"layer": 1, "class_name": "Conv2D", "weight": "x"}],
        }
    ]
    match = "load_model: .*`regularizers`.*Conv2D"
    with pytest.raises(ValueError, match=match):
        _in_config.restore(model, records)

"""The demo's variants: records, and combining them."""

import numpy as np
import pytest

from keras_regkit.demo import cli
from keras_regkit.demo import data
from keras_regkit.demo import training
from keras_regkit.demo import variants


def test_combined_is_the_union_of_its_parts():
    setup = variants.Setup(num_examples=300, epochs=8, seed=5)
    combined = variants.get("combined")
    regularizer = combined.regularizer(setup)
    assert regularizer.get_config()["lam"] == variants.L2_LAMBDA
    assert regularizer.get_config()["num_examples"] == 300
    layers = combined.layers(setup)
    assert sorted(layers) == sorted(variants.SLOTS)
    assert type(layers["features"]).__name__ == "DropBlock2D"
    assert [type(c).__name__ for c in combined.callbacks(setup)] == [
        "ScheduleCallback",
        "EarlyStopping",
    ]
    assert combined.needs_validation and combined.strength is None
    assert [type(op).__name__ for op in combined.augmentation(setup)] == [
        "RandomTranslation",
        "RandomRotation",
        "RandomZoom",
    ]
    assert combined.wrap_model is None
    assert variants.get("none") == variants.Variant("none", "no regularization")


def test_combine_refuses_two_regularizers_and_a_shared_slot():
    l2 = variants.get("l2")
    with pytest.raises(ValueError, match="more than one part sets the reg"):
        variants.combine("x", "x", l2, l2)
    dropout = variants.get("dropout")
    twice = variants.combine("y", "y", dropout, dropout)
    with pytest.raises(ValueError, match="two parts fill the same slot"):
        twice.layers(variants.Setup(300, 8, 0))


def test_a_new_variant_is_one_record(monkeypatch):
    seen = []
    extra = variants.Variant(
        "marked",
        "a test record",
        wrap_model=lambda model, setup: seen.append(setup) or model,
    )
    monkeypatch.setattr(variants, "VARIANTS", [*variants.VARIANTS, extra])
    args = cli.parse_args(["--variants", "none,marked"])
    assert args.variants == ["none", "marked"]
    images = np.zeros((10, 8, 8, 1), "float32")
    labels = np.arange(10, dtype="int32") % 3
    splits = data.Splits(*[images, labels] * 3, num_classes=3, source="t")
    model = training.builder("marked", splits, epochs=1)()
    (setup,) = seen
    assert (setup.num_examples, setup.epochs, setup.strength) == (10, 1, None)
    assert model.output_shape == (None, 3)


def test_strengths_are_ascending_and_include_the_default():
    swept = [v for v in variants.VARIANTS if v.strength is not None]
    assert [v.name for v in swept] == ["l2", "dropout", "augment", "sam"]
    for variant in swept:
        values = variant.strength.values
        assert list(values) == sorted(values) and len(values) == 5
        assert variant.strength.default in values
    assert set(variants.DEFAULT_VARIANTS) <= set(variants.names())
    setup = variants.Setup(300, 8, 0, strength=0.6)
    assert setup.value(0.4) == 0.6
    assert variants.Setup(300, 8, 0).value(0.4) == 0.4

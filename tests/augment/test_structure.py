"""The structure adapter: what in a batch is an image, a label, a weight."""

import numpy as np
import pytest

from keras_regkit import augment as rka
from keras_regkit.augment._core import structure


def data(n=24, height=12, width=16):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, height, width, 3), dtype=np.uint8)
    y = rng.integers(0, 5, (n,))
    return x, y


def test_every_structure_keeps_its_shape():
    x, y = data(4)
    pipeline = rka.Pipeline([rka.RandomFlip()], seed=0)
    assert pipeline.augment(x, 1).shape == x.shape
    (images,) = pipeline.augment((x,), 1)
    assert images.shape == x.shape
    images, labels = pipeline.augment((x, y), 1)
    np.testing.assert_array_equal(labels, y)
    images, labels, weights = pipeline.augment((x, y, np.ones(4)), 1)
    np.testing.assert_array_equal(weights, 1.0)
    w = np.arange(4.0)
    out = pipeline.augment({"images": x, "labels": y, "sample_weights": w}, 1)
    assert sorted(out) == ["images", "labels", "sample_weights"]
    np.testing.assert_array_equal(out["sample_weights"], w)


def test_unpack_names_images_labels_and_sample_weights():
    x, y = data(4)
    w = np.arange(4.0)
    # Images alone: no labels; pack returns the images.
    images, labels, pack = structure.unpack(x)
    assert images is x and labels is None
    assert pack("new", None) == "new"
    # Tuples: (images,), (images, labels), (images, labels, weights).
    images, labels, pack = structure.unpack((x,))
    assert images is x and labels is None
    assert pack("new", None) == ("new",)
    images, labels, pack = structure.unpack((x, y))
    assert images is x and labels is y
    assert pack("new", "soft") == ("new", "soft")
    images, labels, pack = structure.unpack((x, y, w))
    assert images is x and labels is y
    assert pack("new", "soft") == ("new", "soft", w)
    # Dicts: the "images" key, optional "labels" and "sample_weights".
    images, labels, pack = structure.unpack({"images": x, "sample_weights": w})
    assert images is x and labels is None
    assert pack("new", None) == {"images": "new", "sample_weights": w}


def test_sample_weights_are_repeated_with_the_views():
    x, y = data(4)
    w = np.arange(4.0)
    _, _, pack = structure.unpack((x, y, w), views=3)
    np.testing.assert_array_equal(pack(x, y)[2], np.tile(w, 3))
    _, _, pack = structure.unpack({"images": x, "sample_weights": w}, views=2)
    np.testing.assert_array_equal(pack(x, None)["sample_weights"], [*w, *w])


def test_unknown_dict_key_raises_naming_the_key():
    x, _ = data(4)
    with pytest.raises(ValueError, match="cannot transform 'boxes'"):
        structure.unpack({"images": x, "boxes": x}, owner="Pipeline")
    with pytest.raises(ValueError, match="Pipeline: .*`data`.*'masks'"):
        structure.check_keys({"images": x, "masks": x}, owner="Pipeline")
    with pytest.raises(ValueError, match="`data`.*'images' key"):
        structure.check_keys({"pixels": x})
    # Not a dict: nothing to check.
    assert structure.check_keys((x,)) is None


def test_targets_are_known_keys_and_packed_back():
    x, _ = data(4)
    masks = np.zeros((4, 12, 16), "int32")
    data_ = {"images": x, "segmentation_masks": masks, "keypoints": x}
    assert structure.targets_of(data_) == {
        "segmentation_masks": masks,
        "keypoints": x,
    }
    images, labels, pack = structure.unpack(data_)
    assert images is x and labels is None
    out = pack("new", None, {"segmentation_masks": "moved"})
    assert out == {"images": "new", "segmentation_masks": "moved"}


def test_tuple_of_more_than_three_elements_raises():
    x, y = data(4)
    with pytest.raises(ValueError, match="a tuple of 4 elements"):
        structure.unpack((x, y, y, y))
    with pytest.raises(ValueError, match="a tuple of 0 elements"):
        structure.unpack(())
